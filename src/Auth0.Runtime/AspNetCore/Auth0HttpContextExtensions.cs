using Auth0.Minimal.Sessions;

namespace Microsoft.AspNetCore.Http;

public static class Auth0HttpContextExtensions
{
    /// <summary>The current session, read and decrypted once per request; null when signed out.</summary>
    public static Auth0.Minimal.Auth0Session? GetAuth0Session(this HttpContext context) => Auth0RequestState.For(context).Session;
}
