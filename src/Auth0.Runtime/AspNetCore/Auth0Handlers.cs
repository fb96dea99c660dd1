using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// The request handlers behind the generated routes. They are plain <see cref="RequestDelegate"/>s so the
/// generated mapping needs no reflection and stays Native AOT safe.
/// </summary>
public static class Auth0Handlers
{
    public static Task LoginAsync(HttpContext context) => Endpoints(context).LoginAsync(context);
    public static Task CallbackAsync(HttpContext context) => Endpoints(context).CallbackAsync(context);
    public static Task LogoutAsync(HttpContext context) => Endpoints(context).LogoutAsync(context);
    public static Task ProfileAsync(HttpContext context) => Endpoints(context).ProfileAsync(context);
    public static Task AccessTokenAsync(HttpContext context) => Endpoints(context).AccessTokenAsync(context);
    public static Task BackchannelLogoutAsync(HttpContext context) => Endpoints(context).BackchannelLogoutAsync(context);
    public static Task ConnectAccountAsync(HttpContext context) => Endpoints(context).ConnectAccountAsync(context);

    private static Auth0Endpoints Endpoints(HttpContext context) => context.RequestServices.GetRequiredService<Auth0Endpoints>();
}
