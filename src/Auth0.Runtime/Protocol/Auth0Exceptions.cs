namespace Auth0.Minimal;

/// <summary>An Auth0 flow failed; <see cref="Code"/> is a stable, nextjs-auth0 compatible error code.</summary>
public class Auth0Exception(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;
}

/// <summary>An OAuth 2.0 error response from the identity provider (<c>error</c> / <c>error_description</c>).</summary>
public sealed class OAuth2Exception(string error, string? description, int statusCode)
    : Exception(string.IsNullOrEmpty(description) ? error : error + ": " + description)
{
    public string Error { get; } = error;
    public string? ErrorDescription { get; } = description;
    public int StatusCode { get; } = statusCode;
}

public static class Auth0ErrorCodes
{
    public const string MissingState = "missing_state";
    public const string InvalidState = "invalid_state";
    public const string DiscoveryError = "discovery_error";
    public const string AuthorizationError = "authorization_error";
    public const string AuthorizationCodeGrantRequestError = "authorization_code_grant_request_error";
    public const string AuthorizationCodeGrantError = "authorization_code_grant_error";
    public const string SessionExpired = "session_expired";
    public const string SessionTooLarge = "session_too_large";
    public const string MissingSession = "missing_session";
    public const string MissingRefreshToken = "missing_refresh_token";
    public const string FailedToRefreshToken = "failed_to_refresh_token";
}
