using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Sample;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class OpenApiTests(IdpFixture idp)
{
    private const string Schemas = "#/components/schemas/";

    private static async Task<JsonElement> Document(string baseUrl, string name = "v1")
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(baseUrl + "/openapi/" + name + ".json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string[] Names(JsonElement obj) => [.. obj.EnumerateObject().Select(p => p.Name)];

    private static string? Ref(JsonElement response) =>
        response.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();

    private static JsonElement Schema(JsonElement document, string reference)
    {
        Assert.StartsWith(Schemas, reference);
        return document.GetProperty("components").GetProperty("schemas").GetProperty(reference[Schemas.Length..]);
    }

    private static string[] Security(JsonElement operation) =>
        operation.TryGetProperty("security", out var security) ? [.. security.EnumerateArray().SelectMany(Names)] : [];

    [Fact]
    public async Task Document_describes_the_json_routes_and_the_session_cookie_and_leaves_out_the_redirects()
    {
        await using var app = await TestApp.StartAsync(idp);
        var document = await Document(app.BaseUrl);
        var paths = document.GetProperty("paths");

        // Only the two JSON routes of the Auth0 group; login, callback, logout, connect and back-channel logout are mapped but left out.
        Assert.Equal(["/auth/access-token", "/auth/profile"], Names(paths).Where(p => p.StartsWith("/auth/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        var profile = paths.GetProperty("/auth/profile").GetProperty("get");
        Assert.Equal("Auth0Profile", profile.GetProperty("operationId").GetString());
        var profileOk = profile.GetProperty("responses").GetProperty("200");
        var user = Schema(document, Ref(profileOk)!);
        Assert.Equal("object", user.GetProperty("type").GetString());
        Assert.Subset(Names(user.GetProperty("properties")).ToHashSet(), new HashSet<string> { "sub", "name", "email", "email_verified", "picture" });
        Assert.Equal(JsonValueKind.Object, user.GetProperty("additionalProperties").ValueKind); // any other claim
        Assert.False(profile.GetProperty("responses").GetProperty("401").TryGetProperty("content", out _)); // empty body

        var token = paths.GetProperty("/auth/access-token").GetProperty("get");
        Assert.Equal(["audience", "scope", "mergeScopes"], token.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.All(token.GetProperty("parameters").EnumerateArray(), p => Assert.Equal("query", p.GetProperty("in").GetString()));
        var tokenOk = Schema(document, Ref(token.GetProperty("responses").GetProperty("200"))!);
        Assert.Equal(["token", "scope", "expires_at", "expires_in", "token_type"], Names(tokenOk.GetProperty("properties")));
        Assert.Equal("integer", tokenOk.GetProperty("properties").GetProperty("expires_at").GetProperty("type").GetString());
        var error = Schema(document, Ref(token.GetProperty("responses").GetProperty("401"))!);
        Assert.Equal(["error"], Names(error.GetProperty("properties")));
        Assert.Equal(["message", "code"], Names(error.GetProperty("properties").GetProperty("error").GetProperty("properties")));

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Auth0Session");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("cookie", scheme.GetProperty("in").GetString());
        Assert.Equal("__session", scheme.GetProperty("name").GetString());

        Assert.Equal(["Auth0Session"], Security(profile));
        Assert.Equal(["Auth0Session"], Security(token));
        Assert.Equal(["Auth0Session"], Security(paths.GetProperty("/api/me").GetProperty("get")));   // RequireAuth0Session
        Assert.Equal(["Auth0Session"], Security(paths.GetProperty("/page").GetProperty("get")));     // RequireAuth0Login
        // Plain authorization authenticates with the default scheme, which is Auth0.
        Assert.Equal(["Auth0Session"], Security(paths.GetProperty("/authorized").GetProperty("get"))); // RequireAuthorization()
        Assert.Equal(["Auth0Session"], Security(paths.GetProperty("/attribute").GetProperty("get")));  // [Authorize]
        Assert.Equal(["Auth0Session"], Security(paths.GetProperty("/admin").GetProperty("get")));      // a role policy
        Assert.Empty(Security(paths.GetProperty("/plain").GetProperty("get")));
        Assert.Empty(Security(paths.GetProperty("/accounts").GetProperty("get")));
    }

    [Fact]
    public async Task Described_shapes_are_what_the_routes_answer()
    {
        await using var app = await TestApp.StartAsync(idp);
        var document = await Document(app.BaseUrl);
        var paths = document.GetProperty("paths");
        using var browser = new TestBrowser();

        var signedOut = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
        Assert.Equal(HttpStatusCode.Unauthorized, signedOut.StatusCode);
        var error = Schema(document, Ref(paths.GetProperty("/auth/access-token").GetProperty("get").GetProperty("responses").GetProperty("401"))!);
        var errorBody = await signedOut.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Names(error.GetProperty("properties")), Names(errorBody));
        Assert.Equal(["code", "message"], Names(errorBody.GetProperty("error")).Order(StringComparer.Ordinal));

        await browser.LoginAsync(app);
        var token = await (await browser.GetAsync(app.BaseUrl + "/auth/access-token?audience=https://orders.example.com")).Content.ReadFromJsonAsync<JsonElement>();
        var tokenSchema = Schema(document, Ref(paths.GetProperty("/auth/access-token").GetProperty("get").GetProperty("responses").GetProperty("200"))!);
        Assert.Subset(Names(tokenSchema.GetProperty("properties")).ToHashSet(), Names(token).ToHashSet());
        Assert.Subset(Names(token).ToHashSet(), tokenSchema.GetProperty("required").EnumerateArray().Select(r => r.GetString()!).ToHashSet());

        var user = await (await browser.GetAsync(app.BaseUrl + "/auth/profile")).Content.ReadFromJsonAsync<JsonElement>();
        var userSchema = Schema(document, Ref(paths.GetProperty("/auth/profile").GetProperty("get").GetProperty("responses").GetProperty("200"))!);
        Assert.Subset(Names(user).ToHashSet(), userSchema.GetProperty("required").EnumerateArray().Select(r => r.GetString()!).ToHashSet());
        foreach (var claim in user.EnumerateObject())
            if (userSchema.GetProperty("properties").TryGetProperty(claim.Name, out var described))
                Assert.Equal(described.GetProperty("type").GetString(), claim.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? "boolean" : "string");
    }

    [Fact]
    public async Task Security_scheme_names_the_configured_session_cookie()
    {
        await using var app = await TestApp.StartAsync(idp, options: o => o.Session.Cookie.Name = "app_session");
        var document = await Document(app.BaseUrl);

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Auth0Session");
        Assert.Equal("app_session", scheme.GetProperty("name").GetString());
    }

    // What MapAuth0Generated emits for [Auth0Config(LoginPath = "/account/signin", ProfilePath = "/account/me",
    // EnableAccessTokenEndpoint = false)]: the document follows the endpoints the app maps, not the default paths.
    [Fact]
    public async Task Customised_paths_are_described_where_they_are_mapped_and_an_unmapped_route_not_at_all()
    {
        var routes = new Auth0Routes { Login = "/account/signin", Profile = "/account/me", EnableAccessTokenEndpoint = false };
        await using var app = await StartAsync(routes, _ => { }, app =>
        {
            Map(app, Auth0RouteKind.Login, routes.Login, Auth0Handlers.LoginAsync).ExcludeFromDescription();
            Map(app, Auth0RouteKind.Profile, routes.Profile, Auth0Handlers.ProfileAsync);
        });
        var baseUrl = BaseUrl(app);

        var paths = (await Document(baseUrl)).GetProperty("paths");

        Assert.Equal(["/account/me"], Names(paths));
        Assert.Equal("Auth0Profile", paths.GetProperty("/account/me").GetProperty("get").GetProperty("operationId").GetString());
        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(baseUrl + "/account/me")).StatusCode); // the path described is the one served
    }

    [Fact]
    public async Task Json_routes_and_protected_endpoints_follow_the_usual_description_conventions()
    {
        var routes = new Auth0Routes();
        await using var app = await StartAsync(routes, services =>
        {
            services.AddOpenApi("internal", o => o.AddAuth0());
            services.AddAuthentication().AddCookie("Other");
        }, app =>
        {
            Map(app, Auth0RouteKind.Profile, routes.Profile, Auth0Handlers.ProfileAsync).WithGroupName("internal");
            Map(app, Auth0RouteKind.AccessToken, routes.AccessToken, Auth0Handlers.AccessTokenAsync).ExcludeFromDescription();
            app.MapGet("/open", () => "open").RequireAuth0Session().AllowAnonymous();
            app.MapGet("/other", () => "other").RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = "Other" });
            app.MapGet("/either", () => "either").RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = "Other, Auth0" });
        });

        var v1 = (await Document(BaseUrl(app))).GetProperty("paths");
        Assert.Equal(["/either", "/open", "/other"], Names(v1).Order(StringComparer.Ordinal));
        Assert.Empty(Security(v1.GetProperty("/open").GetProperty("get"))); // AllowAnonymous wins over the session requirement
        Assert.Empty(Security(v1.GetProperty("/other").GetProperty("get"))); // another scheme's cookie, not the session
        Assert.Equal(["Auth0Session"], Security(v1.GetProperty("/either").GetProperty("get")));
        // Like any endpoint without a group name, the others are in both documents.
        Assert.Equal(["/auth/profile", "/either", "/open", "/other"],
            Names((await Document(BaseUrl(app), "internal")).GetProperty("paths")).Order(StringComparer.Ordinal));
    }

    private static IEndpointConventionBuilder Map(WebApplication app, Auth0RouteKind kind, string path, RequestDelegate handler) =>
        app.MapGet(path, handler).WithName("Auth0" + kind).WithMetadata(new Auth0RouteMetadata(kind));

    private static string BaseUrl(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

    // An app that maps the Auth0 handlers itself, as the generated code does for a given configuration.
    private async Task<WebApplication> StartAsync(Auth0Routes routes, Action<IServiceCollection> services, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = idp.Issuer,
            ["AUTH0_CLIENT_ID"] = LocalIdentityProvider.ClientId,
            ["AUTH0_CLIENT_SECRET"] = LocalIdentityProvider.ClientSecret,
            ["AUTH0_SECRET"] = TestApp.Secret,
            ["APP_BASE_URL"] = "http://127.0.0.1",
            ["AUTH0_ALLOW_INSECURE_REQUESTS"] = "true",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAuth0Core(builder.Configuration, routes);
        builder.Services.AddOpenApi(o => o.AddAuth0());
        services(builder.Services);
        var app = builder.Build();
        map(app);
        app.MapOpenApi();
        await app.StartAsync();
        return app;
    }
}
