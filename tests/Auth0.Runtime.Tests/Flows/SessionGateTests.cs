using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>
/// RequireAuth0Session / RequireAuth0Login in front of the endpoint: the outcomes an authorization policy naming the
/// Auth0 scheme gave, and SDK errors answered as JSON, for delegate and RequestDelegate endpoints alike.
/// </summary>
[Collection(IdpCollection.Name)]
public class SessionGateTests(IdpFixture idp)
{
    private const string OtherScheme = HeaderSchemeHandler.Scheme;
    private const string OtherUserHeader = HeaderSchemeHandler.UserHeader;

    private static Task<TestApp> StartAsync(IdpFixture idp, Action<IServiceCollection>? services = null, Action<IServiceCollection>? servicesAfterAuth0 = null) =>
        TestApp.StartAsync(idp, services: services, servicesAfterAuth0: servicesAfterAuth0, endpoints: MapGateEndpoints);

    /// <summary>Another scheme made the default after the Auth0 one: it signs in whoever sends <see cref="OtherUserHeader"/>.</summary>
    private static void OtherSchemeAsDefault(IServiceCollection services)
    {
        services.AddAuthentication(o => o.DefaultScheme = OtherScheme);
        services.Configure<AuthenticationOptions>(o => o.AddScheme<HeaderSchemeHandler>(OtherScheme, null));
    }

    private static string Sub(HttpContext context) =>
        string.Join(",", context.User.FindAll("sub").Select(c => c.Value).DefaultIfEmpty("-"));

    private static Exception Failure(string kind) => kind switch
    {
        "token" => new AccessTokenException(Auth0ErrorCodes.FailedToRefreshToken, "The access token could not be refreshed."),
        "mfa" => new AccessTokenException("mfa_required", "Multi-factor authentication is required.", new OAuth2Exception("mfa_required", "MFA", 403)),
        "connect" => new ConnectAccountException("connect_account_error", "The account could not be connected.", 409),
        "store" => new SessionStoreUnavailableException(new IOException("down")),
        "discovery" => new Auth0Exception(Auth0ErrorCodes.DiscoveryError, "The discovery document could not be read."),
        _ => new InvalidOperationException("an application bug"),
    };

    private static void MapGateEndpoints(WebApplication app)
    {
        app.MapGet("/gate/open", (HttpContext context) => Results.Text("open:" + Sub(context))).RequireAuth0Session().AllowAnonymous();
        app.MapGet("/gate/user", (HttpContext context) => Results.Text("user:" + Sub(context))).RequireAuth0Session();
        app.MapGet("/gate/page", (HttpContext context) => Results.Text("page:" + Sub(context))).RequireAuth0Login();
        app.MapGet("/gate/raw", (RequestDelegate)(context => context.Response.WriteAsync("raw:" + Sub(context)))).RequireAuth0Session();
        app.MapGet("/gate/twice", (HttpContext context) => Results.Text("twice:" + Sub(context))).RequireAuth0Session().RequireAuth0Session();
        app.MapGet("/gate/with-policy", (HttpContext context) => Results.Text("policy:" + Sub(context)))
            .RequireAuth0Session().RequireAuthorization(p => p.RequireClaim("sub", "auth0|alice"));

        var group = app.MapGroup("/gate/group").RequireAuth0Session();
        group.MapGet("/closed", (HttpContext context) => Results.Text("closed:" + Sub(context)));
        group.MapGet("/open", (HttpContext context) => Results.Text("open:" + Sub(context))).AllowAnonymous();
        group.MapGet("/attribute-open", [AllowAnonymous] (HttpContext context) => Results.Text("attribute-open:" + Sub(context)));
        group.MapGet("/raw-open", (RequestDelegate)(context => context.Response.WriteAsync("raw-open:" + Sub(context)))).AllowAnonymous();
        group.MapGet("/twice", (HttpContext context) => Results.Text("twice:" + Sub(context))).RequireAuth0Session();
        group.MapGet("/raw-twice", (RequestDelegate)(context => context.Response.WriteAsync("raw-twice:" + Sub(context)))).RequireAuth0Session();

        app.MapGet("/gate/throw/{kind}", IResult (string kind) => throw Failure(kind)).RequireAuth0Session();
        app.MapGet("/gate/throw-async/{kind}", async Task<IResult> (string kind) =>
        {
            await Task.Yield();
            throw Failure(kind);
        }).RequireAuth0Session();
        app.MapGet("/gate/raw-throw/{kind}", (RequestDelegate)(async context =>
        {
            await Task.Yield();
            throw Failure((string)context.Request.RouteValues["kind"]!);
        })).RequireAuth0Session();
        app.MapGet("/gate/raw-throw-sync/{kind}", (RequestDelegate)(context => throw Failure((string)context.Request.RouteValues["kind"]!)))
            .RequireAuth0Session();
        app.MapGet("/gate/open-throw/{kind}", IResult (string kind) => throw Failure(kind)).RequireAuth0Session().AllowAnonymous();
        app.MapGet("/gate/page-throw/{kind}", IResult (string kind) => throw Failure(kind)).RequireAuth0Login();
        app.MapGroup("/gate/group-throw").RequireAuth0Session().MapGet("/{kind}", (RequestDelegate)(context =>
            throw Failure((string)context.Request.RouteValues["kind"]!))).RequireAuth0Session();
    }

