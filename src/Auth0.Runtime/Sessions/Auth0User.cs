using System.Text.Json;
using System.Text.Json.Serialization;
using Auth0.Minimal.Json;

namespace Auth0.Minimal;

/// <summary>The signed-in user's claims, kept as raw JSON so no claim's type can make a session unreadable.</summary>
[JsonConverter(typeof(Auth0UserConverter))]
public sealed class Auth0User
{
    /// <summary>The ID-token claims kept by default when no hook decides otherwise.</summary>
    public static IReadOnlyList<string> DefaultIdTokenClaims { get; } =
    [
        "sub", "name", "nickname", "given_name", "family_name", "picture", "email", "email_verified", "org_id", "act",
        "urn:auth0:my_org_current_user_permissions",
    ];

    public Auth0User() => Claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    public Auth0User(Dictionary<string, JsonElement> claims) => Claims = claims;

    /// <summary>All claims, in the order they were received.</summary>
    public Dictionary<string, JsonElement> Claims { get; }

    public string? Sub => GetString("sub");
    public string? Name => GetString("name");
    public string? Nickname => GetString("nickname");
    public string? GivenName => GetString("given_name");
    public string? FamilyName => GetString("family_name");
    public string? Picture => GetString("picture");
    public string? Email => GetString("email");
    public bool? EmailVerified => Claims.TryGetValue("email_verified", out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
    public string? OrgId => GetString("org_id");

    public string? GetString(string claim) =>
        Claims.TryGetValue(claim, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Keeps only <see cref="DefaultIdTokenClaims"/> (plus <paramref name="alsoKeep"/>).</summary>
    public static Auth0User FilterDefaultIdTokenClaims(IReadOnlyDictionary<string, JsonElement> claims, IEnumerable<string>? alsoKeep = null)
    {
        var extra = alsoKeep as ISet<string> ?? (alsoKeep is null ? null : new HashSet<string>(alsoKeep, StringComparer.Ordinal));
        var kept = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in claims)
            if (DefaultIdTokenClaims.Contains(name) || extra?.Contains(name) == true) kept[name] = value;
        return new Auth0User(kept);
    }
}
