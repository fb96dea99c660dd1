using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal;

/// <summary>Turns the SDK's errors into the responses its own routes give.</summary>
public static class Auth0ErrorResults
{
    /// <summary>
    /// <c>{"error":{"message","code"}}</c> with the status the error stands for: 401 for token errors (403 when the
    /// provider wants MFA), the connected-accounts status, 503 for a session store outage, 502 when the provider failed.
    /// </summary>
    public static IResult ToResult(this Auth0Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new ErrorResult(StatusCodeFor(exception), exception.Code, exception.Message);
    }

    public static int StatusCodeFor(Auth0Exception exception) => exception switch
    {
        ConnectAccountException connect => connect.StatusCode,
        AccessTokenException { OAuth2Error.Error: "mfa_required" } => StatusCodes.Status403Forbidden,
        AccessTokenException => StatusCodes.Status401Unauthorized,
        SessionStoreUnavailableException => StatusCodes.Status503ServiceUnavailable,
        BackchannelAuthenticationException { Code: BackchannelAuthenticationException.NotSupported } => StatusCodes.Status501NotImplemented,
        BackchannelAuthenticationException { OAuth2Error.Error: "access_denied" } => StatusCodes.Status403Forbidden,
        BackchannelAuthenticationException => StatusCodes.Status502BadGateway,
        // The provider's discovery document could not be fetched or read.
        { Code: Auth0ErrorCodes.DiscoveryError } => StatusCodes.Status502BadGateway,
        // DPoP and configuration errors are the app's own bug: a 500, as for any unhandled exception.
        _ => StatusCodes.Status500InternalServerError,
    };

    private sealed class ErrorResult(int status, string code, string message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.CacheControl = "no-store";
            return PlainResponses.JsonErrorAsync(httpContext, status, code, message);
        }
    }
}

/// <summary>
/// Answers an SDK error escaping a RequireAuth0Session / RequireAuth0Login endpoint with
/// <see cref="Auth0ErrorResults.ToResult"/> rather than a bare 500 (applied by <c>Auth0SessionGate</c>).
/// </summary>
internal static class Auth0ExceptionFilter
{
    /// <summary>The response for <paramref name="exception"/>, or null when it stays the app's (the server's own 500).</summary>
    public static IResult? ResultFor(HttpContext context, Exception exception)
    {
        if (exception is OperationCanceledException || context.Response.HasStarted) return null;
        if (exception is Auth0Exception sdk && Auth0ErrorResults.StatusCodeFor(sdk) != StatusCodes.Status500InternalServerError)
            return sdk.ToResult();
        if (!Auth0RequestState.For(context).HasUnwrittenChange) return null;
        // The server's own 500 would drop the Set-Cookie, and with it a refresh token the provider has already
        // rotated: answer the 500 here, so the session change still goes out. Other failures stay the app's.
        var logger = context.RequestServices.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) as Microsoft.Extensions.Logging.ILoggerFactory;
        if (logger is not null) Auth0FilterLog.Unhandled(logger.CreateLogger("Auth0.Minimal.AspNetCore.Auth0ExceptionFilter"), exception.GetType().Name, exception);
        return PlainError.Instance;
    }

    private sealed class PlainError : IResult
    {
        public static readonly PlainError Instance = new();

        public Task ExecuteAsync(HttpContext httpContext) =>
            PlainResponses.TextAsync(httpContext, StatusCodes.Status500InternalServerError, "The request could not be completed.", "internal_error");
    }
}

internal static partial class Auth0FilterLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 1198, Level = Microsoft.Extensions.Logging.LogLevel.Error,
        Message = "Unhandled {Error} in an endpoint that changed the session; answered 500 with the session change kept")]
    public static partial void Unhandled(Microsoft.Extensions.Logging.ILogger logger, string error, Exception exception);
}
