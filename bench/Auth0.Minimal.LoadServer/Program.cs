using System.Text.Json.Serialization;
using Auth0.Minimal;
using Auth0.Minimal.Bench;
using Auth0.Minimal.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;

// --mode none|auth0|cookies: GET /api/data with no authentication, an Auth0.Minimal session, or ASP.NET Core's Cookies
// handler. --print-cookie (auth0) prints a Cookie header for the bench user and exits; cookies mode signs the same
// user in at POST /setup/sign-in instead, since its key ring lives in the process. --no-rolling turns rolling off;
// --port N listens on 127.0.0.1:N; --inproc N times N requests through the pipeline without sockets (any other argument
// goes to the host, e.g. --urls).
var mode = "none";
var printCookie = false;
var rolling = true;
int? inProcessRequests = null;
var hostArgs = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--mode" when i + 1 < args.Length: mode = args[++i]; break;
        case "--print-cookie": printCookie = true; break;
        case "--no-rolling": rolling = false; break;
        case "--inproc" when i + 1 < args.Length: inProcessRequests = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--port" when i + 1 < args.Length: hostArgs.AddRange(["--urls", "http://127.0.0.1:" + args[++i]]); break;
        default: hostArgs.Add(args[i]); break;
    }
}
if (mode is not ("none" or "auth0" or "cookies"))
{
    Console.Error.WriteLine($"unknown --mode '{mode}' (none, auth0, cookies)");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder(hostArgs.ToArray());
// Hosting logs two lines per request at Information; no mode should pay for console output.
builder.Logging.SetMinimumLevel(LogLevel.Warning);

switch (mode)
{
    case "auth0":
        // Dummy tenant: a valid session cookie is all a protected request needs, so nothing calls the provider.
        var defaults = new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = new Uri(BenchIdentity.Issuer).Host,
            ["AUTH0_CLIENT_ID"] = BenchIdentity.ClientId,
            ["AUTH0_CLIENT_SECRET"] = "load-bench-client-secret",
            ["AUTH0_SECRET"] = "load-bench-secret-0123456789abcdefghijklmnopqrstuvwxyz",
            ["APP_BASE_URL"] = "http://127.0.0.1:5000",
        };
        foreach (var key in defaults.Keys.Where(k => !string.IsNullOrEmpty(builder.Configuration[k])).ToList()) defaults.Remove(key);
        builder.Configuration.AddInMemoryCollection(defaults);
        builder.Services.AddAuth0Generated(builder.Configuration, options => options.Session.Rolling = rolling);
        break;
    case "cookies":
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                // An API answers 401/403, as RequireAuth0Session does, rather than redirecting to a login page.
                options.Events.OnRedirectToLogin = context => { context.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
                options.Events.OnRedirectToAccessDenied = context => { context.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
                options.SlidingExpiration = rolling;
            });
        builder.Services.AddAuthorization();
        break;
}

var inProcess = inProcessRequests is null ? null : new Auth0.Minimal.LoadServer.InProcessServer();
if (inProcess is not null) builder.Services.AddSingleton<Microsoft.AspNetCore.Hosting.Server.IServer>(inProcess);

var app = builder.Build();

if (printCookie)
{
    if (mode != "auth0")
    {
        Console.Error.WriteLine("--print-cookie is for --mode auth0; cookies mode signs in at POST /setup/sign-in");
        return 2;
    }
    var session = BenchIdentity.Auth0Session(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    Console.WriteLine(CookieHeader("__session", await Auth0TestSessions.GenerateSessionCookieAsync(app.Services, session)));
    return 0;
}

var data = new DataResponse(42, "load-bench", ["alpha", "beta", "gamma"]);
var api = app.MapGet("/api/data", () => Results.Json(data, LoadServerJsonContext.Default.DataResponse));
switch (mode)
{
    case "auth0":
        app.MapAuth0Generated();
        api.RequireAuth0Session();
        break;
    case "cookies":
        app.MapPost("/setup/sign-in", async (HttpContext context) =>
        {
            var ticket = BenchIdentity.Ticket(CookieAuthenticationDefaults.AuthenticationScheme, DateTimeOffset.UtcNow);
            await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, ticket.Principal, ticket.Properties);
            return Results.NoContent();
        });
        api.RequireAuthorization();
        break;
}

if (inProcess is not null)
{
    await app.StartAsync();
    string? cookie = null;
    if (mode == "auth0")
        cookie = CookieHeader("__session", await Auth0TestSessions.GenerateSessionCookieAsync(app.Services, BenchIdentity.Auth0Session(DateTimeOffset.UtcNow.ToUnixTimeSeconds())));
    else if (mode == "cookies")
        cookie = string.Join("; ", (await inProcess.Send!("POST", "/setup/sign-in", null)).SetCookies.Select(c => c.Split(';')[0]));
    var code = await Auth0.Minimal.LoadServer.InProcessRun.RunAsync(inProcess, cookie, inProcessRequests!.Value);
    await app.StopAsync();
    return code;
}

await app.RunAsync();
return 0;

// As the runtime and nextjs-auth0 split a value: chunks of 3500 characters named <name>__0, <name>__1, ...
static string CookieHeader(string name, string value)
{
    const int chunk = 3500;
    if (value.Length <= chunk) return name + "=" + value;
    var parts = new List<string>();
    for (var i = 0; i * chunk < value.Length; i++)
        parts.Add($"{name}__{i}={value.Substring(i * chunk, Math.Min(chunk, value.Length - i * chunk))}");
    return string.Join("; ", parts);
}

internal sealed record DataResponse(int Id, string Name, string[] Tags);

[JsonSerializable(typeof(DataResponse))]
internal sealed partial class LoadServerJsonContext : JsonSerializerContext;
