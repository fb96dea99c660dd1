using System.Formats.Cbor;
using System.Text.Json;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// The compact session payload: one CBOR map with small integer keys for the members the library knows and text
/// keys for everything else (custom fields, unknown token-set members), written and read by hand, no reflection.
/// docs/session-format.md has the table of keys; they are part of the format and never change meaning.
/// </summary>
internal static class CompactSessionCodec
{
    // Session map.
    private const int KeyExp = 0, KeyUser = 1, KeyTokenSet = 2, KeyAccessTokens = 3, KeyInternal = 4;
    // Token set and access-token entries share one numbering (an entry has no ID or refresh token).
    private const int KeyAccessToken = 1, KeyIdToken = 2, KeyScope = 3, KeyRequestedScope = 4, KeyRefreshToken = 5,
        KeyExpiresAt = 6, KeyAudience = 7, KeyTokenType = 8;
    // Internal map.
    private const int KeySid = 1, KeyCreatedAt = 2, KeySessionExpiresAt = 3;

    /// <summary>User claims written as integers instead of their names. Append only: a key's meaning is fixed.</summary>
    private static readonly string[] ClaimNames =
    [
        "sub", "name", "nickname", "given_name", "family_name", "picture", "email", "email_verified", // 0-7
        "org_id", "org_name", "act", "urn:auth0:my_org_current_user_permissions", "updated_at", "locale", "sid", // 8-14
        "preferred_username", "middle_name", "profile", "website", "gender", "birthdate", "zoneinfo", "phone_number", // 15-22
        "phone_number_verified", // 23
    ];

    private static readonly Dictionary<string, int> ClaimKeys = BuildClaimKeys();

