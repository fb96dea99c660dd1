namespace Auth0.Minimal;

/// <summary>An access token ready to send, with what the identity provider said about it.</summary>
/// <param name="Token">The access token.</param>
/// <param name="ExpiresAt">Expiry in Unix seconds (0 when unknown).</param>
/// <param name="Scope">The scope the provider granted.</param>
/// <param name="TokenType">Lower-case <c>bearer</c> or <c>dpop</c> once known (login-time tokens carry none).</param>
/// <param name="Audience">The API the token is for (null: the login audience).</param>
public sealed record AccessTokenResult(string Token, long ExpiresAt, string? Scope, string? TokenType, string? Audience);

/// <summary>What token to get: the counterpart of nextjs-auth0's <c>getAccessToken</c> options.</summary>
public sealed class AccessTokenOptions
{
    /// <summary>The API audience; null means the login audience (<c>AUTH0_AUDIENCE</c>).</summary>
    public string? Audience { get; init; }
    /// <summary>Scope to ask for, merged with the audience's configured scope unless <see cref="MergeScopes"/> is false.</summary>
    public string? Scope { get; init; }
    /// <summary>Refresh even when the cached token is still valid.</summary>
    public bool ForceRefresh { get; init; }
    public bool MergeScopes { get; init; } = true;
}

/// <summary>Why an access token could not be provided; <see cref="Auth0Exception.Code"/> is stable.</summary>
public sealed class AccessTokenException(string code, string message, Exception? inner = null) : Auth0Exception(code, message, inner)
{
    /// <summary>The OAuth 2.0 error from the provider, when there was one.</summary>
    public OAuth2Exception? OAuth2Error => InnerException as OAuth2Exception;
}
