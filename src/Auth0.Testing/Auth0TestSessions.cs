using System.Text.Json;

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
        return TestSessionSeam.EncryptSession(session, secret, now + (long)(lifetime ?? TimeSpan.FromHours(1)).TotalSeconds);
    }

    /// <summary>
    /// The <c>__session</c> cookie value for <paramref name="session"/> in a running app, whatever its session mode: with a
    /// session store the session is saved there and the cookie holds its id. Pass the app's services (e.g.
    /// <c>factory.Services</c> of a WebApplicationFactory).
    /// </summary>
    public static async Task<string> GenerateSessionCookieAsync(IServiceProvider appServices, Auth0Session session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(appServices);
        ArgumentNullException.ThrowIfNull(session);
        var (secret, lifetime) = TestSessionSeam.AppSettings(appServices)
            ?? throw new InvalidOperationException("The services are not an app that called AddAuth0Generated.");
        var time = (TimeProvider?)appServices.GetService(typeof(TimeProvider)) ?? TimeProvider.System;
        var now = time.GetUtcNow();
        if (session.Internal is null || (session.Internal.Sid is null && session.Internal.CreatedAt is null))
            session.Internal = new SessionInternal { Sid = "auth0-sid", CreatedAt = now.ToUnixTimeSeconds() };
        if (appServices.GetService(typeof(ISessionStore)) is not ISessionStore store)
            // The expiry the app would write itself, so a rolling app does not re-issue the cookie on its first use.
            return TestSessionSeam.EncryptSession(session, secret, TestSessionSeam.SessionCookieExpiry(appServices, session, now.ToUnixTimeSeconds()));
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await store.SetAsync(id, session, now + lifetime, cancellationToken).ConfigureAwait(false);
        return TestSessionSeam.EncryptStoredSessionId(appServices, id, now.ToUnixTimeSeconds() + (long)lifetime.TotalSeconds);
    }

    /// <summary>A session for <paramref name="sub"/> with the given claims, ready for <see cref="GenerateSessionCookie"/>.</summary>
    public static Auth0Session CreateSession(string sub, string? name = null, string? email = null, string? accessToken = "test-access-token")
    {
        var claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { ["sub"] = TestSessionSeam.StringClaim(sub) };
        if (name is not null) claims["name"] = TestSessionSeam.StringClaim(name);
        if (email is not null) claims["email"] = TestSessionSeam.StringClaim(email);
        return new Auth0Session
        {
            User = new Auth0User(claims),
            TokenSet = new TokenSet { AccessToken = accessToken, ExpiresAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 3600 },
        };
    }
}
