using System.Net;
using System.Net.Sockets;
using Auth0.Minimal.Sample;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.Tests.Support;

[Auth0Config(EnableConnectAccountEndpoint = true)]
[Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders", BaseAddress = "https://orders.example.com/")]
[Auth0Api("Analytics", Audience = "https://analytics.example.com", Scope = "read:analytics")]
[Auth0Claim("https://example.com/roles", typeof(string[]))]
public partial class TestAuthConfig;

/// <summary>A real Kestrel app on 127.0.0.1 wired exactly as a user would: AddAuth0Generated + MapAuth0Generated, and OpenAPI.</summary>
public sealed class TestApp : IAsyncDisposable
{
    public const string Secret = "e2e-test-secret-0123456789abcdefghijklmnopqrstuv";
    private readonly WebApplication _app;

    private TestApp(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>The port a later app should listen on to replace this one (a restart).</summary>
    public int Port => new Uri(BaseUrl).Port;

    public static async Task<TestApp> StartAsync(IdpFixture idp, Action<Dictionary<string, string?>>? configure = null,
        Action<Auth0Options>? options = null, Action<IServiceCollection>? services = null, int? port = null,
        Action<IServiceCollection>? servicesAfterAuth0 = null, Action<WebApplication>? endpoints = null)
    {
        port ??= FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var values = new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = idp.Issuer,
            ["AUTH0_CLIENT_ID"] = LocalIdentityProvider.ClientId,
            ["AUTH0_CLIENT_SECRET"] = LocalIdentityProvider.ClientSecret,
            ["AUTH0_SECRET"] = Secret,
            ["APP_BASE_URL"] = baseUrl,
            ["AUTH0_ALLOW_INSECURE_REQUESTS"] = "true",
            ["ORDERS_API_URL"] = idp.Issuer, // the provider also serves the Orders API
        };
        configure?.Invoke(values);
        builder.Configuration.AddInMemoryCollection(values);
        builder.WebHost.UseUrls(baseUrl);
        services?.Invoke(builder.Services);
        builder.Services.AddAuth0Generated(builder.Configuration, options);
        servicesAfterAuth0?.Invoke(builder.Services);
        builder.Services.AddOpenApi(o => o.AddAuth0());

        var app = builder.Build();
        app.MapAuth0Generated().WithAuth0Middleware(async (context, next) =>
        {
            if (context.Request.Path == "/auth/login" && context.Request.Query.ContainsKey("blocked"))
            {
                context.Response.StatusCode = 403;
                return;
            }
            context.Response.Headers["X-Before-Auth0"] = context.Request.Path.Value;
            if (context.Request.Path == "/auth/logout")
            {
                if (context.Request.Query.ContainsKey("custom-page"))
                {
                    context.Response.Redirect("/custom-logout-page");
                    return;
                }
                context.Response.Cookies.Append("myCustomCookie", "cookieValue", new CookieOptions { Path = "/" });
            }
            await next(context);
            // Redirects are not started yet; a handler that wrote a body has sent its headers already.
            if (!context.Response.HasStarted)
                context.Response.Headers["X-After-Auth0"] = context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        app.MapOpenApi();
        app.MapGet("/api/me", (HttpContext context) =>
            Results.Json(context.GetAuth0Session()!.User, Auth0PublicJsonContext.Default.Auth0User)).RequireAuth0Session();
        app.MapGet("/page", (HttpContext context) => Results.Text("page for " + context.User.Identity!.Name)).RequireAuth0Login();
        app.MapGet("/plain", () => Results.Text("plain"));
        app.MapGet("/authorized", (HttpContext context) => Results.Text("hello " + context.User.Identity!.Name)).RequireAuthorization();
        app.MapGet("/attribute", [Microsoft.AspNetCore.Authorization.Authorize] (HttpContext context) => Results.Text("attribute " + context.User.Identity!.Name));
        app.MapGet("/admin", (HttpContext context) => Results.Text("admin " + context.User.IsInRole("admin")))
            .RequireAuthorization(policy => policy.RequireRole("admin"));
        app.MapGet("/session-twice", async (HttpContext context, Auth0TokenService tokens) =>
        {
            var first = await context.GetAuth0SessionAsync();
            var second = await context.GetAuth0SessionAsync();
            var token = await tokens.GetAccessTokenAsync(context);
            return Results.Text($"{first?.User.Sub}|{ReferenceEquals(first, second)}|{token.Token.Length > 0}|{context.User.Identity?.IsAuthenticated}");
        }).RequireAuth0Session();
        app.MapGet("/connection/{name}", async (string name, string? hint, string? subject, Auth0TokenService tokens, HttpContext context) =>
        {
            try
            {
                var token = await tokens.GetAccessTokenForConnectionAsync(context, name, hint,
                    subject is null ? null : "urn:ietf:params:oauth:token-type:" + subject, context.RequestAborted);
                return Results.Text(token.Token + "|" + token.Scope);
            }
            catch (AccessTokenException ex)
            {
                return Results.Text(ex.Code + "|" + ex.OAuth2Error?.Error, statusCode: 401);
            }
        }).RequireAuth0Session();
        app.MapGet("/accounts", async (string? connection, Auth0ConnectedAccounts accounts, HttpContext context) =>
        {
            try
            {
                var list = await accounts.GetConnectedAccountsAsync(context, connection, context.RequestAborted);
                return Results.Text(string.Join(",", list.Select(a => a.Connection + ":" + a.Id)));
            }
            catch (ConnectAccountException ex)
            {
                return Results.Text(ex.Code + "|" + ex.ApiError?.Status, statusCode: ex.StatusCode);
            }
        });
        app.MapPost("/accounts/disconnect/{connection}", async (string connection, Auth0ConnectedAccounts accounts, HttpContext context) =>
        {
            try
            {
                return Results.Text("removed:" + await accounts.DisconnectAccountAsync(context, connection, context.RequestAborted));
            }
            catch (ConnectAccountException ex)
            {
                return Results.Text(ex.Code + "|" + ex.ApiError?.Status, statusCode: ex.StatusCode);
            }
        });
        app.MapGet("/link/{connection}", async (string connection, Auth0ConnectedAccounts accounts, HttpContext context) =>
        {
            try
            {
                return await accounts.ConnectAccountAsync(context, new ConnectAccountOptions
                {
                    Connection = connection,
                    Scopes = ["repo", "read:user"],
                    AuthorizationParameters = new Dictionary<string, string> { ["prompt"] = "consent" },
                    ReturnTo = "/linked?from=code",
                }, context.RequestAborted);
            }
            catch (ConnectAccountException ex)
            {
                return Results.Text(ex.Code, statusCode: ex.StatusCode);
            }
        });
        app.MapGet("/link-unchecked/{connection}", (string connection, Auth0ConnectedAccounts accounts, HttpContext context) =>
            accounts.ConnectAccountAsync(context, new ConnectAccountOptions { Connection = connection }, context.RequestAborted))
            .RequireAuth0Session();
        app.MapPost("/accounts/disconnect-id/{id}", async (string id, Auth0ConnectedAccounts accounts, HttpContext context) =>
            Results.Text(await accounts.DisconnectAccountByIdAsync(context, id, context.RequestAborted) ? "removed" : "absent"))
            .RequireAuth0Session();
        app.MapGet("/refresh-then-throw", async (HttpContext context, Auth0TokenService tokens) =>
        {
            await tokens.GetAccessTokenAsync(context, new AccessTokenOptions { ForceRefresh = true }, context.RequestAborted);
            throw new InvalidOperationException("an application bug after a refresh");
        }).RequireAuth0Session();
        app.MapGet("/go-login", () => Auth0Login.Start("/after?x=1",
            new Dictionary<string, string> { ["screen_hint"] = "signup", ["client_id"] = "evil", ["redirect_uri"] = "https://evil.example/" }));
        app.MapGet("/roles", (HttpContext context) => Results.Text(string.Join(",", context.GetAuth0Session()!.User.GetRoles() ?? ["(none)"])))
            .RequireAuth0Session();
        app.MapGet("/session/field", async (HttpContext context) =>
        {
            var session = await context.GetAuth0SessionAsync();
            return Results.Text(session?.GetField("updatedAt")?.GetString() ?? "(none)");
        });
        app.MapPost("/session/touch", async (HttpContext context) =>
        {
            try
            {
                await context.UpdateAuth0SessionAsync(s => s.SetField("updatedAt", System.Text.Json.JsonDocument.Parse("\"2026-12-03\"").RootElement.Clone()));
                return Results.Text("updated:" + (context.GetAuth0Session()!.GetField("updatedAt")?.GetString()));
            }
            catch (Auth0Exception ex)
            {
                return Results.Text(ex.Code, statusCode: 401);
            }
        });
        app.MapGet("/orders", async (OrdersApiHttpClient orders) => Results.Text(await orders.Client.GetStringAsync("api/orders"), "application/json"))
            .RequireAuth0Session();
        app.MapGet("/orders/dpop", async (OrdersApiHttpClient orders) =>
        {
            using var response = await orders.Client.GetAsync("api/dpop/orders");
            return Results.Text(await response.Content.ReadAsStringAsync(), "application/json", statusCode: (int)response.StatusCode);
        }).RequireAuth0Session();
        app.MapGet("/orders/elsewhere", async (OrdersApiHttpClient orders) =>
        {
            try { await orders.Client.GetStringAsync("http://127.0.0.1:9/steal"); return Results.Text("sent"); }
            catch (Auth0.Minimal.Http.Auth0TokenOriginException ex) { return Results.Text("refused: " + ex.Message); }
        }).RequireAuth0Session();
        app.MapGet("/token/{api}", async (string api, bool? force, IOrdersApiTokenClient orders, IAnalyticsApiTokenClient analytics, HttpContext context) =>
        {
            IAuth0ApiTokenClient client = api == "orders" ? orders : analytics;
            try
            {
                var token = await client.GetAccessTokenAsync(force == true, context.RequestAborted);
                return Results.Text(token.Token);
            }
            catch (AccessTokenException ex)
            {
                return Results.Text(ex.Code + "|" + ex.OAuth2Error?.Error, statusCode: 401);
            }
        }).RequireAuth0Session();
        endpoints?.Invoke(app);
        await app.StartAsync();
        return new TestApp(app, baseUrl);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
