using System.Text.Json;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Benchmarks.Support;

/// <summary>The runtime as an app registers it (AddAuth0Core), with the identity provider replaced in process.</summary>
internal sealed class BenchHost : IDisposable
{
    public const string OrdersAudience = "https://orders.example.com";
    public const string OrdersScope = "read:orders";

    private BenchHost(ServiceProvider services, FakeIdentityProvider idp)
    {
        Services = services;
        Idp = idp;
        Tokens = services.GetRequiredService<Auth0TokenService>();
        Store = services.GetRequiredService<SessionCookieStore>();
        TokenEndpoint = services.GetRequiredService<TokenEndpointClient>();
        Time = services.GetRequiredService<TimeProvider>();
    }

    public ServiceProvider Services { get; }
    public FakeIdentityProvider Idp { get; }
    public Auth0TokenService Tokens { get; }
    public SessionCookieStore Store { get; }
    public TokenEndpointClient TokenEndpoint { get; }
    public TimeProvider Time { get; }

    public static BenchHost Create(TimeSpan idpDelay = default)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AUTH0_DOMAIN"] = FakeIdentityProvider.Issuer,
                ["AUTH0_CLIENT_ID"] = "c",
                ["AUTH0_CLIENT_SECRET"] = "s",
                ["AUTH0_SECRET"] = "benchmark-secret-0123456789abcdefghijklmnopqrstuvwxyz",
                ["APP_BASE_URL"] = "https://app.example.com",
            })
            .Build();

        var idp = new FakeIdentityProvider { Delay = idpDelay };
        var services = new ServiceCollection();
        services.AddLogging();
        // One declared API, as the generated AddAuth0Generated passes for [Auth0Api]; it gives the API path its scope.
        services.AddAuth0Core(configuration, new Auth0Routes(), [new Auth0ApiDefinition("Orders", OrdersAudience, OrdersScope)]);
        // Registered after AddAuth0Core so this primary handler is the one the factory ends up with.
        services.AddHttpClient(Auth0HttpClient.ClientName).ConfigurePrimaryHttpMessageHandler(idp.CreateHandler);

        var host = new BenchHost(services.BuildServiceProvider(), idp);
        // Discovery is cached for 10 minutes; fetch it here so no benchmark pays for it.
        host.Services.GetRequiredService<OidcMetadataCache>().GetAsync(CancellationToken.None).GetAwaiter().GetResult();
        return host;
    }

    /// <summary>A session shaped like a real Auth0 login with one API token; JWT-sized token strings keep the cookie realistic.</summary>
    public Auth0Session NewSession(string refreshToken, bool accessTokenExpired)
    {
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        var expiresAt = accessTokenExpired ? now - 60 : now + 3600;
        return new Auth0Session
        {
            User = new Auth0User(new Dictionary<string, JsonElement>(StringComparer.Ordinal)
            {
                ["sub"] = JsonSerializer.SerializeToElement("auth0|64f0c0ffee0123456789abcd"),
                ["name"] = JsonSerializer.SerializeToElement("Alice Example"),
                ["nickname"] = JsonSerializer.SerializeToElement("alice"),
                ["picture"] = JsonSerializer.SerializeToElement("https://s.gravatar.com/avatar/0123456789abcdef0123456789abcdef?s=480"),
                ["email"] = JsonSerializer.SerializeToElement("alice@example.com"),
                ["email_verified"] = JsonSerializer.SerializeToElement(true),
            }),
            TokenSet = new TokenSet
            {
                AccessToken = FakeJwt("login-at", 640),
                IdToken = FakeJwt("id", 640),
                RefreshToken = refreshToken,
                ExpiresAt = expiresAt,
                Scope = Auth0Options.DefaultScope,
                RequestedScope = Auth0Options.DefaultScope,
                TokenType = "bearer",
            },
            AccessTokens =
            [
                new AccessTokenSet
                {
                    Audience = OrdersAudience,
                    AccessToken = FakeJwt("orders-at", 640),
                    Scope = OrdersScope,
                    RequestedScope = OrdersScope,
                    ExpiresAt = expiresAt,
                    TokenType = "bearer",
                },
            ],
            Internal = new SessionInternal { Sid = "sid-" + refreshToken, CreatedAt = now, SessionExpiresAt = now + 3 * 24 * 3600 },
        };
    }

    /// <summary>The Cookie request header a browser would send back after the store wrote <paramref name="session"/>.</summary>
    public string CookieHeader(Auth0Session session)
    {
        var jar = new ResponseCookieJar();
        Store.Write(session, new DefaultHttpContext().Request.Cookies, jar);
        var response = new DefaultHttpContext().Response;
        jar.WriteTo(response);
        return string.Join("; ", response.Headers.SetCookie.Select(h => h!.Split(';', 2)[0]));
    }

    public HttpContext NewContext(string cookieHeader)
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        context.Request.Headers.Cookie = cookieHeader;
        return context;
    }

    private static string FakeJwt(string label, int length)
    {
        var body = label + "." + new string('x', Math.Max(0, length - label.Length - 1));
        return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + body;
    }

    public void Dispose() => Services.Dispose();
}
