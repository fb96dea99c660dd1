using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// Compact JWE with <c>dir</c> + <c>A256GCM</c>, the cookie format of nextjs-auth0 v4, so cookies move between the two.
/// The key is HKDF-SHA256(UTF-8(secret), salt: empty, info: "JWE CEK"), derived once.
/// </summary>
internal sealed class CookieCrypto
{
    // base64url of {"enc":"A256GCM","alg":"dir"}: the exact header nextjs-auth0 writes.
    internal const string ProtectedHeader = "eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0";
    private static readonly byte[] HeaderAscii = Encoding.ASCII.GetBytes(ProtectedHeader);
    private const int IvSize = 12;
    private const int TagSize = 16;
    private const int MaxCookieChars = 64 * 1024;
    /// <summary>Seconds of tolerance on <c>exp</c>/<c>nbf</c>, as nextjs-auth0.</summary>
    internal const long ClockToleranceSeconds = 15;

    private readonly byte[] _key;
    // One AesGcm per thread (an instance is not safe for concurrent use): setting up the cipher and its key cost
    // about as much as decrypting a whole session cookie.
    private readonly ThreadLocal<AesGcm> _aes;

    public CookieCrypto(string secret)
    {
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: "JWE CEK"u8.ToArray());
        _aes = new ThreadLocal<AesGcm>(() => new AesGcm(_key, TagSize));
    }

    /// <summary>Encrypts <paramref name="payloadJson"/> (a JSON object) after setting its <c>exp</c> claim.</summary>
    public string Encrypt(ReadOnlySpan<byte> payloadJson, long expiresAtEpoch)
    {
        var plaintext = WithExp(payloadJson, expiresAtEpoch);
        try
        {
            Span<byte> iv = stackalloc byte[IvSize];
            Span<byte> tag = stackalloc byte[TagSize];
            RandomNumberGenerator.Fill(iv);
            var cipher = ArrayPool<byte>.Shared.Rent(plaintext.Length);
            try
            {
                var ct = cipher.AsSpan(0, plaintext.Length);
                _aes.Value!.Encrypt(iv, plaintext.AsSpan(), ct, tag, HeaderAscii);
                return string.Concat(ProtectedHeader, "..", Base64Url.Encode(iv), ".", Base64Url.Encode(ct), ".") + Base64Url.Encode(tag);
            }
            finally { ArrayPool<byte>.Shared.Return(cipher); }
        }
        finally { CryptographicOperations.ZeroMemory(plaintext); }
    }

    /// <summary>
    /// Decrypts a cookie value. Returns null for anything that is not a valid, unexpired JWE under our key: tampered,
    /// truncated, foreign, expired or not-yet-valid values are all "no cookie", never an exception.
    /// </summary>
    public byte[]? Decrypt(string? value, long nowEpoch) => Decrypt(value, nowEpoch, ClockToleranceSeconds);

    /// <summary>As <see cref="Decrypt(string?, long)"/> with an explicit tolerance on exp/nbf (sessions use none).</summary>
    public byte[]? Decrypt(string? value, long nowEpoch, long toleranceSeconds)
    {
        var plaintext = DecryptCore(value, pooled: false, out _);
        return plaintext is not null && HasValidTimes(plaintext, nowEpoch, toleranceSeconds) ? plaintext : null;
    }

    /// <summary>
    /// Decrypts into an array from <see cref="ArrayPool{T}.Shared"/> (the first <paramref name="length"/> bytes), without
    /// checking <c>exp</c>/<c>nbf</c>: for a caller that reads them while parsing the payload anyway, and that zeroes and
    /// returns the array afterwards.
    /// </summary>
    internal byte[]? DecryptPooledUnchecked(string? value, out int length) => DecryptCore(value, pooled: true, out length);

    private byte[]? DecryptCore(string? value, bool pooled, out int length)
    {
        length = 0;
        if (string.IsNullOrEmpty(value) || value.Length > MaxCookieChars) return null;
        var span = value.AsSpan();

        // hdr . (empty key) . iv . ciphertext . tag
        var d1 = span.IndexOf('.');
        if (d1 <= 0) return null;
        var header = span[..d1];
        var rest = span[(d1 + 1)..];
        if (rest.Length == 0 || rest[0] != '.') return null;
        rest = rest[1..];
        var d3 = rest.IndexOf('.');
        if (d3 < 0) return null;
        var ivText = rest[..d3];
        rest = rest[(d3 + 1)..];
        var d4 = rest.IndexOf('.');
        if (d4 < 0) return null;
        var ctText = rest[..d4];
        var tagText = rest[(d4 + 1)..];
        if (tagText.IndexOf('.') >= 0) return null;

        if (!header.SequenceEqual(ProtectedHeader) && !IsAcceptableHeader(header)) return null;

        Span<byte> iv = stackalloc byte[16];
        Span<byte> tag = stackalloc byte[24];
        if (!Base64Url.TryDecode(ivText, iv, out var ivLen) || ivLen != IvSize) return null;
        if (!Base64Url.TryDecode(tagText, tag, out var tagLen) || tagLen != TagSize) return null;

        var ctMax = Base64Url.MaxDecodedLength(ctText.Length);
        byte[]? ct = ArrayPool<byte>.Shared.Rent(Math.Max(ctMax, 1));
        try
        {
            if (!Base64Url.TryDecode(ctText, ct, out var ctLen)) return null;
            // Pooled callers get the plaintext in the ciphertext's own buffer: AES-GCM decrypts in place.
            var plaintext = pooled ? ct : new byte[ctLen];
            var aad = header.Length <= 256 ? stackalloc byte[header.Length] : new byte[header.Length];
            for (var i = 0; i < header.Length; i++) aad[i] = (byte)header[i];
            try
            {
                _aes.Value!.Decrypt(iv[..IvSize], ct.AsSpan(0, ctLen), tag[..TagSize], plaintext.AsSpan(0, ctLen), aad);
            }
            catch (CryptographicException)
            {
                return null;
            }
            length = ctLen;
            if (pooled) ct = null; // now the caller's to return
            return plaintext;
        }
        finally { if (ct is not null) ArrayPool<byte>.Shared.Return(ct, clearArray: pooled); }
    }

    // Another JOSE library may order the header members differently; accept exactly dir + A256GCM and nothing else
    // that changes processing (zip, crit), and no legacy v3 header (iat).
    private static bool IsAcceptableHeader(ReadOnlySpan<char> header)
    {
        if (header.Length > 512) return false;
        Span<byte> raw = stackalloc byte[512];
        if (!Base64Url.TryDecode(header, raw, out var len)) return false;
        try
        {
            var reader = new Utf8JsonReader(raw[..len]);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            bool alg = false, enc = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("alg")) { reader.Read(); alg = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("dir"); if (!alg) return false; }
                else if (reader.ValueTextEquals("enc")) { reader.Read(); enc = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("A256GCM"); if (!enc) return false; }
                else if (reader.ValueTextEquals("zip") || reader.ValueTextEquals("crit") || reader.ValueTextEquals("iat")) return false;
                else { reader.Read(); reader.Skip(); }
            }
            return alg && enc;
        }
        catch (JsonException) { return false; }
    }

    private static bool HasValidTimes(ReadOnlySpan<byte> plaintext, long now, long tolerance)
    {
        try
        {
            var reader = new Utf8JsonReader(plaintext);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) return true;
                if (reader.TokenType != JsonTokenType.PropertyName) return false;
                if (reader.ValueTextEquals("exp"))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var exp)) return false;
                    if (exp <= now - tolerance) return false;
                }
                else if (reader.ValueTextEquals("nbf"))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var nbf)) return false;
                    if (nbf > now + tolerance) return false;
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            return false;
        }
        catch (JsonException) { return false; }
    }

    // Appends the exp claim to a serialised object. Callers never put "exp" in the payload themselves.
    private static byte[] WithExp(ReadOnlySpan<byte> json, long exp)
    {
        var end = json.LastIndexOf((byte)'}');
        if (json.IsEmpty || json[0] != (byte)'{' || end < 0)
            throw new ArgumentException("Cookie payload must be a JSON object.", nameof(json));
        var body = json[..end].TrimEnd(" \t\r\n"u8);
        var empty = body.Length == 1;
        Span<byte> number = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(exp, number, out var numberLength);
        var result = new byte[body.Length + (empty ? 0 : 1) + 6 + numberLength + 1];
        body.CopyTo(result);
        var at = body.Length;
        if (!empty) result[at++] = (byte)',';
        "\"exp\":"u8.CopyTo(result.AsSpan(at));
        at += 6;
        number[..numberLength].CopyTo(result.AsSpan(at));
        at += numberLength;
        result[at] = (byte)'}';
        return result;
    }
}