    private static string CookieFor(TestApp app)
    {
        var jar = new ResponseCookieJar();
        app.Services.GetRequiredService<SessionCookieStore>().Write(TestSessions.Session(), new TestCookies(), jar);
        return "__session=" + TestCookies.FromJar(jar)["__session"];
    }

    private static async Task<HttpResponseMessage> GetAsync(TestApp app, string path, string? cookies = null, string? otherUser = null)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + path);
        if (cookies is not null) request.Headers.Add("Cookie", cookies);
        if (otherUser is not null) request.Headers.Add(OtherUserHeader, otherUser);
        return await http.SendAsync(request);
    }

    private static async Task AssertNotAuthenticatedAsync(HttpResponseMessage response, string path)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path}: {(int)response.StatusCode}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("not_authenticated", body.RootElement.GetProperty("error").GetString());
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
    }

    private static async Task AssertTextAsync(HttpResponseMessage response, string expected, string path)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_AllowAnonymous_endpoint_behind_RequireAuth0Session_is_open_without_a_session_and_sees_the_user_with_one()
    {
        await using var app = await StartAsync(idp);
        foreach (var (path, name) in ((string, string)[])[("/gate/open", "open"), ("/gate/group/open", "open"),
                     ("/gate/group/attribute-open", "attribute-open"), ("/gate/group/raw-open", "raw-open")])
        {
            await AssertTextAsync(await GetAsync(app, path), name + ":-", path);
            await AssertTextAsync(await GetAsync(app, path, CookieFor(app)), name + ":auth0|alice", path);
        }
        // The rest of the group stays closed.
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/group/closed"), "/gate/group/closed");
        await AssertTextAsync(await GetAsync(app, "/gate/group/closed", CookieFor(app)), "closed:auth0|alice", "/gate/group/closed");
    }

    [Fact]
    public async Task A_RequestDelegate_endpoint_needs_a_session_like_a_delegate_endpoint()
    {
        await using var app = await StartAsync(idp);
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/raw"), "/gate/raw");
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/raw", "__session=not-a-session"), "/gate/raw");
        await AssertTextAsync(await GetAsync(app, "/gate/raw", CookieFor(app)), "raw:auth0|alice", "/gate/raw");
    }

    [Fact]
    public async Task With_another_default_scheme_a_protected_endpoint_sees_the_Auth0_user_and_gets_the_Auth0_challenge()
    {
        await using var app = await StartAsync(idp, servicesAfterAuth0: OtherSchemeAsDefault);
        var cookie = CookieFor(app);

        // The default scheme is really the other one: an unprotected endpoint sees its user.
        Assert.Equal("plain", await (await GetAsync(app, "/plain", otherUser: "bob")).Content.ReadAsStringAsync());

        foreach (var path in (string[])["/gate/user", "/gate/raw", "/gate/group/closed"])
        {
            var name = path.Split('/')[^1];
            await AssertNotAuthenticatedAsync(await GetAsync(app, path), path);
            // The other scheme's user is not an Auth0 session, and its challenge (418) is not the one given.
            await AssertNotAuthenticatedAsync(await GetAsync(app, path, otherUser: "bob"), path);
            await AssertTextAsync(await GetAsync(app, path, cookie), name + ":auth0|alice", path);
            await AssertTextAsync(await GetAsync(app, path, cookie, otherUser: "bob"), name + ":auth0|alice", path);
        }

        var page = await GetAsync(app, "/gate/page?x=1");
        Assert.Equal(HttpStatusCode.Found, page.StatusCode);
        Assert.Equal(app.BaseUrl + "/auth/login?returnTo=" + Uri.EscapeDataString("/gate/page?x=1"), page.Headers.Location!.ToString());
        await AssertTextAsync(await GetAsync(app, "/gate/page", cookie, otherUser: "bob"), "page:auth0|alice", "/gate/page");
    }

    [Fact]
    public async Task With_another_default_scheme_an_AllowAnonymous_endpoint_behind_RequireAuth0Session_still_sees_the_Auth0_user()
    {
        // RequireAuthorization(policy naming Auth0) authenticated with the Auth0 scheme even on an [AllowAnonymous]
        // endpoint (the authorization middleware populates the user before letting it through).
        await using var app = await StartAsync(idp, servicesAfterAuth0: OtherSchemeAsDefault);
        await AssertTextAsync(await GetAsync(app, "/gate/group/open", CookieFor(app), otherUser: "bob"), "open:auth0|alice", "/gate/group/open");
        await AssertTextAsync(await GetAsync(app, "/gate/open", CookieFor(app)), "open:auth0|alice", "/gate/open");
    }

    [Fact]
    public async Task With_another_default_scheme_a_policy_next_to_RequireAuth0Session_is_checked_against_the_Auth0_user()
    {
        // Before, RequireAuth0Session's policy named the Auth0 scheme and was combined with the endpoint's other
        // policies: the whole combination was evaluated against the Auth0 user.
        await using var app = await StartAsync(idp, servicesAfterAuth0: OtherSchemeAsDefault);
        await AssertTextAsync(await GetAsync(app, "/gate/with-policy", CookieFor(app)), "policy:auth0|alice", "/gate/with-policy");
        await AssertTextAsync(await GetAsync(app, "/gate/with-policy", CookieFor(app), otherUser: "bob"), "policy:auth0|alice", "/gate/with-policy");
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/with-policy"), "/gate/with-policy");
    }

    [Fact]
    public async Task A_fallback_policy_does_not_apply_to_RequireAuth0Session_endpoints()
    {
        // The fallback policy is for endpoints without authorization data; RequireAuth0Session used to be such data.
        await using var app = await StartAsync(idp, services: s => s.AddAuthorization(o =>
            o.FallbackPolicy = new AuthorizationPolicyBuilder(OtherScheme).RequireAuthenticatedUser().Build()),
            servicesAfterAuth0: s => s.Configure<AuthenticationOptions>(o => o.AddScheme<HeaderSchemeHandler>(OtherScheme, null)));
        Assert.Equal((HttpStatusCode)418, (await GetAsync(app, "/plain")).StatusCode); // the fallback policy is in force
        await AssertTextAsync(await GetAsync(app, "/gate/user", CookieFor(app)), "user:auth0|alice", "/gate/user");
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/user", otherUser: "bob"), "/gate/user");
    }

    [Fact]
    public async Task RequireAuth0Session_protects_an_endpoint_whose_convention_builder_only_passes_conventions_on()
    {
        // Libraries wrap the builder they get from Map (GraphQL ones, for example) and implement only Add;
        // RequireAuthorization went through Add.
        await using var app = await TestApp.StartAsync(idp, endpoints: app =>
        {
            new ConventionsOnly(app.MapGet("/gate/wrapped", (HttpContext context) => Results.Text("wrapped:" + Sub(context)))).RequireAuth0Session();
            new ConventionsOnly(app.MapGet("/gate/wrapped-page", (HttpContext context) => Results.Text("wrapped-page:" + Sub(context)))).RequireAuth0Login();
        });
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/wrapped"), "/gate/wrapped");
        await AssertTextAsync(await GetAsync(app, "/gate/wrapped", CookieFor(app)), "wrapped:auth0|alice", "/gate/wrapped");
        var page = await GetAsync(app, "/gate/wrapped-page");
        Assert.Equal(HttpStatusCode.Found, page.StatusCode);
        Assert.StartsWith(app.BaseUrl + "/auth/login?returnTo=", page.Headers.Location!.ToString());
    }

    public static TheoryData<string, int, string> SdkFailures => new()
    {
        { "token", 401, Auth0ErrorCodes.FailedToRefreshToken },
        { "mfa", 403, "mfa_required" },
        { "connect", 409, "connect_account_error" },
        { "store", 503, "session_store_unavailable" },
        { "discovery", 502, Auth0ErrorCodes.DiscoveryError },
    };

    [Theory]
    [MemberData(nameof(SdkFailures))]
    public async Task An_SDK_error_escaping_a_protected_endpoint_is_its_JSON_answer_for_every_kind_of_endpoint(string kind, int status, string code)
    {
        await using var app = await StartAsync(idp);
        var cookie = CookieFor(app);
        foreach (var (path, withSession) in ((string, bool)[])[("/gate/throw/", true), ("/gate/throw-async/", true),
                     ("/gate/raw-throw/", true), ("/gate/raw-throw-sync/", true), ("/gate/page-throw/", true), ("/gate/group-throw/", true),
                     ("/gate/open-throw/", false), ("/gate/open-throw/", true)])
        {
            var response = await GetAsync(app, path + kind, withSession ? cookie : null);
            var where = $"{path}{kind} (session: {withSession})";
            Assert.True((int)response.StatusCode == status, $"{where}: {(int)response.StatusCode}");
            Assert.StartsWith("application/json", response.Content.Headers.ContentType!.ToString());
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(code, body.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal(Failure(kind).Message, body.RootElement.GetProperty("error").GetProperty("message").GetString());
        }
    }

    [Fact]
    public async Task An_application_error_escaping_a_protected_endpoint_stays_the_servers_own_500()
    {
        await using var app = await StartAsync(idp);
        var cookie = CookieFor(app);
        foreach (var path in (string[])["/gate/throw/bug", "/gate/raw-throw/bug", "/gate/open-throw/bug"])
        {
            var response = await GetAsync(app, path, cookie);
            Assert.True(response.StatusCode == HttpStatusCode.InternalServerError, $"{path}: {(int)response.StatusCode}");
            Assert.DoesNotContain("\"code\"", await response.Content.ReadAsStringAsync());
        }
        // A protected endpoint is still checked first.
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/throw/bug"), "/gate/throw/bug");
        await AssertNotAuthenticatedAsync(await GetAsync(app, "/gate/raw-throw/token"), "/gate/raw-throw/token");
    }

    [Fact]
    public async Task RequireAuth0Session_applied_twice_puts_one_gate_in_front_of_the_endpoint()
    {
        await using var app = await StartAsync(idp);
        var cookie = CookieFor(app);
        foreach (var path in (string[])["/gate/twice", "/gate/group/twice", "/gate/group/raw-twice"])
        {
            await AssertNotAuthenticatedAsync(await GetAsync(app, path), path);
            await AssertTextAsync(await GetAsync(app, path, cookie), path.Split('/')[^1] + ":auth0|alice", path);
        }

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        foreach (var pattern in (string[])["/gate/twice", "/gate/group/twice", "/gate/group/raw-twice", "/gate/group-throw/{kind}", "/gate/user", "/gate/group/open"])
        {
            var endpoint = Assert.Single(endpoints, e => e.RoutePattern.RawText == pattern);
            Assert.Single(endpoint.Metadata.OfType<Auth0ErrorGate>());
        }
        // The session is checked by the Auth0.Session policy, so the endpoint carries it as authorization data.
        foreach (var pattern in (string[])["/gate/group/open", "/gate/group/twice"])
        {
            var endpoint = endpoints.Single(e => e.RoutePattern.RawText == pattern);
            Assert.Contains(endpoint.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>(),
                d => d.Policy == Auth0.Minimal.AspNetCore.Auth0Defaults.SessionPolicy);
        }
    }

    /// <summary>A convention builder of the kind libraries return: conventions passed on, Finally left to the interface's default.</summary>
    private sealed class ConventionsOnly(IEndpointConventionBuilder inner) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention) => inner.Add(convention);
    }

}
