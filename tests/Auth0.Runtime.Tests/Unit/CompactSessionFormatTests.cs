using System.Collections.Immutable;
using System.Formats.Cbor;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Auth0.Minimal.Crypto;
using Xunit.Abstractions;

namespace Auth0.Minimal.Tests.Unit;

public class CompactSessionFormatTests(ITestOutputHelper output)
{
    private const string Secret = "compact-test-secret-0123456789abcdefghijklmn";
    private const long Now = 1_773_480_413; // fixed, so the measured sizes are reproducible
    private const long Exp = Now + 86_400;

    private static readonly CompactSessionFormat Format = new(Secret);

    // ---- sessions -------------------------------------------------------------------------------------------------

    private static readonly RSA SigningKey = RSA.Create(2048);

    private static string B64(ReadOnlySpan<byte> bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    /// <summary>A real RS256 JWS over the given header and payload JSON.</summary>
    private static string Jwt(string header, string payload)
    {
        var signingInput = B64(Encoding.UTF8.GetBytes(header)) + "." + B64(Encoding.UTF8.GetBytes(payload));
        var signature = SigningKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + B64(signature);
    }

    private const string Kid = "ZxPq8uT3nLw2Rv6Yk0Hs9";
    private const string Issuer = "https://example-tenant.us.auth0.com/";
    private const string ClientId = "k3Jx9Q2mZ7vB4nL8pR1tW6yH0sD5fG2a";
    private const string Subject = "auth0|65f1c2d3e4b5a69788796a5b";

    internal static string IdToken() => Jwt(
        $$"""{"alg":"RS256","typ":"JWT","kid":"{{Kid}}"}""",
        $$"""{"nickname":"alice","name":"Alice Example","picture":"https://s.gravatar.com/avatar/5e2b4f3c8a1d9e7f.png","email":"alice@example.com","email_verified":true,"iss":"{{Issuer}}","aud":"{{ClientId}}","sub":"{{Subject}}","iat":{{Now}},"exp":{{Now + 36000}},"sid":"Yx8bQ2nW5kR9tL3vH7pZ1cF4","nonce":"q0Lb9mXr2yT5wN8zKd4sVj7A"}""");

    internal static string AccessToken(string audience, string scope) => Jwt(
        $$"""{"alg":"RS256","typ":"JWT","kid":"{{Kid}}"}""",
        $$"""{"iss":"{{Issuer}}","sub":"{{Subject}}","aud":["{{audience}}"],"iat":{{Now}},"exp":{{Now + 86400}},"scope":"{{scope}}","azp":"{{ClientId}}"}""");

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>Case (a): user sub/name/email, opaque access and refresh tokens, no ID token.</summary>
    internal static Auth0Session SmallSession() => new()
    {
        User = new Auth0User(new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["sub"] = Element("\"" + Subject + "\""),
            ["name"] = Element("\"Alice Example\""),
            ["email"] = Element("\"alice@example.com\""),
        }),
        TokenSet = new TokenSet
        {
            AccessToken = "u8Jq3LkV0xWm2Zr7Tb5Yc9Nd1Fg4Hs6P",
            RefreshToken = "v1.MmRfQ2xGc0tYd2VvT3JhN0pUbnB4M2RjUQ",
            Scope = "openid profile email offline_access",
            RequestedScope = "openid profile email offline_access",
            ExpiresAt = Now + 86400,
        },
        Internal = new SessionInternal { Sid = "Yx8bQ2nW5kR9tL3vH7pZ1cF4", CreatedAt = Now },
    };

    /// <summary>Case (b): RS256 ID token, JWT access token, opaque 40-character refresh token, two API tokens.</summary>
    internal static Auth0Session TokenSession() => new()
    {
        User = new Auth0User(new Dictionary<string, JsonElement>(StringComparer.Ordinal)
        {
            ["sub"] = Element("\"" + Subject + "\""),
            ["name"] = Element("\"Alice Example\""),
            ["nickname"] = Element("\"alice\""),
            ["picture"] = Element("\"https://s.gravatar.com/avatar/5e2b4f3c8a1d9e7f.png\""),
            ["email"] = Element("\"alice@example.com\""),
            ["email_verified"] = Element("true"),
        }),
        TokenSet = new TokenSet
        {
            AccessToken = AccessToken("https://api.example.com/", "openid profile email offline_access"),
            IdToken = IdToken(),
            RefreshToken = "v1.MmRfQ2xGc0tYd2VvT3JhN0pUbnB4M2RjUWs4Z",
            Scope = "openid profile email offline_access",
            RequestedScope = "openid profile email offline_access",
            Audience = "https://api.example.com/",
            ExpiresAt = Now + 86400,
        },
        AccessTokens =
        [
            new AccessTokenSet
            {
                AccessToken = AccessToken("https://orders.example.com/", "read:orders write:orders"),
                Audience = "https://orders.example.com/", Scope = "read:orders write:orders", RequestedScope = "read:orders write:orders",
                ExpiresAt = Now + 86400, TokenType = "Bearer",
            },
            new AccessTokenSet
            {
                AccessToken = AccessToken("https://billing.example.com/", "read:invoices"),
                Audience = "https://billing.example.com/", Scope = "read:invoices", RequestedScope = "read:invoices",
                ExpiresAt = Now + 86400, TokenType = "Bearer",
            },
        ],
        Internal = new SessionInternal { Sid = "Yx8bQ2nW5kR9tL3vH7pZ1cF4", CreatedAt = Now },
    };

