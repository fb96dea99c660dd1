using System.Text.Json.Serialization;

namespace Auth0.Minimal.Protocol;

internal sealed class OidcMetadata
{
    [JsonPropertyName("issuer")] public string? Issuer { get; set; }
    [JsonPropertyName("authorization_endpoint")] public string? AuthorizationEndpoint { get; set; }
    [JsonPropertyName("token_endpoint")] public string? TokenEndpoint { get; set; }
    [JsonPropertyName("userinfo_endpoint")] public string? UserinfoEndpoint { get; set; }
    [JsonPropertyName("jwks_uri")] public string? JwksUri { get; set; }
    [JsonPropertyName("end_session_endpoint")] public string? EndSessionEndpoint { get; set; }
    [JsonPropertyName("revocation_endpoint")] public string? RevocationEndpoint { get; set; }
    [JsonPropertyName("id_token_signing_alg_values_supported")] public string[]? IdTokenSigningAlgValuesSupported { get; set; }
    [JsonPropertyName("authorization_response_iss_parameter_supported")] public bool? AuthorizationResponseIssParameterSupported { get; set; }
    [JsonPropertyName("backchannel_authentication_endpoint")] public string? BackchannelAuthenticationEndpoint { get; set; }
}

internal sealed class BackchannelAuthorizeResponse
{
    [JsonPropertyName("auth_req_id")] public string? AuthReqId { get; set; }
    [JsonPropertyName("expires_in"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? ExpiresIn { get; set; }
    [JsonPropertyName("interval"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? Interval { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("error_description")] public string? ErrorDescription { get; set; }
}

internal sealed class TokenEndpointResponse
{
    [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
    [JsonPropertyName("token_type")] public string? TokenType { get; set; }
    [JsonPropertyName("expires_in"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? ExpiresIn { get; set; }
    [JsonPropertyName("id_token")] public string? IdToken { get; set; }
    [JsonPropertyName("refresh_token")] public string? RefreshToken { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("error_description")] public string? ErrorDescription { get; set; }
    [JsonPropertyName("authorization_details")] public System.Text.Json.JsonElement? AuthorizationDetails { get; set; }
    [JsonPropertyName("auth_req_id")] public string? AuthReqId { get; set; }
    [JsonPropertyName("interval"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? Interval { get; set; }
    [JsonPropertyName("issued_token_type")] public string? IssuedTokenType { get; set; }
}

internal sealed class TransactionState
{
    [JsonPropertyName("nonce")] public string? Nonce { get; set; }
    [JsonPropertyName("maxAge")] public long? MaxAge { get; set; }
    [JsonPropertyName("codeVerifier")] public string? CodeVerifier { get; set; }
    [JsonPropertyName("responseType")] public string? ResponseType { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
    [JsonPropertyName("returnTo")] public string? ReturnTo { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("audience")] public string? Audience { get; set; }
    /// <summary>The My Account API's connect session, for a <c>connect_code</c> transaction.</summary>
    [JsonPropertyName("authSession")] public string? AuthSession { get; set; }
    /// <summary>The user who started a connect; the callback completes it only in that user's session.</summary>
    [JsonPropertyName("sub")] public string? Subject { get; set; }
}

internal sealed class AccessTokenResponse
{
    [JsonPropertyName("token")] public required string Token { get; init; }
    [JsonPropertyName("scope")] public string? Scope { get; init; }
    [JsonPropertyName("expires_at")] public long ExpiresAt { get; init; }
    [JsonPropertyName("expires_in")] public long ExpiresIn { get; init; }
    [JsonPropertyName("token_type")] public string? TokenType { get; init; }
}

internal sealed class ErrorBody
{
    [JsonPropertyName("message")] public required string Message { get; init; }
    [JsonPropertyName("code")] public required string Code { get; init; }
}

internal sealed class ErrorResponse
{
    [JsonPropertyName("error")] public required ErrorBody Error { get; init; }
}

internal sealed class ConnectAccountRequest
{
    [JsonPropertyName("connection")] public required string Connection { get; init; }
    [JsonPropertyName("redirect_uri")] public required string RedirectUri { get; init; }
    [JsonPropertyName("state")] public required string State { get; init; }
    [JsonPropertyName("code_challenge")] public required string CodeChallenge { get; init; }
    [JsonPropertyName("code_challenge_method")] public string CodeChallengeMethod { get; init; } = "S256";
    [JsonPropertyName("scopes")] public IReadOnlyList<string>? Scopes { get; init; }
    [JsonPropertyName("authorization_params")] public IReadOnlyDictionary<string, string>? AuthorizationParams { get; init; }
}

internal sealed class ConnectAccountResponse
{
    [JsonPropertyName("connect_uri")] public string? ConnectUri { get; set; }
    [JsonPropertyName("connect_params")] public ConnectParams? ConnectParams { get; set; }
    [JsonPropertyName("auth_session")] public string? AuthSession { get; set; }
    [JsonPropertyName("expires_in"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public long? ExpiresIn { get; set; }
}

internal sealed class ConnectParams
{
    [JsonPropertyName("ticket")] public string? Ticket { get; set; }
}

internal sealed class CompleteConnectAccountRequest
{
    [JsonPropertyName("auth_session")] public required string AuthSession { get; init; }
    [JsonPropertyName("connect_code")] public required string ConnectCode { get; init; }
    [JsonPropertyName("redirect_uri")] public required string RedirectUri { get; init; }
    [JsonPropertyName("code_verifier")] public required string CodeVerifier { get; init; }
}

internal sealed class ConnectedAccountWire
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("connection")] public string? Connection { get; set; }
    [JsonPropertyName("access_type")] public string? AccessType { get; set; }
    [JsonPropertyName("scopes")] public string[]? Scopes { get; set; }
    [JsonPropertyName("created_at")] public string? CreatedAt { get; set; }
    [JsonPropertyName("expires_at")] public string? ExpiresAt { get; set; }
}

internal sealed class ConnectedAccountsPage
{
    [JsonPropertyName("accounts")] public ConnectedAccountWire[]? Accounts { get; set; }
    [JsonPropertyName("next")] public string? Next { get; set; }
}

internal sealed class MyAccountProblem
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("title")] public string? Title { get; set; }
    [JsonPropertyName("detail")] public string? Detail { get; set; }
    [JsonPropertyName("status"), JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] public int? Status { get; set; }
    [JsonPropertyName("validation_errors")] public MyAccountValidationProblem[]? ValidationErrors { get; set; }
}

internal sealed class MyAccountValidationProblem
{
    [JsonPropertyName("detail")] public string? Detail { get; set; }
    [JsonPropertyName("field")] public string? Field { get; set; }
}
