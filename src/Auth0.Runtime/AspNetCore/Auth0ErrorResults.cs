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

internal static partial class Auth0FilterLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 1198, Level = Microsoft.Extensions.Logging.LogLevel.Error,
        Message = "Unhandled {Error} in an endpoint that changed the session; answered 500 with the session change kept")]
    public static partial void Unhandled(Microsoft.Extensions.Logging.ILogger logger, string error, Exception exception);
}