    /// <summary>Everything at once: JWTs everywhere, unicode, nested claims, numbers of every kind, extra members at every level.</summary>
    private static Auth0Session RichSession()
    {
        var session = TokenSession();
        var claims = session.User.Claims;
        claims["given_name"] = Element("\"Zoë\"");
        claims["family_name"] = Element("\"東京 🎉 Ñandú\"");
        claims["https://example.com/roles"] = Element("""["admin","user",{"scope":"org:42","since":1700000000}]""");
        claims["https://example.com/app_metadata"] = Element("""{"plan":{"name":"pro","seats":25,"price":19.99,"trial":false,"notes":null},"tags":[],"meta":{}}""");
        claims["https://example.com/numbers"] = Element("""[0,-1,1.5,-0.25,1.50,1e3,1E+21,0.1,3.141592653589793,3.141592653589793238462643,12345678901234567890,-9223372036854775809,18446744073709551616,-0,1.7976931348623157E+308,5e-324]""");
        claims["https://example.com/emoji-key-🔑"] = Element("\"value\"");
        claims["https://example.com/escaped"] = Element("\"quote \\\" backslash \\\\ tab \\t nul \\u0000 line\\nbreak\"");
        claims["https://example.com/jwt-in-claim"] = Element("\"" + AccessToken("https://claims.example.com/", "x") + "\"");
        claims["https://example.com/dots"] = Element("\"www.example.com\"");
        claims["org_id"] = Element("\"org_abc\"");
        session.TokenSet.RefreshToken = AccessToken("https://refresh.example.com/", "offline_access"); // a JWT refresh token
        session.TokenSet.TokenType = "Bearer";
        session.TokenSet.Extra = new(StringComparer.Ordinal) { ["dpop_jkt"] = Element("\"0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I\"") };
        session.AccessTokens![0].Extra = new(StringComparer.Ordinal) { ["custom"] = Element("""{"a":[1,2,3]}""") };
        session.Internal.SessionExpiresAt = Now + 3 * 86400;
        session.Internal.Extra = new(StringComparer.Ordinal) { ["note"] = Element("\"internal ✓\"") };
        session.SetField("updatedAt", Element("1773480999"));
        // As nextjs-auth0 writes it; the JSON reader puts it among the extra members.
        session.ConnectionTokenSets = [new ConnectionTokenSet { Connection = "google-oauth2", AccessToken = AccessToken("https://www.googleapis.com/", "email"), ExpiresAt = Now + 3600 }];
        session.SetField("preferences", Element("""{"theme":"dark","langs":["de","fr"],"ratio":0.75}"""));
        return session;
    }

    private static string SerializeJson(Auth0Session session) => JsonSerializer.Serialize(session, Auth0PublicJsonContext.Default.Auth0Session);

    private static int JweLength(Auth0Session session) =>
        new CookieCrypto(Secret).Encrypt(JsonSerializer.SerializeToUtf8Bytes(session, Auth0PublicJsonContext.Default.Auth0Session), Exp).Length;

    // ---- round trips ----------------------------------------------------------------------------------------------

    [Fact]
    public void A_small_session_round_trips()
    {
        var session = SmallSession();
        var value = Format.Seal(session, Exp);

        var read = Format.Open(value, Now);

        Assert.NotNull(read);
        Assert.StartsWith("c1.", value, StringComparison.Ordinal);
        Assert.Equal(Subject, read.User.Sub);
        Assert.Equal("Alice Example", read.User.Name);
        Assert.Equal("alice@example.com", read.User.Email);
        Assert.Equal(["sub", "name", "email"], read.User.Claims.Keys.ToArray());
        Assert.Equal(session.TokenSet.AccessToken, read.TokenSet.AccessToken);
        Assert.Equal(session.TokenSet.RefreshToken, read.TokenSet.RefreshToken);
        Assert.Null(read.TokenSet.IdToken);
        Assert.Equal(session.TokenSet.Scope, read.TokenSet.Scope);
        Assert.Equal(session.TokenSet.RequestedScope, read.TokenSet.RequestedScope);
        Assert.Equal(session.TokenSet.ExpiresAt, read.TokenSet.ExpiresAt);
        Assert.Null(read.AccessTokens);
        Assert.Equal("Yx8bQ2nW5kR9tL3vH7pZ1cF4", read.Internal.Sid);
        Assert.Equal(Now, read.Internal.CreatedAt);
        Assert.Null(read.Internal.SessionExpiresAt);
        Assert.Null(read.Extra);
        Assert.Null(read.TokenSet.Extra);
        Assert.Equal(SerializeJson(session), SerializeJson(read));
    }

