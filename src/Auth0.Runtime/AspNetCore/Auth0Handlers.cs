using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// The request handlers behind the generated routes. They are plain <see cref="RequestDelegate"/>s so the
/// generated mapping needs no reflection and stays Native AOT safe.
/// </summary>
public static class Auth0Handlers
{
    public static Task LoginAsync(HttpContext context) => throw new NotImplementedException();
    public static Task CallbackAsync(HttpContext context) => throw new NotImplementedException();
    public static Task LogoutAsync(HttpContext context) => throw new NotImplementedException();
    public static Task ProfileAsync(HttpContext context) => throw new NotImplementedException();
    public static Task AccessTokenAsync(HttpContext context) => throw new NotImplementedException();
    public static Task BackchannelLogoutAsync(HttpContext context) => throw new NotImplementedException();
}
