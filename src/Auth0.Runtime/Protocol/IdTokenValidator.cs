using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Auth0.Minimal.Protocol;

/// <summary>
/// Validates an ID token fully, signature included (nextjs-auth0 skips the signature): issuer, audience, azp,
/// exp/iat/nbf with a clock tolerance, nonce and auth_time.
/// </summary>
internal sealed class IdTokenValidator(Auth0Settings settings, OidcMetadataCache metadata, JwksCache jwks, TimeProvider time)
{
    private static readonly string[] AsymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<Dictionary<string, JsonElement>> ValidateAsync(string idToken, string? expectedNonce, long? maxAge, CancellationToken ct)
    {
        var doc = await metadata.GetAsync(ct).ConfigureAwait(false);
        var algorithms = doc.IdTokenSigningAlgValuesSupported is { Length: > 0 } supported
            ? supported.Intersect(AsymmetricAlgorithms, StringComparer.Ordinal).ToArray()
            : ["RS256"];
        if (algorithms.Length == 0) algorithms = ["RS256"];

        var keys = await jwks.GetKeysAsync(ct).ConfigureAwait(false);
        var result = await _handler.ValidateTokenAsync(idToken, Parameters(keys, algorithms)).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // The provider may have rotated its keys: look once more, rate limited.
            var fresh = await jwks.RefreshForUnknownKeyAsync(ct).ConfigureAwait(false);
            if (fresh is not null) result = await _handler.ValidateTokenAsync(idToken, Parameters(fresh, algorithms)).ConfigureAwait(false);
        }
        if (!result.IsValid)
            throw new IdTokenValidationException(Describe(result.Exception));

        var token = (JsonWebToken)result.SecurityToken;
        var claims = ReadClaims(token.EncodedPayload);
        CheckClaims(claims, expectedNonce, maxAge);
        return claims;
    }

    private TokenValidationParameters Parameters(IReadOnlyList<SecurityKey> keys, string[] algorithms) => new()
    {
        ValidIssuer = settings.Issuer,
        ValidateIssuer = true,
        ValidAudience = settings.ClientId,
        ValidateAudience = true,
        ValidateLifetime = false, // checked below against TimeProvider
        RequireExpirationTime = false,
        RequireSignedTokens = true,
        ValidateIssuerSigningKey = true,
        IssuerSigningKeys = keys,
        ValidAlgorithms = algorithms,
        TryAllIssuerSigningKeys = true,
    };

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "The ID token signature is invalid.",
        SecurityTokenInvalidIssuerException => "The ID token issuer is not the expected issuer.",
        SecurityTokenInvalidAudienceException => "The ID token audience is not this client.",
        SecurityTokenInvalidAlgorithmException => "The ID token is signed with an unexpected algorithm.",
        SecurityTokenMalformedException => "The ID token is malformed.",
        _ => "The ID token is invalid.",
    };

    internal static Dictionary<string, JsonElement> ReadClaims(string encodedPayload)
    {
        var bytes = new byte[Base64Url.MaxDecodedLength(encodedPayload.Length)];
        if (!Base64Url.TryDecode(encodedPayload, bytes, out var length))
            throw new IdTokenValidationException("The ID token payload is not base64url.");
        try
        {
            return JsonSerializer.Deserialize(bytes.AsSpan(0, length), Auth0JsonContext.Default.DictionaryStringJsonElement)
                   ?? throw new IdTokenValidationException("The ID token payload is not a JSON object.");
        }
        catch (JsonException) { throw new IdTokenValidationException("The ID token payload is not a JSON object."); }
    }

    private void CheckClaims(Dictionary<string, JsonElement> claims, string? expectedNonce, long? maxAge)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        // With DPoP on, its clock tolerance governs the ID-token time checks too (as in nextjs-auth0).
        var tolerance = (long)(settings.DPoP is null ? settings.Options.ClockTolerance : settings.Options.DPoPClockTolerance).TotalSeconds;

        if (!TryNumber(claims, "exp", out var exp)) throw new IdTokenValidationException("The ID token has no exp claim.");
        if (exp <= now - tolerance) throw new IdTokenValidationException("The ID token has expired.");
        if (!TryNumber(claims, "iat", out _)) throw new IdTokenValidationException("The ID token has no iat claim.");
        if (TryNumber(claims, "nbf", out var nbf) && nbf > now + tolerance) throw new IdTokenValidationException("The ID token is not valid yet.");
        if (!claims.TryGetValue("sub", out var sub) || sub.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(sub.GetString()))
            throw new IdTokenValidationException("The ID token has no sub claim.");

        if (claims.TryGetValue("aud", out var aud) && aud.ValueKind == JsonValueKind.Array && aud.GetArrayLength() > 1
            && !claims.ContainsKey("azp"))
            throw new IdTokenValidationException("The ID token has several audiences but no azp claim.");
        if (claims.TryGetValue("azp", out var azp) && !(azp.ValueKind == JsonValueKind.String && azp.GetString() == settings.ClientId))
            throw new IdTokenValidationException("The ID token azp claim is not this client.");

        if (expectedNonce is not null)
        {
            if (!claims.TryGetValue("nonce", out var nonce) || nonce.ValueKind != JsonValueKind.String || nonce.GetString() != expectedNonce)
                throw new IdTokenValidationException("The ID token nonce does not match the login request.");
        }

        if (maxAge is { } max)
        {
            if (!TryNumber(claims, "auth_time", out var authTime)) throw new IdTokenValidationException("The ID token has no auth_time claim although max_age was requested.");
            if (authTime + max < now - tolerance) throw new IdTokenValidationException("The authentication is older than max_age.");
        }
    }

    internal static bool TryNumber(Dictionary<string, JsonElement> claims, string name, out long value)
    {
        value = 0;
        if (!claims.TryGetValue(name, out var element) || element.ValueKind != JsonValueKind.Number) return false;
        if (element.TryGetInt64(out value)) return true;
        var d = element.GetDouble();
        if (!double.IsFinite(d)) return false;
        value = (long)Math.Floor(d);
        return true;
    }
}

internal sealed class IdTokenValidationException(string message) : Exception(message);
