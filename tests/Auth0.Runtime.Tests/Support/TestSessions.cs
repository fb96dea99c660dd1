using System.Collections;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Support;

internal static class TestSessions
{
    public static Auth0Settings Settings(string secret, Action<Auth0Options>? configure = null)
    {
        var options = new Auth0Options
        {
            Domain = "tenant.example.com",
            ClientId = "client",
            ClientSecret = "client-secret",
            Secret = secret,
            AppBaseUrl = "http://localhost:3000",
        };
        configure?.Invoke(options);
        return Auth0Settings.Create(options, new Auth0Routes());
    }

    /// <summary>Telemetry for parts built without an app; its meter belongs to its own factory, so no app test sees it.</summary>
    public static Diagnostics.Auth0Telemetry Telemetry { get; } =
        new(new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddMetrics().BuildServiceProvider()
            .GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());

    /// <summary>A store whose absolute lifetime does not expire fixed-date vectors (their createdAt lies in the past).</summary>
    public static SessionCookieStore Store(string secret, TimeProvider? time = null) =>
        new(Settings(secret, o => o.Session.AbsoluteDuration = TimeSpan.FromDays(365 * 100)), time ?? TimeProvider.System, Telemetry);

    public static Auth0Session Session(int bioLength = 0)
    {
        var claims = new Dictionary<string, JsonElement>
        {
            ["sub"] = JsonSerializer.SerializeToElement("auth0|alice"),
            ["name"] = JsonSerializer.SerializeToElement("Alice Example"),
        };
        if (bioLength > 0) claims["https://example.com/bio"] = JsonSerializer.SerializeToElement(new string('b', bioLength));
        return new Auth0Session
        {
            User = new Auth0User(claims),
            TokenSet = new TokenSet { AccessToken = "at", IdToken = "it", RefreshToken = "rt", ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600 },
            Internal = new SessionInternal { Sid = "sid-1", CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() },
        };
    }
}

/// <summary>Request cookies from a dictionary, for store tests without a server.</summary>
internal sealed class TestCookies(IDictionary<string, string>? cookies = null) : IRequestCookieCollection
{
    private readonly Dictionary<string, string> _cookies = new(cookies ?? new Dictionary<string, string>(), StringComparer.Ordinal);

    public string? this[string key] => _cookies.TryGetValue(key, out var v) ? v : null;
    public int Count => _cookies.Count;
    public ICollection<string> Keys => _cookies.Keys;
    public bool ContainsKey(string key) => _cookies.ContainsKey(key);
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => _cookies.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _cookies.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The cookies a browser would keep after receiving the jar's Set-Cookie headers (deletions dropped).</summary>
    public static Dictionary<string, string> FromJar(ResponseCookieJar jar)
    {
        var headers = SetCookieHeaders(jar);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in headers)
        {
            var (name, value, deleted) = Parse(header);
            if (!deleted) result[name] = value;
        }
        return result;
    }

    public static List<string> SetCookieHeaders(ResponseCookieJar jar)
    {
        var context = new DefaultHttpContext();
        jar.WriteTo(context.Response);
        return context.Response.Headers.SetCookie.Select(h => h!).ToList();
    }

    public static (string Name, string Value, bool Deleted) Parse(string header)
    {
        var first = header.Split(';')[0];
        var eq = first.IndexOf('=');
        var deleted = header.Contains("Max-Age=0", StringComparison.Ordinal);
        return (first[..eq], Uri.UnescapeDataString(first[(eq + 1)..]), deleted);
    }
}
