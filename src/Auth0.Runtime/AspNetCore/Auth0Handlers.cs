using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// The request handlers behind the generated routes. They are plain <see cref="RequestDelegate"/>s so the
/// generated mapping needs no reflection and stays Native AOT safe.
/// </summary>
public static partial class Auth0Handlers
{
    public static Task LoginAsync(HttpContext context) => Run(context, static (e, c) => e.LoginAsync(c));
    public static Task CallbackAsync(HttpContext context) => Run(context, static (e, c) => e.CallbackAsync(c));
    public static Task LogoutAsync(HttpContext context) => Run(context, static (e, c) => e.LogoutAsync(c));
    public static Task ProfileAsync(HttpContext context) => Run(context, static (e, c) => e.ProfileAsync(c));
    public static Task AccessTokenAsync(HttpContext context) => Run(context, static (e, c) => e.AccessTokenAsync(c));
    public static Task BackchannelLogoutAsync(HttpContext context) => Run(context, static (e, c) => e.BackchannelLogoutAsync(c));
    public static Task ConnectAccountAsync(HttpContext context) => Run(context, static (e, c) => e.ConnectAccountAsync(c));

    // A failure nobody foresaw still answers through the normal response path, so the session changes made so far
    // (a rotated refresh token above all) are written with it instead of being dropped with a bare 500.
    private static async Task Run(HttpContext context, Func<Auth0Endpoints, HttpContext, Task> handler)
    {
        try
        {
            await handler(context.RequestServices.GetRequiredService<Auth0Endpoints>(), context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !context.Response.HasStarted)
        {
            LogUnexpected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Auth0.Minimal.AspNetCore.Auth0Handlers"),
                context.Request.Path.Value ?? "", ex.GetType().Name, ex);
            context.Response.Headers.Location = default;
            await PlainResponses.TextAsync(context, StatusCodes.Status500InternalServerError,
                "The request could not be completed.", "internal_error").ConfigureAwait(false);
        }
    }

    [LoggerMessage(EventId = 1199, Level = LogLevel.Error, Message = "Unexpected failure in the Auth0 route {Path}: {Error}")]
    private static partial void LogUnexpected(ILogger logger, string path, string error, Exception exception);
}
