using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;
using Auth0.Minimal.Sessions;

namespace Auth0.Minimal.Testing;

/// <summary>
/// The only internals the Auth0.Minimal.Testing package uses: how a session cookie is written stays in this
/// assembly, so the two packages ship together (the testing package pins this one's exact version).
/// </summary>
internal static class TestSessionSeam
{
    /// <summary>A string claim as the session JSON holds it.</summary>
    internal static JsonElement StringClaim(string value) => JsonSerializer.SerializeToElement(value, Auth0JsonContext.Default.String);

    /// <summary>The stateless <c>__session</c> cookie value of <paramref name="session"/>, expiring at Unix time <paramref name="expiresAt"/>.</summary>
    internal static string EncryptSession(Auth0Session session, string secret, long expiresAt) =>
        new CookieCrypto(secret).Encrypt(JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session), expiresAt);

    /// <summary>The app's AUTH0_SECRET and session inactivity duration; null when the services are not an Auth0 app.</summary>
    internal static (string Secret, TimeSpan InactivityDuration)? AppSettings(IServiceProvider appServices) =>
        appServices.GetService(typeof(Auth0Settings)) is Auth0Settings settings
            ? (settings.Options.Secret!, settings.Options.Session.InactivityDuration)
            : null;

    /// <summary>The Unix time the app itself would give a session cookie it wrote at <paramref name="now"/> (rolling and absolute rules).</summary>
    internal static long SessionCookieExpiry(IServiceProvider appServices, Auth0Session session, long now) =>
        now + ((SessionCookieStore)appServices.GetService(typeof(SessionCookieStore))!).MaxAgeSeconds(session, now);

    /// <summary>The cookie value that points at the session saved in the app's store under <paramref name="id"/>.</summary>
    internal static string EncryptStoredSessionId(IServiceProvider appServices, string id, long expiresAt) =>
        ((Auth0Settings)appServices.GetService(typeof(Auth0Settings))!).Crypto.Encrypt(SessionCookieStore.SessionIdPayload(id), expiresAt);
}
