using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Auth0.Minimal.Crypto;

namespace Auth0.Minimal.DPoP;

/// <summary>
/// Builds DPoP proof JWTs (RFC 9449) with Utf8JsonWriter and ECDsa, and remembers the last DPoP-Nonce of each origin.
/// The header (with the public JWK) is encoded once.
/// </summary>
public sealed class DPoPProofFactory
{
    private const int MaxOrigins = 100;
    private readonly DPoPKeyPair _key;
    private readonly TimeProvider _time;
    private readonly long _clockSkewSeconds;
    private readonly byte[] _encodedHeader;
    private readonly ConcurrentDictionary<string, string> _nonces = new(StringComparer.Ordinal);

    public DPoPProofFactory(DPoPKeyPair key, TimeProvider? time = null, TimeSpan clockSkew = default)
    {
        _key = key;
        _time = time ?? TimeProvider.System;
        _clockSkewSeconds = (long)clockSkew.TotalSeconds;
        var header = "{\"alg\":\"ES256\",\"typ\":\"dpop+jwt\",\"jwk\":{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" + key.X + "\",\"y\":\"" + key.Y + "\"}}";
        _encodedHeader = Encoding.ASCII.GetBytes(Base64Url.Encode(Encoding.ASCII.GetBytes(header)));
    }

    public DPoPKeyPair Key => _key;

    /// <summary>The htu of a request URI: scheme, host, non-default port and path; no query, no fragment.</summary>
    public static string Htu(Uri uri) =>
        uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    public static string Origin(Uri uri) => uri.GetComponents(UriComponents.SchemeAndServer, UriFormat.UriEscaped);

    /// <summary>
    /// The nonce the server at <paramref name="uri"/>'s origin asked for last, if any. An authorization server and a
    /// resource server keep separate nonces (RFC 9449 sections 8 and 9) even on one origin, as Auth0's token endpoint
    /// and My Account API do, so each has its own slot.
    /// </summary>
    public string? NonceFor(Uri uri, bool resourceServer = false) => _nonces.TryGetValue(NonceKey(uri, resourceServer), out var nonce) ? nonce : null;

    /// <summary>Remembers a DPoP-Nonce response header for its origin and server role.</summary>
    public void RememberNonce(Uri uri, string? nonce, bool resourceServer = false)
    {
        if (string.IsNullOrEmpty(nonce) || nonce.Length > 1024) return;
        var key = NonceKey(uri, resourceServer);
        if (_nonces.Count >= MaxOrigins && !_nonces.ContainsKey(key)) _nonces.Clear();
        _nonces[key] = nonce;
    }

    private static string NonceKey(Uri uri, bool resourceServer) => (resourceServer ? "rs " : "as ") + Origin(uri);

    /// <summary>A proof for one request; <paramref name="accessToken"/> adds <c>ath</c> (resource requests).</summary>
    public string CreateProof(string method, Uri uri, string? accessToken = null, string? nonce = null)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(payload))
        {
            writer.WriteStartObject();
            writer.WriteNumber("iat"u8, _time.GetUtcNow().ToUnixTimeSeconds() + _clockSkewSeconds);
            Span<byte> jti = stackalloc byte[32];
            RandomNumberGenerator.Fill(jti);
            writer.WriteString("jti"u8, Base64Url.Encode(jti));
            writer.WriteString("htm"u8, method); // methods are case-sensitive: the one on the wire
            writer.WriteString("htu"u8, Htu(uri));
            if (nonce is not null) writer.WriteString("nonce"u8, nonce);
            if (accessToken is not null)
            {
                Span<byte> hash = stackalloc byte[32];
                var tokenBytes = Encoding.ASCII.GetBytes(accessToken);
                SHA256.HashData(tokenBytes, hash);
                writer.WriteString("ath"u8, Base64Url.Encode(hash));
            }
            writer.WriteEndObject();
        }

        var encodedPayload = Base64Url.Encode(payload.WrittenSpan);
        var signingInput = new byte[_encodedHeader.Length + 1 + encodedPayload.Length];
        _encodedHeader.CopyTo(signingInput, 0);
        signingInput[_encodedHeader.Length] = (byte)'.';
        Encoding.ASCII.GetBytes(encodedPayload, signingInput.AsSpan(_encodedHeader.Length + 1));
        Span<byte> signature = stackalloc byte[64];
        if (!_key.Key.TrySignData(signingInput, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out var written) || written != 64)
            throw new CryptographicException("The DPoP proof could not be signed.");
        return string.Concat(Encoding.ASCII.GetString(signingInput), ".", Base64Url.Encode(signature));
    }
}
