namespace Auth0.Minimal;

/// <summary>An access token ready to send, with what the identity provider said about it.</summary>
public sealed record AccessTokenResult(string Token, long ExpiresAt, string? Scope, string? TokenType, string? Audience);

/// <summary>Why an access token could not be provided; <see cref="Auth0Exception.Code"/> is stable.</summary>
public sealed class AccessTokenException(string code, string message, Exception? inner = null) : Auth0Exception(code, message, inner);
