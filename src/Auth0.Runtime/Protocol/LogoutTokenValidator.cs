using System.Collections.Concurrent;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Auth0.Minimal.Protocol;

/// <summary>
/// Validates an OpenID back-channel logout token completely: signature against the provider's keys, iss, aud, iat,
/// exp when present, typ when present, the back-channel event, no nonce, sid and/or sub, and no replayed jti.
/// </summary>
internal sealed class LogoutTokenValidator(Auth0Settings settings, OidcMetadataCache metadata, JwksCache jwks, TimeProvider time,
    Microsoft.Extensions.Caching.Distributed.IDistributedCache? cache = null)
{
    internal const string BackchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout";
    /// <summary>Logout tokens are delivered at once; an older one is refused, so the replay memory can be bounded.</summary>
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(10);
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<string, long> _seenJti = new(StringComparer.Ordinal);

    public sealed record Result(LogoutTokenClaims Claims, long IssuedAt, string Jti, long ReplayUntil);

    public async Task<Result> ValidateAsync(string token, CancellationToken ct)
    {
        if (token.Length > 16 * 1024) throw new LogoutTokenException("The logout token is too large.");
        var doc = await metadata.GetAsync(ct).ConfigureAwait(false);
        var algorithms = doc.IdTokenSigningAlgValuesSupported is { Length: > 0 } supported
            ? supported.Where(a => a.StartsWith("RS", StringComparison.Ordinal) || a.StartsWith("PS", StringComparison.Ordinal) || a.StartsWith("ES", StringComparison.Ordinal)).ToArray()
            : ["RS256"];
        if (algorithms.Length == 0) algorithms = ["RS256"];

        var keys = await jwks.GetKeysAsync(ct).ConfigureAwait(false);
        var result = await _handler.ValidateTokenAsync(token, Parameters(keys, algorithms)).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            var fresh = await jwks.RefreshForUnknownKeyAsync(ct).ConfigureAwait(false);
            if (fresh is not null) result = await _handler.ValidateTokenAsync(token, Parameters(fresh, algorithms)).ConfigureAwait(false);
        }
        if (!result.IsValid) throw new LogoutTokenException(Describe(result.Exception));

        var jwt = (JsonWebToken)result.SecurityToken;
        // No extension is understood here, so any critical one makes the token unacceptable (RFC 7515 §4.1.11).
        if (jwt.TryGetHeaderValue<object>("crit", out _)) throw new LogoutTokenException("The logout token has a \"crit\" header this app does not understand.");
        if (jwt.TryGetHeaderValue<string>("typ", out var typ)
            && !string.Equals(typ, "logout+jwt", StringComparison.OrdinalIgnoreCase) && !string.Equals(typ, "application/logout+jwt", StringComparison.OrdinalIgnoreCase))
            throw new LogoutTokenException("The logout token has the wrong \"typ\" header.");

        var claims = IdTokenValidator.ReadClaims(jwt.EncodedPayload);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var tolerance = (long)settings.Options.ClockTolerance.TotalSeconds;
        if (!IdTokenValidator.TryNumber(claims, "iat", out var iat)) throw new LogoutTokenException("The logout token has no \"iat\" claim.");
        if (iat > now + tolerance) throw new LogoutTokenException("The logout token was issued in the future.");
        if (iat < now - (long)MaxAge.TotalSeconds - tolerance) throw new LogoutTokenException("The logout token is too old.");
        var replayUntil = iat + (long)MaxAge.TotalSeconds + tolerance;
        if (claims.ContainsKey("exp"))
        {
            if (!IdTokenValidator.TryNumber(claims, "exp", out var exp)) throw new LogoutTokenException("The logout token \"exp\" claim is not a number.");
            if (exp <= now - tolerance) throw new LogoutTokenException("The logout token has expired.");
            replayUntil = Math.Min(replayUntil, exp + tolerance);
        }

        string? sid = null, sub = null;
        if (claims.TryGetValue("sid", out var sidValue))
            sid = sidValue.ValueKind == JsonValueKind.String ? sidValue.GetString() : throw new LogoutTokenException("\"sid\" claim must be a string");
        if (claims.TryGetValue("sub", out var subValue))
            sub = subValue.ValueKind == JsonValueKind.String ? subValue.GetString() : throw new LogoutTokenException("\"sub\" claim must be a string");
        if (string.IsNullOrEmpty(sid) && string.IsNullOrEmpty(sub)) throw new LogoutTokenException("either \"sid\" or \"sub\" (or both) claims must be present");
        if (claims.ContainsKey("nonce")) throw new LogoutTokenException("\"nonce\" claim is prohibited");
        if (!claims.TryGetValue("events", out var events)) throw new LogoutTokenException("\"events\" claim is missing");
        if (events.ValueKind != JsonValueKind.Object) throw new LogoutTokenException("\"events\" claim must be an object");
        if (!events.TryGetProperty(BackchannelLogoutEvent, out var member))
            throw new LogoutTokenException($"\"{BackchannelLogoutEvent}\" member is missing in the \"events\" claim");
        if (member.ValueKind != JsonValueKind.Object)
            throw new LogoutTokenException($"\"{BackchannelLogoutEvent}\" member in the \"events\" claim must be an object");
        if (!claims.TryGetValue("jti", out var jtiValue) || jtiValue.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(jtiValue.GetString()))
            throw new LogoutTokenException("\"jti\" claim is missing");

        return new Result(new LogoutTokenClaims(sid, sub, settings.Issuer), iat, jtiValue.GetString()!, replayUntil);
    }

    /// <summary>
    /// Marks a token's jti as used; false when it already was. A captured logout token must not be replayable, e.g. to
    /// log a user out again after they signed back in. Shared through IDistributedCache when the app has one.
    /// </summary>
    public async Task<bool> TryClaimAsync(Result token, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        PruneSeen(now);
        if (!_seenJti.TryAdd(token.Jti, token.ReplayUntil)) return false;
        if (cache is null) return true;
        var key = "auth0:logout-jti:" + token.Jti;
        if (await cache.GetAsync(key, ct).ConfigureAwait(false) is not null) return false;
        await cache.SetAsync(key, [1], new Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions
        {
            AbsoluteExpiration = DateTimeOffset.FromUnixTimeSeconds(Math.Max(token.ReplayUntil, now + 1)),
        }, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Forgets a claimed jti after the logout could not be carried out, so the provider's retry is accepted.</summary>
    public async Task ReleaseAsync(Result token)
    {
        _seenJti.TryRemove(token.Jti, out _);
        if (cache is not null)
        {
            try { await cache.RemoveAsync("auth0:logout-jti:" + token.Jti).ConfigureAwait(false); }
            catch (Exception ex) when (ex is not OperationCanceledException) { }
        }
    }

    private TokenValidationParameters Parameters(IReadOnlyList<SecurityKey> keys, string[] algorithms) => new()
    {
        ValidIssuer = settings.Issuer,
        ValidAudience = settings.ClientId,
        ValidateLifetime = false, // iat/exp checked by hand: exp is optional for logout tokens
        RequireExpirationTime = false,
        RequireSignedTokens = true,
        IssuerSigningKeys = keys,
        ValidAlgorithms = algorithms,
        TryAllIssuerSigningKeys = true,
    };

    private static string Describe(Exception? ex) => ex switch
    {
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "The logout token signature is invalid.",
        SecurityTokenInvalidIssuerException => "The logout token issuer is not the expected issuer.",
        SecurityTokenInvalidAudienceException => "The logout token audience is not this client.",
        SecurityTokenInvalidAlgorithmException => "The logout token is signed with an unexpected algorithm.",
        SecurityTokenMalformedException or ArgumentException => "The logout token is malformed.",
        _ => "The logout token is invalid.",
    };

    private void PruneSeen(long now)
    {
        if (_seenJti.Count < 1024) return;
        foreach (var (jti, until) in _seenJti) if (until <= now) _seenJti.TryRemove(jti, out _);
    }
}

internal sealed class LogoutTokenException(string message) : Exception(message);