    private static Dictionary<string, int> BuildClaimKeys()
    {
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < ClaimNames.Length; i++) keys.Add(ClaimNames[i], i);
        return keys;
    }

    public static byte[] Encode(Auth0Session session, long expiresAtEpoch)
    {
        ArgumentNullException.ThrowIfNull(session);
        var writer = new CborWriter(CborConformanceMode.Lax, initialCapacity: 1024);
        var claims = session.User?.Claims;
        var tokenSet = session.TokenSet ?? new TokenSet();
        var internals = session.Internal ?? new SessionInternal();
        var extra = session.Extra;

        var tokenSetCount = CountTokenSet(tokenSet);
        var internalCount = CountInternal(internals);
        var extraCount = 0;
        if (extra is not null)
            foreach (var name in extra.Keys)
                if (name != "exp") extraCount++;

        writer.WriteStartMap(1 + (claims is { Count: > 0 } ? 1 : 0) + (tokenSetCount > 0 ? 1 : 0)
            + (session.AccessTokens is not null ? 1 : 0) + (internalCount > 0 ? 1 : 0) + extraCount);
        writer.WriteInt32(KeyExp);
        writer.WriteInt64(expiresAtEpoch);

        if (claims is { Count: > 0 })
        {
            writer.WriteInt32(KeyUser);
            writer.WriteStartMap(claims.Count);
            foreach (var (name, value) in claims)
            {
                if (ClaimKeys.TryGetValue(name, out var key)) writer.WriteInt32(key);
                else writer.WriteTextString(name);
                CompactJson.Write(writer, value);
            }
            writer.WriteEndMap();
        }

        if (tokenSetCount > 0)
        {
            writer.WriteInt32(KeyTokenSet);
            writer.WriteStartMap(tokenSetCount);
            WriteToken(writer, KeyAccessToken, tokenSet.AccessToken);
            WriteToken(writer, KeyIdToken, tokenSet.IdToken);
            WriteToken(writer, KeyScope, tokenSet.Scope);
            WriteToken(writer, KeyRequestedScope, tokenSet.RequestedScope);
            WriteToken(writer, KeyRefreshToken, tokenSet.RefreshToken);
            WriteNumber(writer, KeyExpiresAt, tokenSet.ExpiresAt);
            WriteToken(writer, KeyAudience, tokenSet.Audience);
            WriteToken(writer, KeyTokenType, tokenSet.TokenType);
            WriteExtra(writer, tokenSet.Extra);
            writer.WriteEndMap();
        }

        if (session.AccessTokens is { } entries)
        {
            writer.WriteInt32(KeyAccessTokens);
            writer.WriteStartArray(entries.Count);
            foreach (var entry in entries)
            {
                if (entry is null)
                {
                    writer.WriteNull(); // as the JSON format: stored, and refused when read
                    continue;
                }
                writer.WriteStartMap(CountAccessTokenSet(entry));
                WriteToken(writer, KeyAccessToken, entry.AccessToken);
                WriteToken(writer, KeyScope, entry.Scope);
                WriteToken(writer, KeyRequestedScope, entry.RequestedScope);
                WriteNumber(writer, KeyExpiresAt, entry.ExpiresAt);
                WriteToken(writer, KeyAudience, entry.Audience);
                WriteToken(writer, KeyTokenType, entry.TokenType);
                WriteExtra(writer, entry.Extra);
                writer.WriteEndMap();
            }
            writer.WriteEndArray();
        }

        if (internalCount > 0)
        {
            writer.WriteInt32(KeyInternal);
            writer.WriteStartMap(internalCount);
            WriteToken(writer, KeySid, internals.Sid);
            WriteNumber(writer, KeyCreatedAt, internals.CreatedAt);
            WriteNumber(writer, KeySessionExpiresAt, internals.SessionExpiresAt);
            WriteExtra(writer, internals.Extra);
            writer.WriteEndMap();
        }

        if (extra is not null)
            foreach (var (name, value) in extra)
            {
                if (name == "exp") continue; // the cookie's own expiry is key 0
                writer.WriteTextString(name);
                CompactJson.Write(writer, value);
            }

        writer.WriteEndMap();
        return writer.Encode();
    }

    private static int CountTokenSet(TokenSet t) =>
        Present(t.AccessToken) + Present(t.IdToken) + Present(t.Scope) + Present(t.RequestedScope) + Present(t.RefreshToken)
        + (t.ExpiresAt is null ? 0 : 1) + Present(t.Audience) + Present(t.TokenType) + (t.Extra?.Count ?? 0);

    private static int CountAccessTokenSet(AccessTokenSet t) =>
        Present(t.AccessToken) + Present(t.Scope) + Present(t.RequestedScope) + (t.ExpiresAt is null ? 0 : 1)
        + Present(t.Audience) + Present(t.TokenType) + (t.Extra?.Count ?? 0);

    private static int CountInternal(SessionInternal i) =>
        Present(i.Sid) + (i.CreatedAt is null ? 0 : 1) + (i.SessionExpiresAt is null ? 0 : 1) + (i.Extra?.Count ?? 0);

    private static int Present(string? value) => value is null ? 0 : 1;

    private static void WriteToken(CborWriter writer, int key, string? value)
    {
        if (value is null) return;
        writer.WriteInt32(key);
        CompactTokens.Write(writer, value);
    }

    private static void WriteNumber(CborWriter writer, int key, long? value)
    {
        if (value is not { } number) return;
        writer.WriteInt32(key);
        writer.WriteInt64(number);
    }

    private static void WriteExtra(CborWriter writer, Dictionary<string, JsonElement>? extra)
    {
        if (extra is null) return;
        foreach (var (name, value) in extra)
        {
            writer.WriteTextString(name);
            CompactJson.Write(writer, value);
        }
    }

    /// <summary>
    /// Reads a payload; null when it is malformed, has an unknown integer key or a member twice, or when its expiry is
    /// not after <paramref name="nowEpoch"/>. Never throws.
    /// </summary>
    public static Auth0Session? Decode(byte[] payload, long nowEpoch)
    {
        try
        {
            var reader = new CborReader(payload, CborConformanceMode.Lax);
            var session = ReadSession(reader, nowEpoch);
            return session is not null && reader.BytesRemaining == 0 ? session : null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or ArgumentException or OverflowException
                                      or FormatException or JsonException)
        {
            return null;
        }
    }

    private static Auth0Session? ReadSession(CborReader reader, long now)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        reader.ReadStartMap();
        var session = new Auth0Session();
        var seen = 0;
        long? exp = null;
        var extra = new CompactJsonMembers();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.PeekState() == CborReaderState.TextString)
            {
                var name = CompactTokens.ReadText(reader);
                if (name == "exp") { reader.SkipValue(); continue; }
                if (!extra.TryAdd(name, reader)) return null;
                continue;
            }
            if (!TryReadKey(reader, ref seen, out var key)) return null;
            switch (key)
            {
                case KeyExp:
                    exp = reader.ReadInt64();
                    if (exp <= now) return null; // exact: expired at the second of exp
                    break;
                case KeyUser:
                    if (ReadUser(reader) is not { } user) return null;
                    session.User = user;
                    break;
                case KeyTokenSet:
                    if (ReadTokenSet(reader) is not { } tokenSet) return null;
                    session.TokenSet = tokenSet;
                    break;
                case KeyAccessTokens:
                    if (ReadAccessTokens(reader) is not { } list) return null;
                    session.AccessTokens = list;
                    break;
                case KeyInternal:
                    if (ReadInternal(reader) is not { } internals) return null;
                    session.Internal = internals;
                    break;
                default:
                    return null;
            }
        }
        reader.ReadEndMap();
        if (exp is null || !extra.TryBuild(out var members)) return null;
        session.Extra = members.Count > 0 ? members : null;
        return session;
    }

    // An integer key below 32, each at most once per map.
    private static bool TryReadKey(CborReader reader, ref int seen, out int key)
    {
        key = -1;
        if (reader.PeekState() != CborReaderState.UnsignedInteger) return false;
        var value = reader.ReadUInt64();
        if (value >= 32 || (seen & (1 << (int)value)) != 0) return false;
        key = (int)value;
        seen |= 1 << key;
        return true;
    }

    private static Auth0User? ReadUser(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        reader.ReadStartMap();
        var claims = new CompactJsonMembers();
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            string name;
            if (reader.PeekState() == CborReaderState.TextString) name = CompactTokens.ReadText(reader);
            else if (reader.PeekState() == CborReaderState.UnsignedInteger && reader.ReadUInt64() is var key && key < (ulong)ClaimNames.Length) name = ClaimNames[key];
            else return null;
            if (!claims.TryAdd(name, reader)) return null;
        }
        reader.ReadEndMap();
        return claims.TryBuild(out var members) ? new Auth0User(members) : null;
    }

    private static TokenSet? ReadTokenSet(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        reader.ReadStartMap();
        var result = new TokenSet();
        var extra = new CompactJsonMembers();
        var seen = 0;
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.PeekState() == CborReaderState.TextString)
            {
                if (!extra.TryAdd(CompactTokens.ReadText(reader), reader)) return null;
                continue;
            }
            if (!TryReadKey(reader, ref seen, out var key)) return null;
            string? text = null;
            long number = 0;
            var ok = key == KeyExpiresAt ? TryReadNumber(reader, out number) : CompactTokens.TryRead(reader, out text);
            if (!ok) return null;
            switch (key)
            {
                case KeyAccessToken: result.AccessToken = text; break;
                case KeyIdToken: result.IdToken = text; break;
                case KeyScope: result.Scope = text; break;
                case KeyRequestedScope: result.RequestedScope = text; break;
                case KeyRefreshToken: result.RefreshToken = text; break;
                case KeyExpiresAt: result.ExpiresAt = number; break;
                case KeyAudience: result.Audience = text; break;
                case KeyTokenType: result.TokenType = text; break;
                default: return null;
            }
        }
        reader.ReadEndMap();
        if (!extra.TryBuild(out var members)) return null;
        result.Extra = members.Count > 0 ? members : null;
        return result;
    }

    private static List<AccessTokenSet>? ReadAccessTokens(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartArray) return null;
        reader.ReadStartArray();
        var list = new List<AccessTokenSet>();
        while (reader.PeekState() != CborReaderState.EndArray)
        {
            if (ReadAccessTokenSet(reader) is not { } entry) return null;
            list.Add(entry);
        }
        reader.ReadEndArray();
        return list;
    }

    private static AccessTokenSet? ReadAccessTokenSet(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        reader.ReadStartMap();
        var result = new AccessTokenSet();
        var extra = new CompactJsonMembers();
        var seen = 0;
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.PeekState() == CborReaderState.TextString)
            {
                if (!extra.TryAdd(CompactTokens.ReadText(reader), reader)) return null;
                continue;
            }
            if (!TryReadKey(reader, ref seen, out var key)) return null;
            string? text = null;
            long number = 0;
            var ok = key == KeyExpiresAt ? TryReadNumber(reader, out number) : CompactTokens.TryRead(reader, out text);
            if (!ok) return null;
            switch (key)
            {
                case KeyAccessToken: result.AccessToken = text; break;
                case KeyScope: result.Scope = text; break;
                case KeyRequestedScope: result.RequestedScope = text; break;
                case KeyExpiresAt: result.ExpiresAt = number; break;
                case KeyAudience: result.Audience = text; break;
                case KeyTokenType: result.TokenType = text; break;
                default: return null;
            }
        }
        reader.ReadEndMap();
        if (!extra.TryBuild(out var members)) return null;
        result.Extra = members.Count > 0 ? members : null;
        return result;
    }

    private static SessionInternal? ReadInternal(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        reader.ReadStartMap();
        var result = new SessionInternal();
        var extra = new CompactJsonMembers();
        var seen = 0;
        while (reader.PeekState() != CborReaderState.EndMap)
        {
            if (reader.PeekState() == CborReaderState.TextString)
            {
                if (!extra.TryAdd(CompactTokens.ReadText(reader), reader)) return null;
                continue;
            }
            if (!TryReadKey(reader, ref seen, out var key)) return null;
            switch (key)
            {
                case KeySid:
                    if (!CompactTokens.TryRead(reader, out var sid)) return null;
                    result.Sid = sid;
                    break;
                case KeyCreatedAt:
                    if (!TryReadNumber(reader, out var createdAt)) return null;
                    result.CreatedAt = createdAt;
                    break;
                case KeySessionExpiresAt:
                    if (!TryReadNumber(reader, out var expiresAt)) return null;
                    result.SessionExpiresAt = expiresAt;
                    break;
                default:
                    return null;
            }
        }
        reader.ReadEndMap();
        if (!extra.TryBuild(out var members)) return null;
        result.Extra = members.Count > 0 ? members : null;
        return result;
    }

    private static bool TryReadNumber(CborReader reader, out long value)
    {
        value = 0;
        if (reader.PeekState() is not (CborReaderState.UnsignedInteger or CborReaderState.NegativeInteger)) return false;
        value = reader.ReadInt64();
        return true;
    }
}
