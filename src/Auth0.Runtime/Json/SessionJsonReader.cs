using System.Text.Json;

namespace Auth0.Minimal.Json;

/// <summary>
/// Reads a session payload with one <see cref="Utf8JsonReader"/> pass. The serializer's metadata path costs about
/// as much as the AES-GCM decryption on every new cookie value; this reads the same shape with the same outcome:
/// members matched exactly (escapes allowed), the last of a repeated member wins (the earliest <c>exp</c> and the
/// latest <c>nbf</c>), unknown members kept as extension data, and anything of the wrong type refused.
/// </summary>
internal static class SessionJsonReader
{
    /// <summary>The session, or null for a JSON <c>null</c>; throws <see cref="JsonException"/> or <see cref="InvalidOperationException"/> on anything malformed.</summary>
    public static Auth0Session? Read(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read()) throw new JsonException("Empty session.");
        Auth0Session? session = null;
        if (reader.TokenType != JsonTokenType.Null)
        {
            Expect(ref reader, JsonTokenType.StartObject);
            session = ReadSession(ref reader);
        }
        // Trailing content makes the reader throw, as the serializer does.
        if (reader.Read()) throw new JsonException("Trailing content after the session.");
        return session;
    }

    private static Auth0Session ReadSession(ref Utf8JsonReader reader)
    {
        // Absent, these are empty; an explicit null stays null, and the caller refuses the session.
        Auth0User? user = null;
        TokenSet? tokenSet = null;
        SessionInternal? @internal = null;
        bool hasUser = false, hasTokenSet = false, hasInternal = false;
        List<AccessTokenSet>? accessTokens = null;
        List<ConnectionTokenSet>? connectionTokenSets = null;
        Dictionary<string, JsonElement>? extra = null;
        long? exp = null, notBefore = null;

        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("user"u8)) { reader.Read(); user = ReadUser(ref reader); hasUser = true; }
            else if (reader.ValueTextEquals("tokenSet"u8)) { reader.Read(); tokenSet = IsNull(ref reader) ? null : ReadTokenSet(ref reader); hasTokenSet = true; }
            else if (reader.ValueTextEquals("internal"u8)) { reader.Read(); @internal = IsNull(ref reader) ? null : ReadInternal(ref reader); hasInternal = true; }
            else if (reader.ValueTextEquals("accessTokens"u8)) { reader.Read(); accessTokens = ReadList(ref reader, ReadAccessTokenSet); }
            else if (reader.ValueTextEquals("connectionTokenSets"u8)) { reader.Read(); connectionTokenSets = ReadList(ref reader, ReadConnectionTokenSet); }
            else if (reader.ValueTextEquals("exp"u8))
            {
                reader.Read();
                var value = StrictSeconds(ref reader);
                exp = exp is { } seen ? Math.Min(seen, value) : value;
            }
            else if (reader.ValueTextEquals("nbf"u8))
            {
                reader.Read();
                var value = StrictSeconds(ref reader);
                notBefore = notBefore is { } seen ? Math.Max(seen, value) : value;
            }
            else AddExtra(ref reader, ref extra);
        }

        return new Auth0Session(hasUser ? user! : new Auth0User(), hasTokenSet ? tokenSet! : new TokenSet(), hasInternal ? @internal! : new SessionInternal())
        {
            AccessTokens = accessTokens,
            ConnectionTokenSets = connectionTokenSets,
            Extra = extra,
            CookieExpiry = exp,
            CookieNotBefore = notBefore,
        };
    }

    private static Auth0User? ReadUser(ref Utf8JsonReader reader)
    {
        if (IsNull(ref reader)) return null;
        Expect(ref reader, JsonTokenType.StartObject);
        return ReadUserObject(ref reader);
    }

    /// <summary>A user object, the reader on its start: one document for the whole user, every claim a view into it.</summary>
    internal static Auth0User ReadUserObject(ref Utf8JsonReader reader)
    {
        var user = JsonElement.ParseValue(ref reader);
        var claims = new Dictionary<string, JsonElement>(user.GetPropertyCount(), StringComparer.Ordinal);
        foreach (var property in user.EnumerateObject()) claims[ClaimName(property)] = property.Value;
        return new Auth0User(claims);
    }

    // The claims every profile has, without a new string per session.
    private static string ClaimName(JsonProperty property)
    {
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8PropertyName(property);
        return raw.Length switch
        {
            3 when raw.SequenceEqual("sub"u8) => "sub",
            3 when raw.SequenceEqual("sid"u8) => "sid",
            4 when raw.SequenceEqual("name"u8) => "name",
            5 when raw.SequenceEqual("email"u8) => "email",
            6 when raw.SequenceEqual("org_id"u8) => "org_id",
            7 when raw.SequenceEqual("picture"u8) => "picture",
            8 when raw.SequenceEqual("nickname"u8) => "nickname",
            10 when raw.SequenceEqual("given_name"u8) => "given_name",
            10 when raw.SequenceEqual("updated_at"u8) => "updated_at",
            11 when raw.SequenceEqual("family_name"u8) => "family_name",
            14 when raw.SequenceEqual("email_verified"u8) => "email_verified",
            _ => property.Name,
        };
    }

    private static TokenSet ReadTokenSet(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        var set = new TokenSet();
        Dictionary<string, JsonElement>? extra = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("accessToken"u8)) set.AccessToken = ReadString(ref reader);
            else if (reader.ValueTextEquals("idToken"u8)) set.IdToken = ReadString(ref reader);
            else if (reader.ValueTextEquals("scope"u8)) set.Scope = ReadString(ref reader);
            else if (reader.ValueTextEquals("requestedScope"u8)) set.RequestedScope = ReadString(ref reader);
            else if (reader.ValueTextEquals("refreshToken"u8)) set.RefreshToken = ReadString(ref reader);
            else if (reader.ValueTextEquals("expiresAt"u8)) set.ExpiresAt = ReadSeconds(ref reader);
            else if (reader.ValueTextEquals("audience"u8)) set.Audience = ReadString(ref reader);
            else if (reader.ValueTextEquals("token_type"u8)) set.TokenType = ReadString(ref reader);
            else AddExtra(ref reader, ref extra);
        }
        set.Extra = extra;
        return set;
    }

    private static AccessTokenSet ReadAccessTokenSet(ref Utf8JsonReader reader)
    {
        var set = new AccessTokenSet();
        Dictionary<string, JsonElement>? extra = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("accessToken"u8)) set.AccessToken = ReadString(ref reader);
            else if (reader.ValueTextEquals("scope"u8)) set.Scope = ReadString(ref reader);
            else if (reader.ValueTextEquals("requestedScope"u8)) set.RequestedScope = ReadString(ref reader);
            else if (reader.ValueTextEquals("audience"u8)) set.Audience = ReadString(ref reader);
            else if (reader.ValueTextEquals("expiresAt"u8)) set.ExpiresAt = ReadSeconds(ref reader);
            else if (reader.ValueTextEquals("token_type"u8)) set.TokenType = ReadString(ref reader);
            else AddExtra(ref reader, ref extra);
        }
        set.Extra = extra;
        return set;
    }

    private static ConnectionTokenSet ReadConnectionTokenSet(ref Utf8JsonReader reader)
    {
        var set = new ConnectionTokenSet();
        Dictionary<string, JsonElement>? extra = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("accessToken"u8)) set.AccessToken = ReadString(ref reader);
            else if (reader.ValueTextEquals("scope"u8)) set.Scope = ReadString(ref reader);
            else if (reader.ValueTextEquals("expiresAt"u8)) set.ExpiresAt = ReadSeconds(ref reader);
            else if (reader.ValueTextEquals("connection"u8)) set.Connection = ReadString(ref reader);
            else if (reader.ValueTextEquals("loginHint"u8)) set.LoginHint = ReadString(ref reader);
            else AddExtra(ref reader, ref extra);
        }
        set.Extra = extra;
        return set;
    }

    private static SessionInternal ReadInternal(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartObject);
        var value = new SessionInternal();
        Dictionary<string, JsonElement>? extra = null;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("sid"u8)) value.Sid = ReadString(ref reader);
            else if (reader.ValueTextEquals("createdAt"u8)) value.CreatedAt = ReadSeconds(ref reader);
            else if (reader.ValueTextEquals("sessionExpiresAt"u8)) value.SessionExpiresAt = ReadSeconds(ref reader);
            else AddExtra(ref reader, ref extra);
        }
        value.Extra = extra;
        return value;
    }

    private delegate T ItemReader<out T>(ref Utf8JsonReader reader);

    // An array of objects; a null item is kept (the caller decides), anything else is refused.
    private static List<T>? ReadList<T>(ref Utf8JsonReader reader, ItemReader<T> readItem) where T : class
    {
        if (IsNull(ref reader)) return null;
        Expect(ref reader, JsonTokenType.StartArray);
        var items = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null) { items.Add(null!); continue; }
            Expect(ref reader, JsonTokenType.StartObject);
            items.Add(readItem(ref reader));
        }
        return items;
    }

    // On a property name: true, still on the name. At the end of the object: false.
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.PropertyName;
    }

    private static void AddExtra(ref Utf8JsonReader reader, ref Dictionary<string, JsonElement>? extra)
    {
        var name = reader.GetString()!;
        reader.Read();
        (extra ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[name] = JsonElement.ParseValue(ref reader);
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            _ => throw new JsonException("Expected a string."),
        };
    }

    private static long? ReadSeconds(ref Utf8JsonReader reader)
    {
        reader.Read();
        return EpochSecondsConverter.ReadSeconds(ref reader);
    }

    private static long StrictSeconds(ref Utf8JsonReader reader) => StrictEpochSecondsConverter.ReadSeconds(ref reader);

    private static bool IsNull(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null;

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (reader.TokenType != type) throw new JsonException($"Expected {type}.");
    }
}
