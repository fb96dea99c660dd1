using System.Net;
using System.Security.Claims;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>
/// The session gate when its check runs in front of the endpoint (Auth0 the default scheme, no fallback policy):
/// the outcomes must stay those of the <c>Auth0.Session</c> policy it stands in for, whatever claims
/// transformations, policy providers, scheme combinations and middleware the app adds.
/// </summary>
[Collection(IdpCollection.Name)]
public class SessionGateHostileTests(IdpFixture idp)
{
    private const string OtherScheme = HeaderSchemeHandler.Scheme;
    private const string OtherUserHeader = HeaderSchemeHandler.UserHeader;

    private static string Sub(HttpContext context) =>
        string.Join(",", context.User.FindAll("sub").Select(c => c.Value).DefaultIfEmpty("-"));

    private static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/g/user", (HttpContext context) => Results.Text("user:" + Sub(context) + ":" + context.User.Identity?.IsAuthenticated))
            .RequireAuth0Session();
        app.MapGet("/g/page", (HttpContext context) => Results.Text("page:" + Sub(context))).RequireAuth0Login();
        app.MapGet("/g/marked", (HttpContext context) => Results.Text("marked:" + Sub(context) + ":" + context.User.HasClaim("transformed", "yes")))
            .RequireAuth0Session();
    }

    private static Task<TestApp> StartAsync(IdpFixture idp, Action<IServiceCollection>? services = null,
        Action<IServiceCollection>? servicesAfterAuth0 = null, Action<WebApplication>? endpoints = null) =>
        TestApp.StartAsync(idp, services: services, servicesAfterAuth0: servicesAfterAuth0, endpoints: app =>
        {
            endpoints?.Invoke(app);
            MapEndpoints(app);
        });

    private static string CookieFor(TestApp app, string sub = "auth0|alice")
    {
        var session = TestSessions.Session();
        session.User.Claims["sub"] = System.Text.Json.JsonSerializer.SerializeToElement(sub);
        var jar = new ResponseCookieJar();
        app.Services.GetRequiredService<SessionCookieStore>().Write(session, new TestCookies(), jar);
        return "__session=" + TestCookies.FromJar(jar)["__session"];
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(TestApp app, string path, string? cookies = null,
        string? otherUser = null, HttpMethod? method = null)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, app.BaseUrl + path);
        if (cookies is not null) request.Headers.Add("Cookie", cookies);
        if (otherUser is not null) request.Headers.Add(OtherUserHeader, otherUser);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    // Every RequireAuth0Session endpoint carries the Auth0.Session policy, so the authorization middleware (and any tool
    // that looks for authorization data) sees it as protected.
    private static bool HasSessionPolicy(TestApp app, string path) =>
        app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Single(e => e.RoutePattern.RawText == path && e.Metadata.GetMetadata<Auth0ErrorGate>() is not null)
            .Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any(d => d.Policy == Auth0.Minimal.AspNetCore.Auth0Defaults.SessionPolicy);

    // ---------------------------------------------------------------- claims transformations

    /// <summary>Signs a blocked user out for the rest of the request: an anonymous principal instead of theirs.</summary>
    private sealed class BlockMallory : IClaimsTransformation
    {
        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal) =>
            Task.FromResult(principal.HasClaim("sub", "auth0|mallory") ? new ClaimsPrincipal(new ClaimsIdentity()) : principal);
    }

    /// <summary>
    /// A claims transformation that turns a user into an anonymous principal (a blocked account). The Auth0.Session
    /// policy requires an authenticated user, so such a request was refused (403: authenticated by the scheme, but the
    /// requirement fails). An in-front check that did not find the Auth0 identity in
    /// HttpContext.User, authenticates again, and AuthenticateThenRunAsync only asks whether that result
    /// <c>Succeeded</c>, which it does (the transformed principal is anonymous): the endpoint runs for an anonymous
    /// user. With the policy gate (any fallback policy set) the same app answers 403.
    /// </summary>
    [Fact]
    public async Task A_user_that_a_claims_transformation_made_anonymous_does_not_pass_the_gate()
    {
        await using var app = await StartAsync(idp, services: s => s.AddTransient<IClaimsTransformation, BlockMallory>());
        Assert.True(HasSessionPolicy(app, "/g/user"));
        // Alice is not blocked.
        Assert.Equal((HttpStatusCode.OK, "user:auth0|alice:True"), await GetAsync(app, "/g/user", CookieFor(app)));
        var mallory = CookieFor(app, "auth0|mallory");
        var (status, body) = await GetAsync(app, "/g/user", mallory);
        Assert.True(status == HttpStatusCode.Forbidden, $"{(int)status} {body}");
        (status, body) = await GetAsync(app, "/g/page", mallory);
        Assert.True(status == HttpStatusCode.Forbidden, $"{(int)status} {body}");
    }

    [Fact]
    public async Task With_the_policy_gate_a_user_made_anonymous_by_a_claims_transformation_is_forbidden()
    {
        // The reference outcome for the test above: the same transformation with the gate in its policy form.
        await using var app = await StartAsync(idp, services: s =>
        {
            s.AddTransient<IClaimsTransformation, BlockMallory>();
            s.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build());
        });
        Assert.True(HasSessionPolicy(app, "/g/user"));
        Assert.Equal((HttpStatusCode.OK, "user:auth0|alice:True"), await GetAsync(app, "/g/user", CookieFor(app)));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(app, "/g/user", CookieFor(app, "auth0|mallory"))).Status);
    }

    /// <summary>Returns a copy of the principal with one more claim (a copy, so the Auth0 identity is not in it).</summary>
    private sealed class CloneAndMark : IClaimsTransformation
    {
        public int Calls;

        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            Interlocked.Increment(ref Calls);
            var copy = principal.Clone();
            if (copy.Identity is ClaimsIdentity identity && identity.IsAuthenticated) identity.AddClaim(new Claim("transformed", "yes"));
            return Task.FromResult(copy);
        }
    }

    /// <summary>Adds an identity of its own to the principal it was given.</summary>
    private sealed class AddIdentity : IClaimsTransformation
    {
        public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
        {
            if (!principal.Identities.Any(i => i.AuthenticationType == "extra"))
                principal.AddIdentity(new ClaimsIdentity([new Claim("transformed", "yes")], "extra"));
            return Task.FromResult(principal);
        }
    }

    [Theory]
    [InlineData("clone")]
    [InlineData("add-identity")]
    public async Task A_claims_transformation_that_copies_or_extends_the_principal_keeps_the_gate_and_its_claims(string kind)
    {
        var clone = new CloneAndMark();
        await using var app = await StartAsync(idp, services: s =>
        {
            if (kind == "clone") s.AddSingleton<IClaimsTransformation>(clone);
            else s.AddTransient<IClaimsTransformation, AddIdentity>();
        });
        Assert.True(HasSessionPolicy(app, "/g/marked"));
        Assert.Equal((HttpStatusCode.OK, "marked:auth0|alice:True"), await GetAsync(app, "/g/marked", CookieFor(app)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/marked")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/marked", "__session=junk")).Status);
    }

    /// <summary>
    /// Requests with the same cookie share the verified session, but what the endpoint gets (the user, the authenticate
    /// result and its properties) is its own: a change made by one request is not seen by the next. The result the
    /// authorization middleware leaves in the feature is the one the Auth0 scheme gave, same user and properties.
    /// </summary>
    [Fact]
    public async Task What_one_request_changes_in_its_user_or_authenticate_result_is_not_seen_by_the_next()
    {
        await using var app = await StartAsync(idp, endpoints: a => a.MapGet("/g/mutate", async (HttpContext context) =>
        {
            var feature = context.Features.Get<IAuthenticateResultFeature>()!.AuthenticateResult!;
            var again = await context.AuthenticateAsync();
            var seen = string.Join(",",
                context.User.HasClaim("leak", "yes"), context.User.Identities.Count(), feature.Properties!.Items.ContainsKey("leak"),
                again.Properties!.Items.ContainsKey("leak"), ReferenceEquals(feature.Principal, context.User),
                ReferenceEquals(feature.Properties, again.Properties), ReferenceEquals(again.Principal, context.User));
            ((ClaimsIdentity)context.User.Identity!).AddClaim(new Claim("leak", "yes"));
            context.User.AddIdentity(new ClaimsIdentity([new Claim("leak", "yes")], "extra"));
            feature.Properties.Items["leak"] = "yes";
            again.Properties.Items["leak"] = "yes";
            feature.Properties.Parameters["leak"] = "yes";
            return Results.Text(seen);
        }).RequireAuth0Session());
        var cookie = CookieFor(app);
        for (var i = 0; i < 3; i++)
            Assert.Equal((HttpStatusCode.OK, "False,1,False,False,True,True,True"), await GetAsync(app, "/g/mutate", cookie));
    }

    // ---------------------------------------------------------------- schemes and policy providers


    private static void AddOther(IServiceCollection services) =>
        services.Configure<AuthenticationOptions>(o => o.AddScheme<HeaderSchemeHandler>(OtherScheme, null));

    [Theory]
    [InlineData("authenticate-auth0-default-other")]
    [InlineData("default-auth0-authenticate-other")]
    [InlineData("policy-scheme-forwarding-to-auth0")]
    [InlineData("policy-scheme-forwarding-to-other")]
    [InlineData("challenge-other")]
    public async Task Every_combination_of_default_schemes_keeps_the_gates_outcomes(string setup)
    {
        await using var app = await StartAsync(idp, servicesAfterAuth0: s =>
        {
            AddOther(s);
            switch (setup)
            {
                case "authenticate-auth0-default-other":
                    s.Configure<AuthenticationOptions>(o => { o.DefaultScheme = OtherScheme; o.DefaultAuthenticateScheme = "Auth0"; });
                    break;
                case "default-auth0-authenticate-other":
                    s.Configure<AuthenticationOptions>(o => { o.DefaultScheme = "Auth0"; o.DefaultAuthenticateScheme = OtherScheme; });
                    break;
                case "policy-scheme-forwarding-to-auth0":
                case "policy-scheme-forwarding-to-other":
                    var target = setup.EndsWith("auth0", StringComparison.Ordinal) ? "Auth0" : OtherScheme;
                    s.AddAuthentication().AddPolicyScheme("smart", "smart", o => o.ForwardDefaultSelector = _ => target);
                    s.Configure<AuthenticationOptions>(o => o.DefaultScheme = "smart");
                    break;
                case "challenge-other":
                    s.Configure<AuthenticationOptions>(o => { o.DefaultChallengeScheme = OtherScheme; o.DefaultForbidScheme = OtherScheme; });
                    break;
            }
        });
        var cookie = CookieFor(app);
        Assert.Equal((HttpStatusCode.OK, "user:auth0|alice:True"), await GetAsync(app, "/g/user", cookie));
        Assert.Equal((HttpStatusCode.OK, "user:auth0|alice:True"), await GetAsync(app, "/g/user", cookie, otherUser: "bob"));
        // Without a session: the Auth0 challenge (401 JSON), never the other scheme's user or its challenge (418).
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/user")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/user", otherUser: "bob")).Status);
        Assert.Equal(HttpStatusCode.Found, (await GetAsync(app, "/g/page", otherUser: "bob")).Status);
    }

    /// <summary>A policy provider that brings its own fallback policy (AuthorizationOptions.FallbackPolicy stays null).</summary>
    private sealed class ProviderWithFallback(IOptions<AuthorizationOptions> options) : IAuthorizationPolicyProvider
    {
        private readonly DefaultAuthorizationPolicyProvider _inner = new(options);

        public Task<AuthorizationPolicy?> GetPolicyAsync(string policyName) => _inner.GetPolicyAsync(policyName);
        public Task<AuthorizationPolicy> GetDefaultPolicyAsync() => _inner.GetDefaultPolicyAsync();
        public Task<AuthorizationPolicy?> GetFallbackPolicyAsync() =>
            Task.FromResult<AuthorizationPolicy?>(new AuthorizationPolicyBuilder(OtherScheme).RequireAuthenticatedUser().Build());
    }

    /// <summary>
    /// A fallback policy from an <see cref="IAuthorizationPolicyProvider"/> rather than from AuthorizationOptions. The
    /// a check that looks only at <c>AuthorizationOptions.FallbackPolicy</c>
    /// so it checks in front and adds no authorization data; the authorization middleware then applies the
    /// provider's fallback policy to the gated endpoint, which the Auth0.Session policy (authorization data) kept off
    /// it (compare SessionGateTests.A_fallback_policy_does_not_apply_to_RequireAuth0Session_endpoints). An Auth0 user
    /// gets the other scheme's challenge.
    /// </summary>
    [Fact]
    public async Task A_fallback_policy_from_a_policy_provider_does_not_apply_to_gated_endpoints()
    {
        await using var app = await StartAsync(idp,
            services: s => s.AddSingleton<IAuthorizationPolicyProvider, ProviderWithFallback>(),
            servicesAfterAuth0: AddOther);
        Assert.Equal((HttpStatusCode)418, (await GetAsync(app, "/plain")).Status); // the fallback policy is in force
        var (status, body) = await GetAsync(app, "/g/user", CookieFor(app));
        Assert.True(status == HttpStatusCode.OK && body == "user:auth0|alice:True", $"{(int)status} {body}");
    }

    // ---------------------------------------------------------------- middleware between authorization and the endpoint

    /// <summary>Caches signed-in responses too (shared content for members); the default policy would refuse them.</summary>
    private sealed class CacheForMembers : IOutputCachePolicy
    {
        public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
        {
            context.EnableOutputCaching = true;
            context.AllowCacheLookup = true;
            context.AllowCacheStorage = true;
            context.AllowLocking = true;
            context.ResponseExpirationTimeSpan = TimeSpan.FromMinutes(5);
            return ValueTask.CompletedTask;
        }

        public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

        public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
        {
            context.AllowCacheStorage = context.HttpContext.Response.StatusCode == 200;
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Output caching after the authorization middleware (the usual order). The Auth0.Session policy turned an
    /// anonymous request away in the authorization middleware, before the output cache could answer it; the in-front
    /// check runs inside the endpoint's RequestDelegate, which a cache hit never reaches: the members-only response
    /// cached for Alice is served to a request without any cookie.
    /// </summary>
    [Fact]
    public async Task A_cached_response_of_a_gated_endpoint_is_not_served_to_an_anonymous_request()
    {
        await using var app = await StartAsync(idp, services: s => s.AddOutputCache(), endpoints: web =>
        {
            web.UseOutputCache();
            web.MapGet("/g/members", (HttpContext context) => Results.Text("members-only for " + Sub(context)))
                .RequireAuth0Session().CacheOutput(b => b.AddPolicy<CacheForMembers>());
        });
        Assert.Equal((HttpStatusCode.OK, "members-only for auth0|alice"), await GetAsync(app, "/g/members", CookieFor(app)));
        var (status, body) = await GetAsync(app, "/g/members");
        Assert.True(status == HttpStatusCode.Unauthorized, $"{(int)status} {body}");
    }

    [Fact]
    public async Task With_the_policy_gate_a_cached_response_of_a_gated_endpoint_is_not_served_to_an_anonymous_request()
    {
        // The reference outcome for the test above: the same app with the gate in its policy form.
        await using var app = await StartAsync(idp, services: s =>
        {
            s.AddOutputCache();
            s.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build());
        }, endpoints: web =>
        {
            web.UseOutputCache();
            web.MapGet("/g/members", (HttpContext context) => Results.Text("members-only for " + Sub(context)))
                .RequireAuth0Session().CacheOutput(b => b.AddPolicy<CacheForMembers>());
        });
        Assert.True(HasSessionPolicy(app, "/g/members"));
        Assert.Equal((HttpStatusCode.OK, "members-only for auth0|alice"), await GetAsync(app, "/g/members", CookieFor(app)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/members")).Status);
    }

    [Fact]
    public async Task A_middleware_that_ends_the_session_before_the_endpoint_gets_the_same_answer_as_with_the_policy()
    {
        // Deleting the session after authentication (a logout in a middleware) leaves HttpContext.User as it was: the
        // policy gate let the request through then too (the handler's result is per request); pinned here.
        await using var app = await StartAsync(idp, endpoints: web => web.Use(async (context, next) =>
        {
            if (context.Request.Query.ContainsKey("delete")) Auth0RequestState.For(context).Delete();
            await next(context);
        }));
        var cookie = CookieFor(app);
        Assert.Equal((HttpStatusCode.OK, "user:auth0|alice:True"), await GetAsync(app, "/g/user?delete=1", cookie));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "/g/user?delete=1")).Status);
    }

    // ---------------------------------------------------------------- SignalR

    private sealed class EchoHub : Hub
    {
        public string Who() => Context.User?.FindFirst("sub")?.Value ?? "-";
    }

    [Fact]
    public async Task A_hub_behind_RequireAuth0Session_negotiates_only_with_a_session()
    {
        await using var app = await StartAsync(idp, services: s => s.AddSignalR(), endpoints: web => web.MapHub<EchoHub>("/hub").RequireAuth0Session());
        var (status, body) = await GetAsync(app, "/hub/negotiate?negotiateVersion=1", method: HttpMethod.Post);
        Assert.True(status == HttpStatusCode.Unauthorized, $"{(int)status} {body}");
        (status, body) = await GetAsync(app, "/hub/negotiate?negotiateVersion=1", "__session=junk", method: HttpMethod.Post);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        (status, body) = await GetAsync(app, "/hub/negotiate?negotiateVersion=1", CookieFor(app), method: HttpMethod.Post);
        Assert.True(status == HttpStatusCode.OK && body.Contains("connectionToken", StringComparison.Ordinal), $"{(int)status} {body}");
        // The connection endpoint itself (a long-polling request for a made-up id) is gated as well.
        (status, _) = await GetAsync(app, "/hub?id=made-up");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }
}