    [Fact]
    public void A_session_with_jwts_token_lists_unicode_nested_claims_and_extra_fields_round_trips_exactly()
    {
        var session = RichSession();
        var read = Format.Open(Format.Seal(session, Exp), Now);

        Assert.NotNull(read);
        // Byte-for-byte the same JSON, so every claim, its order, every number's spelling and every extra member survived.
        Assert.Equal(SerializeJson(session), SerializeJson(read));

        Assert.Equal(session.TokenSet.IdToken, read.TokenSet.IdToken);
        Assert.Equal(session.TokenSet.AccessToken, read.TokenSet.AccessToken);
        Assert.Equal(session.TokenSet.RefreshToken, read.TokenSet.RefreshToken);
        Assert.Equal("https://api.example.com/", read.TokenSet.Audience);
        Assert.Equal("Bearer", read.TokenSet.TokenType);
        Assert.Equal(2, read.AccessTokens!.Count);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(session.AccessTokens![i].AccessToken, read.AccessTokens[i].AccessToken);
            Assert.Equal(session.AccessTokens[i].Audience, read.AccessTokens[i].Audience);
            Assert.Equal(session.AccessTokens[i].Scope, read.AccessTokens[i].Scope);
            Assert.Equal(session.AccessTokens[i].RequestedScope, read.AccessTokens[i].RequestedScope);
            Assert.Equal(session.AccessTokens[i].ExpiresAt, read.AccessTokens[i].ExpiresAt);
            Assert.Equal("Bearer", read.AccessTokens[i].TokenType);
        }
        Assert.Equal("""{"a":[1,2,3]}""", read.AccessTokens[0].Extra!["custom"].GetRawText());
        Assert.Null(read.AccessTokens[1].Extra);
        Assert.Equal("Zoë", read.User.GivenName);
        Assert.Equal("東京 🎉 Ñandú", read.User.FamilyName);
        Assert.Equal("value", read.User.GetString("https://example.com/emoji-key-🔑"));
        Assert.Equal("quote \" backslash \\ tab \t nul \0 line\nbreak", read.User.GetString("https://example.com/escaped"));
        Assert.Equal(session.User.Claims.Keys, read.User.Claims.Keys);
        foreach (var (name, value) in session.User.Claims)
            Assert.True(JsonElement.DeepEquals(value, read.User.Claims[name]), name);
        Assert.Equal(25, read.User.Claims["https://example.com/app_metadata"].GetProperty("plan").GetProperty("seats").GetInt32());
        Assert.Equal(
            """[0,-1,1.5,-0.25,1.50,1e3,1E+21,0.1,3.141592653589793,3.141592653589793238462643,12345678901234567890,-9223372036854775809,18446744073709551616,-0,1.7976931348623157E+308,5e-324]""",
            read.User.Claims["https://example.com/numbers"].GetRawText());
        Assert.Equal("internal ✓", read.Internal.Extra!["note"].GetString());
        Assert.Equal(Now + 3 * 86400, read.Internal.SessionExpiresAt);
        Assert.Equal("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", read.TokenSet.Extra!["dpop_jkt"].GetString());
        Assert.Equal(["updatedAt", "preferences"], read.Extra!.Keys.ToArray());
        Assert.Equal("google-oauth2", Assert.Single(read.ConnectionTokenSets!).Connection);
        Assert.Equal(1773480999, read.GetField("updatedAt")!.Value.GetInt64());
    }

    [Fact]
    public void The_compact_session_reads_back_the_same_as_the_json_format()
    {
        var session = RichSession();
        var viaJson = Sessions.SessionCookieStore.Deserialize(new CookieCrypto(Secret).Decrypt(
            new CookieCrypto(Secret).Encrypt(JsonSerializer.SerializeToUtf8Bytes(session, Auth0PublicJsonContext.Default.Auth0Session), Exp), Now)!)!;

        var viaCompact = Format.Open(Format.Seal(session, Exp), Now)!;

        Assert.Equal(SerializeJson(viaJson), SerializeJson(viaCompact));
    }

    [Fact]
    public void Empty_and_default_members_round_trip()
    {
        var session = new Auth0Session { AccessTokens = [] };
        var read = Format.Open(Format.Seal(session, Exp), Now)!;
        Assert.Equal(SerializeJson(session), SerializeJson(read));
        Assert.NotNull(read.AccessTokens);
        Assert.Empty(read.AccessTokens);

        var empties = new Auth0Session { TokenSet = new TokenSet { AccessToken = "", Scope = "" }, Internal = new SessionInternal { Sid = "" } };
        empties.User.Claims["sub"] = Element("\"\"");
        read = Format.Open(Format.Seal(empties, Exp), Now)!;
        Assert.Equal(SerializeJson(empties), SerializeJson(read));
    }

    [Fact]
    public void Each_seal_uses_a_new_iv()
    {
        var session = SmallSession();
        var first = Format.Seal(session, Exp);
        var second = Format.Seal(session, Exp);
        Assert.NotEqual(first, second);
        Assert.NotNull(Format.Open(first, Now));
        Assert.NotNull(Format.Open(second, Now));
    }

    // ---- tokens ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Jwts_are_stored_as_their_decoded_segments_and_come_back_as_the_exact_string()
    {
        var session = TokenSession();
        var idToken = session.TokenSet.IdToken!;
        var payload = Format.OpenPayload(Format.Seal(session, Exp))!;

        var reader = new CborReader(payload, CborConformanceMode.Lax);
        reader.ReadStartMap();
        Assert.Equal(0u, reader.ReadUInt64()); // exp first
        Assert.Equal(Exp, reader.ReadInt64());
        Assert.Equal(1u, reader.ReadUInt64()); // user
        reader.SkipValue();
        Assert.Equal(2u, reader.ReadUInt64()); // token set
        reader.ReadStartMap();
        Assert.Equal(1u, reader.ReadUInt64()); // access token
        reader.SkipValue();
        Assert.Equal(2u, reader.ReadUInt64()); // ID token: [header, payload, signature] as byte strings
        Assert.Equal(3, reader.ReadStartArray());
        var parts = idToken.Split('.');
        foreach (var part in parts)
            Assert.Equal(System.Buffers.Text.Base64Url.DecodeFromChars(part), reader.ReadByteString());
        reader.ReadEndArray();

        // No token's text is in the payload, only its bytes.
        foreach (var token in new[] { idToken, session.TokenSet.AccessToken!, session.AccessTokens![0].AccessToken!, session.AccessTokens[1].AccessToken! })
        {
            var signature = token.Split('.')[2];
            Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(signature)) < 0);
            Assert.True(payload.AsSpan().IndexOf(System.Buffers.Text.Base64Url.DecodeFromChars(signature)) >= 0);
        }

        var read = Format.Open(Format.Seal(session, Exp), Now)!;
        Assert.Equal(idToken, read.TokenSet.IdToken);
        Assert.Equal(session.TokenSet.AccessToken, read.TokenSet.AccessToken);
    }

    [Fact]
    public void A_jwt_refresh_token_is_stored_as_bytes_and_an_opaque_one_as_text()
    {
        var opaque = TokenSession();
        var payload = Format.OpenPayload(Format.Seal(opaque, Exp))!;
        Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(opaque.TokenSet.RefreshToken!)) >= 0);

        var jwt = TokenSession();
        jwt.TokenSet.RefreshToken = AccessToken("https://refresh.example.com/", "offline_access");
        payload = Format.OpenPayload(Format.Seal(jwt, Exp))!;
        Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(jwt.TokenSet.RefreshToken.Split('.')[2])) < 0);
        Assert.Equal(jwt.TokenSet.RefreshToken, Format.Open(Format.Seal(jwt, Exp), Now)!.TokenSet.RefreshToken);
    }

    [Theory]
    [InlineData("u8Jq3LkV0xWm2Zr7Tb5Yc9Nd1Fg4Hs6P")] // opaque
    [InlineData("v1.MmRfQ2xGc0tYd2VvT3JhN0pUbnB4M2RjUWs4")] // two segments
    [InlineData("a.b.c.d")] // four segments
    [InlineData("abcd.efgh")] // two segments
    [InlineData("..")] // three empty segments
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")] // unsecured JWT, empty signature
    [InlineData("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXYxMjM0NTY3ODkw.Y2lwaGVy.dGFnMTIzNDU2Nzg5MDEy")] // a JWE (5 segments)
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0=.c2ln")] // padded: not base64url
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In1.c2ln")] // non-canonical last character (unused bits set)
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJzd WIiOiJ4In0.c2ln")] // whitespace
    [InlineData("ab+c.de/f.ghij")] // base64, not base64url
    [InlineData("Ünïcödé.tëxt.hérè")]
    [InlineData("www.example.com")]
    public void Any_string_comes_back_exactly(string token)
    {
        var session = SmallSession();
        session.TokenSet.AccessToken = token;
        session.TokenSet.IdToken = token;
        session.User.Claims["https://example.com/token"] = JsonSerializer.SerializeToElement(token, Json.Auth0JsonContext.Default.String);

        var read = Format.Open(Format.Seal(session, Exp), Now)!;

        Assert.Equal(token, read.TokenSet.AccessToken);
        Assert.Equal(token, read.TokenSet.IdToken);
        Assert.Equal(token, read.User.GetString("https://example.com/token"));
    }

    [Fact]
    public void A_jwt_with_non_canonical_base64url_is_kept_as_text()
    {
        var valid = IdToken();
        var signature = valid.Split('.')[2]; // 342 characters: the last one carries 4 unused bits
        Assert.Equal(2, signature.Length % 4);
        var last = signature[^1];
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var sibling = alphabet[alphabet.IndexOf(last) | 1]; // same decoded bytes, one unused bit set
        Assert.NotEqual(last, sibling);
        var odd = valid[..^1] + sibling; // a lenient decoder reads the same bytes, so they could not give this string back

        var session = SmallSession();
        session.TokenSet.IdToken = odd;
        var payload = Format.OpenPayload(Format.Seal(session, Exp))!;

        Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(odd)) >= 0); // stored as the text itself
        Assert.Equal(odd, Format.Open(Format.Seal(session, Exp), Now)!.TokenSet.IdToken);
    }

    [Fact]
    public void Opaque_tokens_are_stored_as_text()
    {
        var session = SmallSession();
        var payload = Format.OpenPayload(Format.Seal(session, Exp))!;
        Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(session.TokenSet.AccessToken!)) >= 0);
        Assert.True(payload.AsSpan().IndexOf(Encoding.ASCII.GetBytes(session.TokenSet.RefreshToken!)) >= 0);
    }

    // ---- rejection ------------------------------------------------------------------------------------------------

    [Fact]
    public void Changing_any_character_of_the_value_gives_no_session()
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var value = Format.Seal(TokenSession(), Exp);
        Assert.NotNull(Format.Open(value, Now));
        var chars = value.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var original = chars[i];
            // Two other base64url characters (one differing in the low bits, one in the high bits) and a foreign one.
            var index = Math.Max(0, alphabet.IndexOf(original));
            foreach (var replacement in new[] { alphabet[index ^ 1], alphabet[index ^ 32], '!' })
            {
                if (replacement == original) continue;
                chars[i] = replacement;
                Assert.True(Format.Open(new string(chars), Now) is null, $"position {i}: '{original}' -> '{replacement}'");
            }
            chars[i] = original;
        }
    }

    [Fact]
    public void Changing_any_byte_of_the_message_gives_no_session()
    {
        var value = Format.Seal(SmallSession(), Exp);
        var message = System.Buffers.Text.Base64Url.DecodeFromChars(value.AsSpan(3));
        for (var i = 0; i < message.Length; i++)
            foreach (var flip in new byte[] { 0x01, 0x80, 0xFF })
            {
                var tampered = (byte[])message.Clone();
                tampered[i] ^= flip;
                Assert.True(Format.Open("c1." + B64(tampered), Now) is null, $"byte {i} ^ {flip:X2}");
            }
    }

    [Fact]
    public void A_truncated_or_extended_value_gives_no_session()
    {
        var value = Format.Seal(TokenSession(), Exp);
        for (var length = 0; length < value.Length; length++)
            Assert.True(Format.Open(value[..length], Now) is null, $"first {length} characters");
        foreach (var tail in new[] { "A", "AA", "AAA", "AAAA", ".", "=" })
            Assert.Null(Format.Open(value + tail, Now));

        var message = System.Buffers.Text.Base64Url.DecodeFromChars(value.AsSpan(3));
        Assert.Null(Format.Open("c1." + B64([.. message, 0x00]), Now)); // a byte after the structure
        Assert.Null(Format.Open("c1." + B64(message[..^1]), Now));
    }

    [Fact]
    public void Another_key_gives_no_session()
    {
        var value = Format.Seal(SmallSession(), Exp);
        Assert.Null(new CompactSessionFormat(Secret + "x").Open(value, Now));
        Assert.Null(new CompactSessionFormat("another-secret-0123456789abcdefghijklmnop").Open(value, Now));
        Assert.NotNull(new CompactSessionFormat(Secret).Open(value, Now));
    }

    [Fact]
    public void The_key_is_not_the_jwe_key()
    {
        // The same secret, the other format: neither reader accepts the other's value.
        var jwe = new CookieCrypto(Secret).Encrypt(JsonSerializer.SerializeToUtf8Bytes(SmallSession(), Auth0PublicJsonContext.Default.Auth0Session), Exp);
        var compact = Format.Seal(SmallSession(), Exp);
        Assert.Null(Format.Open(jwe, Now));
        Assert.Null(new CookieCrypto(Secret).Decrypt(compact, Now));
        Assert.Null(Format.Open("c1." + jwe, Now));
        Assert.False(CompactSessionFormat.IsCompact(jwe));
        Assert.True(CompactSessionFormat.IsCompact(compact));
    }

    [Fact]
    public void Expiry_is_exact()
    {
        var value = Format.Seal(SmallSession(), Exp);
        Assert.NotNull(Format.Open(value, Exp - 1));
        Assert.Null(Format.Open(value, Exp));
        Assert.Null(Format.Open(value, Exp + 1));
        Assert.Null(Format.Open(Format.Seal(SmallSession(), Now), Now));
        Assert.NotNull(Format.Open(Format.Seal(SmallSession(), Now + 1), Now));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("c1.")]
    [InlineData("c1")]
    [InlineData("C1.oA")]
    [InlineData("c2.gw")]
    [InlineData("c1.!!!!")]
    [InlineData("c1.gw==")]
    [InlineData("c1.g")]
    [InlineData("c1.gw")] // 0x83: an array of three, with nothing in it
    [InlineData("c1.gA")] // 0x80: an empty array
    [InlineData("c1.gB")] // 0x80 again, with an unused bit set
    [InlineData("eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA")]
    public void Junk_gives_no_session(string? value)
    {
        Assert.Null(Format.Open(value, Now));
    }

    [Fact]
    public void A_well_formed_structure_without_a_real_ciphertext_gives_no_session()
    {
        byte[] start = [0x83, 0x43, 0xA1, 0x01, 0x03, 0xA1, 0x05, 0x4C, .. new byte[12]];
        Assert.Null(Format.Open("c1." + B64([.. start, 0x40]), Now)); // no ciphertext, not even a tag
        Assert.Null(Format.Open("c1." + B64([.. start, 0x4F, .. new byte[15]]), Now)); // shorter than a tag
        Assert.Null(Format.Open("c1." + B64([.. start, 0x50, .. new byte[16]]), Now)); // a tag that does not verify
        Assert.Null(Format.Open("c1." + B64([0x83, 0x43, 0xA1, 0x01, 0x01, 0xA1, 0x05, 0x4C, .. new byte[12], 0x50, .. new byte[16]]), Now)); // A128GCM
        Assert.Null(Format.Open("c1." + B64([0xD0, .. start, 0x50, .. new byte[16]]), Now)); // tagged COSE_Encrypt0
        Assert.Null(Format.Open("c1." + B64([0x83, 0x43, 0xA1, 0x01, 0x03, 0xA2, 0x05, 0x4C, .. new byte[12], 0x04, 0x41, 0x6B, 0x50, .. new byte[16]]), Now)); // with a kid
    }

    [Fact]
    public void An_oversize_value_gives_no_session()
    {
        var session = SmallSession();
        session.User.Claims["https://example.com/bio"] = JsonSerializer.SerializeToElement(new string('b', 50_000), Json.Auth0JsonContext.Default.String);
        var value = Format.Seal(session, Exp);
        Assert.True(value.Length > CompactSessionFormat.MaxValueChars);
        Assert.Null(Format.Open(value, Now));

        session.User.Claims["https://example.com/bio"] = JsonSerializer.SerializeToElement(new string('b', 40_000), Json.Auth0JsonContext.Default.String);
        value = Format.Seal(session, Exp);
        Assert.True(value.Length <= CompactSessionFormat.MaxValueChars);
        Assert.NotNull(Format.Open(value, Now));
    }

    [Fact]
    public void The_envelope_is_a_cose_encrypt0_with_a256gcm()
    {
        var value = Format.Seal(SmallSession(), Exp);
        var reader = new CborReader(System.Buffers.Text.Base64Url.DecodeFromChars(value.AsSpan(3)), CborConformanceMode.Canonical);
        Assert.Equal(3, reader.ReadStartArray());
        Assert.Equal(new byte[] { 0xA1, 0x01, 0x03 }, reader.ReadByteString()); // {1 (alg): 3 (A256GCM)}
        Assert.Equal(1, reader.ReadStartMap());
        Assert.Equal(5, reader.ReadInt32()); // IV
        var iv = reader.ReadByteString();
        Assert.Equal(12, iv.Length);
        reader.ReadEndMap();
        var sealedBytes = reader.ReadByteString();
        reader.ReadEndArray();
        Assert.Equal(0, reader.BytesRemaining);

        // Decrypts with the documented key and AAD: HKDF-SHA256(secret, salt empty, info) and ["Encrypt0", h'A10103', h''].
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(Secret), 32, [], "Auth0.Minimal compact session"u8.ToArray());
        byte[] aad = [0x83, 0x68, .. "Encrypt0"u8, 0x43, 0xA1, 0x01, 0x03, 0x40];
        var plaintext = new byte[sealedBytes.Length - 16];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(iv, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), plaintext, aad);
        Assert.Equal(Format.OpenPayload(value), plaintext);
    }

    [Fact]
    public void The_value_uses_only_cookie_safe_characters()
    {
        var value = Format.Seal(RichSession(), Exp);
        Assert.All(value, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.', $"'{c}'"));
        Assert.Equal(value, Uri.EscapeDataString(value));
    }

    // ---- payload reader under a valid seal ------------------------------------------------------------------------

    private static byte[] Cbor(Action<CborWriter> write)
    {
        var writer = new CborWriter(CborConformanceMode.Lax);
        write(writer);
        return writer.Encode();
    }

    public static TheoryData<string, byte[]> MalformedPayloads() => new()
    {
        { "empty", [] },
        { "not a map", Cbor(w => w.WriteInt32(1)) },
        { "no exp", Cbor(w => { w.WriteStartMap(0); w.WriteEndMap(); }) },
        { "exp as text", Cbor(w => { w.WriteStartMap(1); w.WriteInt32(0); w.WriteTextString("9999999999"); w.WriteEndMap(); }) },
        { "exp as float", Cbor(w => { w.WriteStartMap(1); w.WriteInt32(0); w.WriteDouble(9999999999); w.WriteEndMap(); }) },
        { "exp twice", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteEndMap(); }) },
        { "unknown key", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(9); w.WriteInt32(1); w.WriteEndMap(); }) },
        { "huge key", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteUInt64(ulong.MaxValue); w.WriteInt32(1); w.WriteEndMap(); }) },
        { "negative key", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(-1); w.WriteInt32(1); w.WriteEndMap(); }) },
        { "user not a map", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(1); w.WriteTextString("x"); w.WriteEndMap(); }) },
        { "unknown claim number", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(1); w.WriteStartMap(1); w.WriteInt32(200); w.WriteTextString("x"); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "claim twice", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(1); w.WriteStartMap(2); w.WriteInt32(0); w.WriteTextString("a"); w.WriteTextString("sub"); w.WriteTextString("b"); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "byte string claim", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(1); w.WriteStartMap(1); w.WriteInt32(0); w.WriteByteString([1, 2]); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "two-segment jwt", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(2); w.WriteStartMap(1); w.WriteInt32(1); w.WriteStartArray(2); w.WriteByteString([1]); w.WriteByteString([2]); w.WriteEndArray(); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "jwt with a text segment", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(2); w.WriteStartMap(1); w.WriteInt32(1); w.WriteStartArray(3); w.WriteByteString([1]); w.WriteTextString("x"); w.WriteByteString([2]); w.WriteEndArray(); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "token as number", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(2); w.WriteStartMap(1); w.WriteInt32(1); w.WriteInt32(5); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "expiresAt as text", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(2); w.WriteStartMap(1); w.WriteInt32(6); w.WriteTextString("1"); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "expiresAt too large", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(2); w.WriteStartMap(1); w.WriteInt32(6); w.WriteUInt64(ulong.MaxValue); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "id token in an api entry", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(3); w.WriteStartArray(1); w.WriteStartMap(1); w.WriteInt32(2); w.WriteTextString("x"); w.WriteEndMap(); w.WriteEndArray(); w.WriteEndMap(); }) },
        { "null api entry", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(3); w.WriteStartArray(1); w.WriteNull(); w.WriteEndArray(); w.WriteEndMap(); }) },
        { "unknown internal key", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteInt32(4); w.WriteStartMap(1); w.WriteInt32(7); w.WriteInt32(1); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "field twice", Cbor(w => { w.WriteStartMap(3); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteInt32(1); w.WriteTextString("f"); w.WriteInt32(2); w.WriteEndMap(); }) },
        { "unknown tag", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteTag(CborTag.DateTimeString); w.WriteTextString("2020-01-01T00:00:00Z"); w.WriteEndMap(); }) },
        { "raw json that is not json", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteTag(CompactJson.RawJsonTag); w.WriteTextString("{nope"); w.WriteEndMap(); }) },
        { "raw json, two values", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteTag(CompactJson.RawJsonTag); w.WriteTextString("1 2"); w.WriteEndMap(); }) },
        { "raw json, lone surrogate", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteTag(CompactJson.RawJsonTag); w.WriteTextString("\"\\ud800\""); w.WriteEndMap(); }) },
        { "NaN", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteDouble(double.NaN); w.WriteEndMap(); }) },
        { "infinity", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteHalf(Half.PositiveInfinity); w.WriteEndMap(); }) },
        { "undefined", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteSimpleValue(CborSimpleValue.Undefined); w.WriteEndMap(); }) },
        { "integer map key in a claim", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteStartMap(1); w.WriteInt32(1); w.WriteInt32(1); w.WriteEndMap(); w.WriteEndMap(); }) },
        { "too large a negative integer", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); w.WriteCborNegativeIntegerRepresentation(ulong.MaxValue); w.WriteEndMap(); }) },
        { "nested too deep", Cbor(w => { w.WriteStartMap(2); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteTextString("f"); for (var i = 0; i < 100; i++) w.WriteStartArray(1); w.WriteInt32(1); for (var i = 0; i < 100; i++) w.WriteEndArray(); w.WriteEndMap(); }) },
        { "trailing value", [.. Cbor(w => { w.WriteStartMap(1); w.WriteInt32(0); w.WriteInt64(Exp); w.WriteEndMap(); }), 0x01] },
        { "invalid utf-8", [0xA2, 0x00, 0x1B, .. BitConverter.IsLittleEndian ? BitConverter.GetBytes(Exp).Reverse() : BitConverter.GetBytes(Exp), 0x61, 0x66, 0x62, 0xC3, 0x28] },
        { "indefinite map, no break", [0xBF, 0x00, 0x1A, 0x70, 0x00, 0x00, 0x00] },
    };

    [Theory]
    [MemberData(nameof(MalformedPayloads))]
    public void A_malformed_payload_under_a_valid_seal_gives_no_session(string name, byte[] payload)
    {
        Assert.True(Format.Open(Format.SealPayload(payload), Now) is null, name);
    }

    [Fact]
    public void A_well_formed_hand_written_payload_opens()
    {
        // The same writer as the malformed cases, so those fail for their defect, not for the harness.
        var payload = Cbor(w =>
        {
            w.WriteStartMap(3); w.WriteInt32(0); w.WriteInt64(Exp);
            w.WriteInt32(1); w.WriteStartMap(1); w.WriteInt32(0); w.WriteTextString("auth0|x"); w.WriteEndMap();
            w.WriteTextString("f"); w.WriteTag(CompactJson.RawJsonTag); w.WriteTextString("1.50");
            w.WriteEndMap();
        });
        var session = Format.Open(Format.SealPayload(payload), Now)!;
        Assert.Equal("auth0|x", session.User.Sub);
        Assert.Equal("1.50", session.GetField("f")!.Value.GetRawText());
    }

    [Fact]
    public void Every_corruption_of_a_real_payload_under_a_valid_seal_is_handled_without_throwing()
    {
        var payload = Format.OpenPayload(Format.Seal(RichSession(), Exp))!;
        var random = new Random(1234);
        for (var i = 0; i < payload.Length; i++)
        {
            var tampered = (byte[])payload.Clone();
            tampered[i] ^= (byte)(1 << random.Next(8));
            _ = Format.Open(Format.SealPayload(tampered), Now); // null or a session, never an exception
        }
        for (var length = 0; length < payload.Length; length += 7)
            Assert.Null(Format.Open(Format.SealPayload(payload.AsSpan(0, length)), Now));
    }

    [Fact]
    public void A_claim_with_an_unpaired_surrogate_is_sealed_and_then_refused_as_by_the_json_format()
    {
        var session = SmallSession();
        session.User.Claims["name"] = Element("\"A\\ud83d\"");
        var value = Format.Seal(session, Exp); // does not throw
        Assert.Null(Format.Open(value, Now));
    }

    // ---- size -----------------------------------------------------------------------------------------------------

    [Fact]
    public void The_compact_format_is_at_least_a_fifth_smaller_than_the_jwe_for_a_session_with_jwts()
    {
        var small = SmallSession();
        var tokens = TokenSession();
        var smallJwe = JweLength(small);
        var smallCompact = Format.Seal(small, Exp).Length;
        var tokensJwe = JweLength(tokens);
        var tokensCompact = Format.Seal(tokens, Exp).Length;

        output.WriteLine($"id token {tokens.TokenSet.IdToken!.Length} chars, access token {tokens.TokenSet.AccessToken!.Length}, " +
                         $"refresh token {tokens.TokenSet.RefreshToken!.Length}, API tokens {tokens.AccessTokens![0].AccessToken!.Length} and {tokens.AccessTokens[1].AccessToken!.Length}");
        output.WriteLine($"(a) small:       JWE {smallJwe}, compact {smallCompact} ({100.0 * smallCompact / smallJwe:F1} %)");
        output.WriteLine($"(b) with tokens: JWE {tokensJwe}, compact {tokensCompact} ({100.0 * tokensCompact / tokensJwe:F1} %)");
        foreach (var (name, session) in new[] { ("(a)", small), ("(b)", tokens) })
            output.WriteLine($"{name} plaintext: JSON {JsonSerializer.SerializeToUtf8Bytes(session, Auth0PublicJsonContext.Default.Auth0Session).Length + $",\"exp\":{Exp}".Length} bytes, CBOR {Format.OpenPayload(Format.Seal(session, Exp))!.Length} bytes");

        Assert.InRange(tokens.TokenSet.IdToken.Length, 850, 950);
        Assert.InRange(tokens.TokenSet.AccessToken.Length, 650, 750);
        Assert.Equal(40, tokens.TokenSet.RefreshToken.Length);
        Assert.True(tokensCompact <= 0.8 * tokensJwe, $"compact {tokensCompact} > 0.8 × JWE {tokensJwe}");
        Assert.True(smallCompact < smallJwe);
    }

    // ---- no reflection --------------------------------------------------------------------------------------------

    [Fact]
    public void The_format_code_uses_no_reflection_and_no_json_serializer()
    {
        var referenced = FormatCodeReferences();

        Assert.Contains(referenced, r => r.StartsWith("System.Formats.Cbor.CborWriter::", StringComparison.Ordinal)); // the scan sees calls
        Assert.Contains(referenced, r => r.StartsWith("System.Security.Cryptography.AesGcm::", StringComparison.Ordinal));
        string[] forbidden =
        [
            "System.Reflection.", "System.Type::", "System.Activator::", "System.Object::GetType", "System.Linq.Expressions.",
            "System.Text.Json.JsonSerializer::", "System.Text.Json.Serialization.", "System.Runtime.CompilerServices.RuntimeHelpers::GetUninitializedObject",
            "System.Reflection.Emit.",
        ];
        var offending = referenced.Where(r => forbidden.Any(f => r.Contains(f, StringComparison.Ordinal))).ToList();
        Assert.True(offending.Count == 0, string.Join("\n", offending));
    }

    // Every member the IL of the Compact* types (and their nested, compiler-made types) refers to, as "Type::Member".
    private static HashSet<string> FormatCodeReferences()
    {
        var opcodes = typeof(OpCodes).GetFields().Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => (ushort)o.Value);
        using var pe = new PEReader(File.OpenRead(typeof(CompactSessionFormat).Assembly.Location));
        var md = pe.GetMetadataReader();
        var names = new TypeNames(md);
        var result = new HashSet<string>(StringComparer.Ordinal);
        var scanned = 0;
        foreach (var handle in md.TypeDefinitions)
        {
            if (!IsFormatType(md, handle)) continue;
            foreach (var methodHandle in md.GetTypeDefinition(handle).GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0) continue;
                scanned++;
                var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
                while (il.RemainingBytes > 0)
                {
                    ushort code = il.ReadByte();
                    if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
                    switch (opcodes[code].OperandType)
                    {
                        case OperandType.InlineNone: break;
                        case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.ReadByte(); break;
                        case OperandType.InlineVar: il.ReadInt16(); break;
                        case OperandType.InlineBrTarget or OperandType.InlineI or OperandType.InlineString or OperandType.InlineSig or OperandType.ShortInlineR: il.ReadInt32(); break;
                        case OperandType.InlineI8 or OperandType.InlineR: il.ReadInt64(); break;
                        case OperandType.InlineSwitch: var n = il.ReadInt32(); for (var i = 0; i < n; i++) il.ReadInt32(); break;
                        case OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok:
                            result.Add(names.Member(MetadataTokens.EntityHandle(il.ReadInt32())));
                            break;
                        default: throw new InvalidOperationException("Unknown operand type " + opcodes[code].OperandType);
                    }
                }
            }
        }
        Assert.True(scanned > 20, $"only {scanned} method bodies found");
        return result;
    }

    private static bool IsFormatType(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        while (type.IsNested) type = md.GetTypeDefinition(type.GetDeclaringType());
        return md.GetString(type.Namespace) == "Auth0.Minimal.Crypto" && md.GetString(type.Name).StartsWith("Compact", StringComparison.Ordinal);
    }

    private sealed class TypeNames(MetadataReader md) : ISignatureTypeProvider<string, object?>
    {
        public string Member(EntityHandle handle) => handle.Kind switch
        {
            HandleKind.MemberReference => Parent(md.GetMemberReference((MemberReferenceHandle)handle).Parent) + "::" + md.GetString(md.GetMemberReference((MemberReferenceHandle)handle).Name),
            HandleKind.MethodDefinition => Definition(md.GetMethodDefinition((MethodDefinitionHandle)handle).GetDeclaringType()) + "::" + md.GetString(md.GetMethodDefinition((MethodDefinitionHandle)handle).Name),
            HandleKind.FieldDefinition => Definition(md.GetFieldDefinition((FieldDefinitionHandle)handle).GetDeclaringType()) + "::" + md.GetString(md.GetFieldDefinition((FieldDefinitionHandle)handle).Name),
            HandleKind.MethodSpecification => Member(md.GetMethodSpecification((MethodSpecificationHandle)handle).Method),
            _ => Parent(handle),
        };

        private string Parent(EntityHandle handle) => handle.Kind switch
        {
            HandleKind.TypeReference => GetTypeFromReference(md, (TypeReferenceHandle)handle, 0),
            HandleKind.TypeDefinition => Definition((TypeDefinitionHandle)handle),
            HandleKind.TypeSpecification => md.GetTypeSpecification((TypeSpecificationHandle)handle).DecodeSignature(this, null),
            HandleKind.MethodDefinition => Member(handle),
            HandleKind.ModuleReference => "<module>",
            _ => handle.Kind.ToString(),
        };

        private string Definition(TypeDefinitionHandle handle) => GetTypeFromDefinition(md, handle, 0);

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeDefinition(handle);
            var name = reader.GetString(type.Name);
            return type.IsNested ? GetTypeFromDefinition(reader, type.GetDeclaringType(), 0) + "+" + name : reader.GetString(type.Namespace) + "." + name;
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            var type = reader.GetTypeReference(handle);
            var name = reader.GetString(type.Name);
            return type.ResolutionScope.Kind == HandleKind.TypeReference
                ? GetTypeFromReference(reader, (TypeReferenceHandle)type.ResolutionScope, 0) + "+" + name
                : reader.GetString(type.Namespace) + "." + name;
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? context, TypeSpecificationHandle handle, byte rawTypeKind) =>
            reader.GetTypeSpecification(handle).DecodeSignature(this, context);
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[*]";
        public string GetByReferenceType(string elementType) => elementType + "&";
        public string GetPointerType(string elementType) => elementType + "*";
        public string GetPinnedType(string elementType) => elementType;
        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments) => genericType + "<" + string.Join(",", typeArguments) + ">";
        public string GetGenericMethodParameter(object? context, int index) => "!!" + index;
        public string GetGenericTypeParameter(object? context, int index) => "!" + index;
        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
    }
}
