using System.Net;
using Auth0.Minimal;
using Auth0.Minimal.Sample;

var builder = WebApplication.CreateSlimBuilder(args);
var config = builder.Configuration;

// Without AUTH0_DOMAIN the sample runs against the bundled identity provider: no Auth0 tenant needed.
LocalIdentityProvider? localIdp = null;
if (string.IsNullOrEmpty(config["AUTH0_DOMAIN"]) && string.IsNullOrEmpty(config["Auth0:Domain"]))
{
    localIdp = await LocalIdentityProvider.StartAsync(log: Console.Error);
    var local = new Dictionary<string, string?>
    {
        ["AUTH0_DOMAIN"] = localIdp.Issuer,
        ["AUTH0_CLIENT_ID"] = LocalIdentityProvider.ClientId,
        ["AUTH0_CLIENT_SECRET"] = LocalIdentityProvider.ClientSecret,
        ["AUTH0_ALLOW_INSECURE_REQUESTS"] = "true",
    };
    if (string.IsNullOrEmpty(config["ORDERS_API_URL"])) local["ORDERS_API_URL"] = localIdp.Issuer;
    if (string.IsNullOrEmpty(config["AUTH0_SECRET"])) local["AUTH0_SECRET"] = "local-development-secret-not-for-production-0123456789";
    if (string.IsNullOrEmpty(config["APP_BASE_URL"]))
        local["APP_BASE_URL"] = FirstUrl(config["urls"] ?? config["ASPNETCORE_URLS"]) ?? "http://localhost:3000";
    config.AddInMemoryCollection(local);
}

var appBaseUrl = config["APP_BASE_URL"] ?? config["Auth0:AppBaseUrl"];
if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["ASPNETCORE_URLS"])
    && Uri.TryCreate(appBaseUrl, UriKind.Absolute, out var baseUri))
    builder.WebHost.UseUrls(baseUri.GetLeftPart(UriPartial.Authority));

builder.Services.AddAuth0Generated(config);
builder.Services.AddOpenApi(options => options.AddAuth0());

var app = builder.Build();
app.MapAuth0Generated();
app.MapOpenApi(); // /openapi/v1.json

app.MapGet("/", (HttpContext context) =>
{
    var user = context.GetAuth0Session()?.User;
    var body = user is null
        ? "<p>You are signed out.</p><p><a href=\"/auth/login\">Log in</a></p>"
        : $"<p>Signed in as <strong id=\"user-name\">{WebUtility.HtmlEncode(user.Name ?? user.Sub)}</strong></p>"
          + "<p><a href=\"/api/me\">/api/me</a> · <a href=\"/api/orders\">/api/orders</a> · <a href=\"/auth/profile\">/auth/profile</a> · <a href=\"/auth/access-token\">/auth/access-token</a></p>"
          + "<p><a href=\"/auth/connect?connection=github&amp;returnTo=%2F%3Fconnected%3Dgithub\">Connect a GitHub account</a></p>"
          + "<p><a href=\"/app\">The same from script</a> · <a href=\"/auth/logout\">Log out</a></p>";
    return Results.Content($"<!doctype html><html><head><meta charset=\"utf-8\"><title>Auth0.Minimal sample</title></head><body><h1>Auth0.Minimal sample</h1>{body}</body></html>", "text/html; charset=utf-8");
});

app.MapBrowserPages();

app.MapGet("/api/me", (HttpContext context) =>
        Results.Json(context.GetAuth0Session()!.User, Auth0PublicJsonContext.Default.Auth0User))
    .RequireAuth0Session();

// Calls the Orders API with the user's Orders token; the typed client sends it to no other origin.
app.MapGet("/api/orders", async (OrdersApiHttpClient orders, CancellationToken ct) =>
    {
        try
        {
            using var response = await orders.Client.GetAsync("api/orders", ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            return Results.Content(body, "application/json", statusCode: (int)response.StatusCode);
        }
        catch (AccessTokenException ex)
        {
            return Results.Json(new ApiError(ex.Code, ex.Message), SampleJsonContext.Default.ApiError, statusCode: 401);
        }
        catch (HttpRequestException)
        {
            return Results.Json(new ApiError("orders_api_unavailable", "The Orders API could not be reached."), SampleJsonContext.Default.ApiError, statusCode: 502);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return Results.Json(new ApiError("orders_api_timeout", "The Orders API did not answer in time."), SampleJsonContext.Default.ApiError, statusCode: 504);
        }
    })
    .RequireAuth0Session();

if (localIdp is not null)
{
    app.Lifetime.ApplicationStarted.Register(() =>
    {
        Console.WriteLine($"Local identity provider: {localIdp.Issuer}");
        Console.WriteLine($"Open {appBaseUrl} and log in as alice / alice-password (or bob / bob-password).");
    });
    app.Lifetime.ApplicationStopping.Register(() => localIdp.DisposeAsync().AsTask().GetAwaiter().GetResult());
}

app.Run();

// With --urls and no APP_BASE_URL, the first listening URL is the public one (local development only).
static string? FirstUrl(string? urls) =>
    urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()?.Replace("://0.0.0.0", "://localhost").Replace("://*", "://localhost").Replace("://+", "://localhost").TrimEnd('/');

internal sealed record ApiError(string Code, string Message);

[System.Text.Json.Serialization.JsonSerializable(typeof(ApiError))]
internal sealed partial class SampleJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
