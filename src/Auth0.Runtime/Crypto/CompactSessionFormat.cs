using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// The opt-in compact session cookie: <c>c1.</c> + base64url(COSE_Encrypt0 with AES-256-GCM) over the session as
/// CBOR, with JWTs kept as their decoded bytes. Not readable by nextjs-auth0; see docs/session-format.md.
/// The key is HKDF-SHA256(UTF-8(secret), salt: empty, info: "Auth0.Minimal compact session"), so it is never the
/// key of the JWE format.
/// </summary>
internal sealed class CompactSessionFormat
{
    /// <summary>
    /// Starts every compact value. A JWE starts with the base64url of its JSON header, far longer than two characters,
    /// and needs an empty second segment ("..") where this has base64url, so neither reader ever accepts the other.
    /// </summary>
    internal const string Prefix = "c1.";

    internal const int MaxValueChars = 64 * 1024;

    private static readonly byte[] KeyInfo = Encoding.UTF8.GetBytes("Auth0.Minimal compact session");

    private readonly byte[] _key;

    public CompactSessionFormat(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, salt: [], info: KeyInfo);
    }

    /// <summary>True when <paramref name="value"/> is in this format (and not a JWE), whether or not it opens.</summary>
    public static bool IsCompact(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Encrypts the session with its expiry, in Unix seconds, inside the payload.</summary>
    public string Seal(Auth0Session session, long expiresAtEpoch)
    {
        var payload = CompactSessionCodec.Encode(WithConnectionTokensAsField(session), expiresAtEpoch);
        try
        {
            return Prefix + Base64Url.Encode(CompactEnvelope.Seal(_key, payload));
        }
        finally { CryptographicOperations.ZeroMemory(payload); }
    }

    /// <summary>
    /// The session in <paramref name="value"/>, or null for anything else: wrong prefix, bad base64url, oversize,
    /// malformed or truncated structure, another key, any changed byte, a payload that does not read, or an expiry
    /// not after <paramref name="nowEpoch"/> (exact, no tolerance). Never throws.
    /// </summary>
    public Auth0Session? Open(string? value, long nowEpoch)
    {
        var plaintext = OpenPayload(value);
        if (plaintext is null) return null;
        try
        {
            return WithConnectionTokensTyped(CompactSessionCodec.Decode(plaintext, nowEpoch));
        }
        finally { CryptographicOperations.ZeroMemory(plaintext); }
    }

    /// <summary>The decrypted CBOR payload of a value, not yet read (for tests of the payload reader).</summary>
    internal byte[]? OpenPayload(string? value)
    {
        if (value is null || value.Length > MaxValueChars || !IsCompact(value)) return null;
        var text = value.AsSpan(Prefix.Length);
        if (text.IsEmpty || !HasCanonicalTail(text)) return null;
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.MaxDecodedLength(text.Length));
        try
        {
            if (!Base64Url.TryDecode(text, buffer, out var length)) return null;
            return CompactEnvelope.Open(_key, buffer.AsMemory(0, length));
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>Seals an arbitrary payload (for tests of the payload reader).</summary>
    internal string SealPayload(ReadOnlySpan<byte> payload) => Prefix + Base64Url.Encode(CompactEnvelope.Seal(_key, payload));

    // Base64url leaves 2 or 4 unused bits in a last partial character; a decoder ignores them, so without this check
    // up to 16 spellings of one cookie would open. Only the encoder's own spelling (unused bits zero) is accepted.
    private static bool HasCanonicalTail(ReadOnlySpan<char> text)
    {
        var unusedMask = (text.Length % 4) switch { 2 => 0x0F, 3 => 0x03, _ => 0 };
        return unusedMask == 0 || (SextetOf(text[^1]) & unusedMask) == 0;
    }

    private static int SextetOf(char c) => c switch
    {
        >= 'A' and <= 'Z' => c - 'A',
        >= 'a' and <= 'z' => c - 'a' + 26,
        >= '0' and <= '9' => c - '0' + 52,
        '-' => 62,
        '_' => 63,
        _ => -1,
    };

    private const string ConnectionTokensField = "connectionTokenSets";

    // The codec knows the core members; connection tokens travel as a plain JSON member, written and read by hand.
    private static Auth0Session WithConnectionTokensAsField(Auth0Session session)
    {
        if (session.ConnectionTokenSets is not { Count: > 0 } list) return session;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var entry in list)
            {
                writer.WriteStartObject();
                if (entry.AccessToken is not null) writer.WriteString("accessToken", entry.AccessToken);
                if (entry.Scope is not null) writer.WriteString("scope", entry.Scope);
                if (entry.ExpiresAt is { } exp) writer.WriteNumber("expiresAt", exp);
                if (entry.Connection is not null) writer.WriteString("connection", entry.Connection);
                if (entry.LoginHint is not null) writer.WriteString("loginHint", entry.LoginHint);
                if (entry.Extra is not null)
                    foreach (var (name, value) in entry.Extra) { writer.WritePropertyName(name); value.WriteTo(writer); }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        using var document = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
        var extra = session.Extra is null ? new Dictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal) : new(session.Extra);
        extra[ConnectionTokensField] = document.RootElement.Clone();
        return new Auth0Session { User = session.User, TokenSet = session.TokenSet, AccessTokens = session.AccessTokens, Internal = session.Internal, Extra = extra };
    }

    private static Auth0Session? WithConnectionTokensTyped(Auth0Session? session)
    {
        if (session?.Extra is not { } extra || !extra.Remove(ConnectionTokensField, out var value)) return session;
        if (value.ValueKind != System.Text.Json.JsonValueKind.Array) return null;
        var list = new List<ConnectionTokenSet>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
            var entry = new ConnectionTokenSet();
            foreach (var property in item.EnumerateObject())
            {
                var v = property.Value;
                switch (property.Name)
                {
                    case "accessToken" when v.ValueKind == System.Text.Json.JsonValueKind.String: entry.AccessToken = v.GetString(); break;
                    case "scope" when v.ValueKind == System.Text.Json.JsonValueKind.String: entry.Scope = v.GetString(); break;
                    case "expiresAt" when v.ValueKind == System.Text.Json.JsonValueKind.Number && v.TryGetInt64(out var exp): entry.ExpiresAt = exp; break;
                    case "connection" when v.ValueKind == System.Text.Json.JsonValueKind.String: entry.Connection = v.GetString(); break;
                    case "loginHint" when v.ValueKind == System.Text.Json.JsonValueKind.String: entry.LoginHint = v.GetString(); break;
                    default: (entry.Extra ??= new(StringComparer.Ordinal))[property.Name] = v.Clone(); break;
                }
            }
            list.Add(entry);
        }
        session.ConnectionTokenSets = list;
        if (extra.Count == 0) session.Extra = null;
        return session;
    }
}
