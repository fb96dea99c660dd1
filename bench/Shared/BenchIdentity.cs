using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authentication;

namespace Auth0.Minimal.Bench;

/// <summary>
/// One user and token set, shared by the load server and the micro benchmarks so that every format stores the same
/// thing: an Auth0 profile and JWT-shaped ID and access tokens plus an opaque refresh token of the sizes Auth0 issues.
/// </summary>
internal static class BenchIdentity
{
    public const string Issuer = "https://bench-tenant.us.auth0.com/";
    public const string ClientId = "LoadBenchClient0123456789abcdef";
    public const string Scope = "openid profile email offline_access";
    public const string Sid = "f3Tq0n2bC1sYz9dPq7Lm4WxV8rKa5HjE";

    /// <summary>The ID-token claims Auth0.Minimal keeps by default, in the order Auth0 sends them.</summary>
    public static IReadOnlyList<(string Name, string Value, bool IsBoolean)> UserClaims { get; } =
    [
        ("given_name", "Alice", false),
        ("family_name", "Example", false),
        ("nickname", "alice.example", false),
        ("name", "Alice Example", false),
        ("picture", "https://s.gravatar.com/avatar/6f9b0e1d2c3a4b5f6e7d8c9b0a1f2e3d?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fae.png", false),
        ("email", "alice.example@example.com", false),
        ("email_verified", "true", true),
        ("sub", "auth0|64f0c0ffee0123456789abcd", false),
    ];

    public static string IdToken { get; } = Jwt(900, seed: 1, ",\"iss\":\"" + Issuer + "\",\"aud\":\"" + ClientId + "\",\"iat\":1767225600,\"exp\":1767261600,\"sid\":\"" + Sid + "\",\"nonce\":\"", withProfile: true);

    public static string AccessToken { get; } = Jwt(700, seed: 2, "\"iss\":\"" + Issuer + "\",\"sub\":\"auth0|64f0c0ffee0123456789abcd\",\"aud\":[\"https://api.example.com\",\"" + Issuer + "userinfo\"],\"iat\":1767225600,\"exp\":1767312000,\"scope\":\"" + Scope + "\",\"azp\":\"" + ClientId + "\",\"permissions\":[\"read:data\"],\"jti\":\"", withProfile: false);

    /// <summary>Auth0 refresh tokens are opaque, about 100 characters.</summary>
    public static string RefreshToken { get; } = "v1." + RandomBase64Url(97, seed: 3);

    public static JsonElement ClaimJson(string value, bool isBoolean) =>
        isBoolean
            ? JsonSerializer.SerializeToElement(bool.Parse(value), BenchIdentityJsonContext.Default.Boolean)
            : JsonSerializer.SerializeToElement(value, BenchIdentityJsonContext.Default.String);

    /// <summary>The session as Auth0.Minimal stores it after a login with these tokens.</summary>
    public static Auth0Session Auth0Session(long now, bool withTokens = true)
    {
        var claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value, isBoolean) in UserClaims) claims[name] = ClaimJson(value, isBoolean);
        return new Auth0Session
        {
            User = new Auth0User(claims),
            TokenSet = new TokenSet
            {
                AccessToken = withTokens ? AccessToken : "at",
                IdToken = withTokens ? IdToken : null,
                RefreshToken = withTokens ? RefreshToken : null,
                Scope = Scope,
                RequestedScope = Scope,
                ExpiresAt = now + 86400,
            },
            Internal = new SessionInternal { Sid = Sid, CreatedAt = now },
        };
    }

    /// <summary>The same user as ASP.NET Core's cookie handler holds it (claims of the ID token, tokens as SaveTokens stores them).</summary>
    public static AuthenticationTicket Ticket(string scheme, DateTimeOffset now, bool withTokens = true)
    {
        var identity = new ClaimsIdentity(scheme, "name", "role");
        foreach (var (name, value, isBoolean) in UserClaims)
            identity.AddClaim(new Claim(name, value, isBoolean ? ClaimValueTypes.Boolean : ClaimValueTypes.String, Issuer));
        var properties = new AuthenticationProperties { IsPersistent = true, IssuedUtc = now, ExpiresUtc = now.AddDays(1) };
        properties.StoreTokens(withTokens
            ?
            [
                new AuthenticationToken { Name = "access_token", Value = AccessToken },
                new AuthenticationToken { Name = "id_token", Value = IdToken },
                new AuthenticationToken { Name = "refresh_token", Value = RefreshToken },
                new AuthenticationToken { Name = "token_type", Value = "Bearer" },
                new AuthenticationToken { Name = "expires_at", Value = now.AddDays(1).ToString("o", CultureInfo.InvariantCulture) },
            ]
            : [new AuthenticationToken { Name = "access_token", Value = "at" }]);
        return new AuthenticationTicket(new ClaimsPrincipal(identity), properties, scheme);
    }

    // header.payload.signature with an RS256 header and a 256-byte signature; the payload is padded to reach the length.
    private static string Jwt(int length, int seed, string claims, bool withProfile)
    {
        var header = B64("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"QzY0NkIxRjVEMkEwRjU3MEQ4QzBBNzIzNEQ2RjlCOEIzNkE1QTQ5Qg\"}");
        var signature = RandomBase64Url(342, seed);
        var profile = new StringBuilder("{");
        if (withProfile)
        {
            foreach (var (name, value, isBoolean) in UserClaims)
                profile.Append('"').Append(name).Append("\":").Append(isBoolean ? value : "\"" + value + "\"").Append(',');
            profile.Append("\"updated_at\":\"2026-01-01T00:00:00.000Z\"");
        }
        var prefix = profile + claims;
        for (var pad = 0; ; pad++)
        {
            var token = header + "." + B64(prefix + new string('x', pad) + "\"}") + "." + signature;
            if (token.Length >= length) return token;
        }
    }

    private static string B64(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    private static string RandomBase64Url(int chars, int seed)
    {
        var bytes = new byte[chars * 3 / 4 + 3];
        new Random(seed).NextBytes(bytes);
        return Base64Url.EncodeToString(bytes)[..chars];
    }
}

[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
internal sealed partial class BenchIdentityJsonContext : JsonSerializerContext;
