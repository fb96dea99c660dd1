using System.Text.Json;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;

namespace Auth0.Minimal.Testing;

/// <summary>Helpers for tests of apps that use Auth0.Minimal (the counterpart of nextjs-auth0's testing helpers).</summary>
public static class Auth0TestSessions
{
    /// <summary>
    /// The <c>__session</c> cookie value for <paramref name="session"/>, encrypted with <paramref name="secret"/> (the app's
    /// AUTH0_SECRET) and valid for <paramref name="lifetime"/> (default one hour). A session without internal data gets
    /// <c>{sid: "auth0-sid", createdAt: now}</c>.
    /// </summary>
    public static string GenerateSessionCookie(Auth0Session session, string secret, TimeSpan? lifetime = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var now = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        if (session.Internal is null || (session.Internal.Sid is null && session.Internal.CreatedAt is null))
            session.Internal = new SessionInternal { Sid = "auth0-sid", CreatedAt = now };
        var json = JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session);
        return new CookieCrypto(secret).Encrypt(json, now + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds);
    }

    /// <summary>A session for <paramref name="sub"/> with the given claims, ready for <see cref="GenerateSessionCookie"/>.</summary>
    public static Auth0Session CreateSession(string sub, string? name = null, string? email = null, string? accessToken = "test-access-token")
    {
        var claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { ["sub"] = JsonSerializer.SerializeToElement(sub, Auth0JsonContext.Default.String) };
        if (name is not null) claims["name"] = JsonSerializer.SerializeToElement(name, Auth0JsonContext.Default.String);
        if (email is not null) claims["email"] = JsonSerializer.SerializeToElement(email, Auth0JsonContext.Default.String);
        return new Auth0Session
        {
            User = new Auth0User(claims),
            TokenSet = new TokenSet { AccessToken = accessToken, ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600 },
        };
    }
}
