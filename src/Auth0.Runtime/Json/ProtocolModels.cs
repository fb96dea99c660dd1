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
