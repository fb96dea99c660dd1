using System.Text.Json;
using System.Text.Json.Serialization;
using Auth0.Minimal.Json;

namespace Auth0.Minimal;

/// <summary>
/// The session, in the JSON shape nextjs-auth0 v4 stores, so cookies stay compatible. Unknown top-level members
/// (for example fields a hook adds) are kept in <see cref="Extra"/> and survive every round trip.
/// </summary>
public sealed class Auth0Session
{
    public Auth0Session() : this(new Auth0User(), new TokenSet(), new SessionInternal()) { }

    internal Auth0Session(Auth0User user, TokenSet tokenSet, SessionInternal @internal)
    {
        User = user;
        TokenSet = tokenSet;
        Internal = @internal;
    }

    [JsonPropertyName("user")]
    public Auth0User User { get; set; }

    [JsonPropertyName("tokenSet")]
    public TokenSet TokenSet { get; set; }

    /// <summary>Access tokens for other audiences than the login one.</summary>
    [JsonPropertyName("accessTokens")]
    public List<AccessTokenSet>? AccessTokens { get; set; }

    [JsonPropertyName("internal")]
    public SessionInternal Internal { get; set; }

    /// <summary>Access tokens for federated connections (Google, GitHub, ...), by connection and login hint.</summary>
    [JsonPropertyName("connectionTokenSets")]
    public List<ConnectionTokenSet>? ConnectionTokenSets { get; set; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }

    private long? _cookieExpiry;
    private long? _cookieNotBefore;

    /// <summary>
    /// The cookie's <c>exp</c> while it is read (cleared right after): a member of its own, so reading it costs no
    /// extension-data entry. Named twice, the earliest counts, as a check of every occurrence would have it.
    /// </summary>
    [JsonInclude, JsonPropertyName("exp"), JsonConverter(typeof(StrictEpochSecondsConverter)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal long? CookieExpiry
    {
        get => _cookieExpiry;
        set => _cookieExpiry = value is { } v && _cookieExpiry is { } seen ? Math.Min(seen, v) : value;
    }

    /// <summary>An <c>nbf</c> another JOSE library may write, while the cookie is read; named twice, the latest counts.</summary>
    [JsonInclude, JsonPropertyName("nbf"), JsonConverter(typeof(StrictEpochSecondsConverter)), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    internal long? CookieNotBefore
    {
        get => _cookieNotBefore;
        set => _cookieNotBefore = value is { } v && _cookieNotBefore is { } seen ? Math.Max(seen, v) : value;
    }

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal) { "user", "tokenSet", "accessTokens", "internal", "exp", "nbf", "connectionTokenSets" };

    /// <summary>A custom top-level field (nextjs-auth0 apps store e.g. <c>updatedAt</c> this way).</summary>
    public JsonElement? GetField(string name) => Extra is not null && Extra.TryGetValue(name, out var value) ? value : null;

    /// <summary>Sets a custom top-level field; it survives every round trip of the session.</summary>
    public void SetField(string name, JsonElement value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Reserved.Contains(name)) throw new ArgumentException($"'{name}' is part of the session itself, not a custom field.", nameof(name));
        (Extra ??= new Dictionary<string, JsonElement>(StringComparer.Ordinal))[name] = value;
    }

    public bool RemoveField(string name) => Extra?.Remove(name) == true;

    /// <summary>
    /// An independent copy: changing it (or its token sets) never changes this one. Claim and field values are shared,
    /// which is safe because a <see cref="JsonElement"/> is immutable.
    /// </summary>
    internal Auth0Session Clone() => new(
        new Auth0User(new Dictionary<string, JsonElement>(User.Claims, StringComparer.Ordinal)), TokenSet.Clone(), Internal.Copy())
    {
        AccessTokens = AccessTokens?.Where(t => t is not null).Select(t => t.Clone()).ToList(),
        ConnectionTokenSets = ConnectionTokenSets?.Where(t => t is not null).Select(t => t.Clone()).ToList(),
        Extra = Extra is null ? null : new(Extra, StringComparer.Ordinal),
    };
}

public sealed class TokenSet
{
    [JsonPropertyName("accessToken")] public string? AccessToken { get; set; }
    [JsonPropertyName("idToken")] public string? IdToken { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("requestedScope")] public string? RequestedScope { get; set; }
    [JsonPropertyName("refreshToken")] public string? RefreshToken { get; set; }
    /// <summary>Expiry of <see cref="AccessToken"/> in Unix seconds.</summary>
    [JsonPropertyName("expiresAt"), JsonConverter(typeof(EpochSecondsConverter))] public long? ExpiresAt { get; set; }
    [JsonPropertyName("audience")] public string? Audience { get; set; }
    [JsonPropertyName("token_type")] public string? TokenType { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    internal TokenSet Clone()
    {
        var copy = (TokenSet)MemberwiseClone();
        copy.Extra = Extra is null ? null : new(Extra);
        return copy;
    }
}

public sealed class AccessTokenSet
{
    [JsonPropertyName("accessToken")] public string? AccessToken { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("requestedScope")] public string? RequestedScope { get; set; }
    [JsonPropertyName("audience")] public string? Audience { get; set; }
    [JsonPropertyName("expiresAt"), JsonConverter(typeof(EpochSecondsConverter))] public long? ExpiresAt { get; set; }
    [JsonPropertyName("token_type")] public string? TokenType { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    internal AccessTokenSet Clone()
    {
        var copy = (AccessTokenSet)MemberwiseClone();
        copy.Extra = Extra is null ? null : new(Extra);
        return copy;
    }
}

public sealed class ConnectionTokenSet
{
    [JsonPropertyName("accessToken")] public string? AccessToken { get; set; }
    [JsonPropertyName("scope")] public string? Scope { get; set; }
    [JsonPropertyName("expiresAt"), JsonConverter(typeof(EpochSecondsConverter))] public long? ExpiresAt { get; set; }
    [JsonPropertyName("connection")] public string? Connection { get; set; }
    [JsonPropertyName("loginHint")] public string? LoginHint { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }

    internal ConnectionTokenSet Clone()
    {
        var copy = (ConnectionTokenSet)MemberwiseClone();
        copy.Extra = Extra is null ? null : new(Extra);
        return copy;
    }
}

public sealed class SessionInternal
{
    /// <summary>A copy, so code that may not change internal data (hooks, session updates) can be undone.</summary>
    internal SessionInternal Copy() => new() { Sid = Sid, CreatedAt = CreatedAt, SessionExpiresAt = SessionExpiresAt, Extra = Extra is null ? null : new(Extra) };

    [JsonPropertyName("sid")] public string? Sid { get; set; }
    /// <summary>Login time in Unix seconds; the absolute session lifetime counts from here.</summary>
    [JsonPropertyName("createdAt"), JsonConverter(typeof(EpochSecondsConverter))] public long? CreatedAt { get; set; }
    [JsonPropertyName("sessionExpiresAt"), JsonConverter(typeof(EpochSecondsConverter))] public long? SessionExpiresAt { get; set; }
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}
