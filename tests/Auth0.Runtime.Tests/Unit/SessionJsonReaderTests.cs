using System.Text;
using System.Text.Json;
using Auth0.Minimal.Json;
using Auth0.Minimal.Sessions;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>
/// The hand-written session reader must give exactly what the source-generated serializer gives for the same
/// bytes: the same session, or a refusal. Checked on edge cases and on many mutations of a real payload.
/// </summary>
public class SessionJsonReaderTests
{
    private const string Full = """
        {"user":{"sub":"auth0|1","name":"Alice","email_verified":true,"roles":["a","b"],"meta":{"x":1}},
         "tokenSet":{"accessToken":"at","idToken":"it","scope":"openid","requestedScope":"openid profile","refreshToken":"rt",
                     "expiresAt":1700000000,"audience":"https://api","token_type":"Bearer","dpop_jkt":"abc"},
         "accessTokens":[{"accessToken":"at2","scope":"read","requestedScope":"read write","audience":"https://orders",
                          "expiresAt":1700000001.9,"token_type":"DPoP","extra":[1,2]}],
         "internal":{"sid":"s1","createdAt":1699990000,"sessionExpiresAt":null,"mfa":true},
         "connectionTokenSets":[{"accessToken":"ct","scope":"email","expiresAt":1700000002,"connection":"google-oauth2","loginHint":"a@b","x":"y"}],
         "updatedAt":"2026-01-01","exp":1800000000,"nbf":1600000000}
        """;

    public static TheoryData<string> EdgeCases => new()
    {
        Full,
        "{}",
        "null",
        "",
        "   ",
        "[]",
        "1",
        "\"s\"",
        "{\"user\":null}",
        "{\"user\":null,\"user\":{\"sub\":\"x\"}}",
        "{\"user\":{\"sub\":\"x\"},\"user\":null}",
        "{\"tokenSet\":null}",
        "{\"internal\":null}",
        "{\"tokenSet\":[]}",
        "{\"user\":[]}",
        "{\"user\":\"x\"}",
        "{\"internal\":1}",
        "{\"accessTokens\":null}",
        "{\"accessTokens\":[]}",
        "{\"accessTokens\":[null]}",
        "{\"accessTokens\":[1]}",
        "{\"accessTokens\":{}}",
        "{\"accessTokens\":[{}],\"accessTokens\":[{\"scope\":\"b\"}]}",
        "{\"connectionTokenSets\":[null,{}]}",
        "{\"connectionTokenSets\":\"x\"}",
        "{\"exp\":1}",
        "{\"exp\":null}",
        "{\"exp\":1.5}",
        "{\"exp\":\"1\"}",
        "{\"exp\":5,\"exp\":3,\"exp\":4}",
        "{\"nbf\":5,\"nbf\":7,\"nbf\":6}",
        "{\"exp\":99999999999999999999}",
        "{\"tokenSet\":{\"expiresAt\":1e400}}",
        "{\"tokenSet\":{\"expiresAt\":-1e400}}",
        "{\"tokenSet\":{\"expiresAt\":1e16}}",
        "{\"tokenSet\":{\"expiresAt\":\"soon\"}}",
        "{\"tokenSet\":{\"expiresAt\":null}}",
        "{\"tokenSet\":{\"accessToken\":1}}",
        "{\"tokenSet\":{\"accessToken\":true}}",
        "{\"tokenSet\":{\"accessToken\":null}}",
        "{\"tokenSet\":{\"accessToken\":{}}}",
        "{\"tokenSet\":{\"accessToken\":\"a\",\"accessToken\":\"b\"}}",
        "{\"tokenSet\":{\"AccessToken\":\"case\"}}",
        "{\"tokenSet\":{\"acc\\u0065ssToken\":\"escaped name\"}}",
        "{\"us\\u0065r\":{\"sub\":\"escaped\"}}",
        "{\"tokenSet\":{\"accessToken\":\"\\ud800\"}}",
        "{\"tokenSet\":{\"accessToken\":\"a\\u0000b\"}}",
        "{\"x\":1,\"x\":2}",
        "{\"x\":{\"deep\":[1,{\"a\":null}]}}",
        "{\"internal\":{\"sid\":\"a\",\"createdAt\":1.5,\"sessionExpiresAt\":2}}",
        "{\"internal\":{\"extra\":1,\"extra\":2}}",
        "{} {}",
        "{}x",
        "{\"a\":1,}",
        "{\"a\":1 /* c */}",
        "{'a':1}",
        "{\"a\":01}",
        "{\"a\":NaN}",
        "\uFEFF{}",
        "{\"user\":{\"sub\":\"a\",\"sub\":\"b\"}}",
        new string('[', 70) + new string(']', 70),
        "{\"x\":" + new string('[', 63) + new string(']', 63) + "}",
        "{\"x\":" + new string('[', 64) + new string(']', 64) + "}",
    };

    [Theory]
    [MemberData(nameof(EdgeCases))]
    public void Edge_cases_read_as_the_serializer_reads_them(string json) => AssertSame(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Mutations_of_a_real_payload_read_as_the_serializer_reads_them()
    {
        var original = Encoding.UTF8.GetBytes(Full);
        var random = new Random(20261203);
        string[] inserts = ["null", "1", "1.5", "\"s\"", "{}", "[]", "{\"a\":1}", ",", ":", "\"", "\\", "}", "]", "\"exp\":1,", "\"user\":null,"];
        var accepted = 0;
        for (var i = 0; i < 4000; i++)
        {
            var bytes = original.ToList();
            for (var edits = random.Next(1, 4); edits > 0; edits--)
            {
                var at = random.Next(bytes.Count);
                switch (random.Next(4))
                {
                    case 0: bytes.RemoveAt(at); break;
                    case 1: bytes[at] = (byte)random.Next(32, 127); break;
                    case 2: bytes.InsertRange(at, Encoding.UTF8.GetBytes(inserts[random.Next(inserts.Length)])); break;
                    default: bytes[at] = (byte)random.Next(256); break;
                }
            }
            if (AssertSame(bytes.ToArray())) accepted++;
        }
        // Both readers must accept some mutations (a flipped letter inside a string), or the comparison proved little.
        Assert.InRange(accepted, 100, 4000);
    }

    [Fact]
    public void A_full_payload_keeps_every_member()
    {
        var session = SessionJsonReader.Read(Encoding.UTF8.GetBytes(Full))!;
        Assert.Equal("Alice", session.User.Name);
        Assert.Equal("rt", session.TokenSet.RefreshToken);
        Assert.Equal("abc", session.TokenSet.Extra!["dpop_jkt"].GetString());
        Assert.Equal(1700000001, session.AccessTokens![0].ExpiresAt);
        Assert.Equal("google-oauth2", session.ConnectionTokenSets![0].Connection);
        Assert.True(session.Internal.Extra!["mfa"].GetBoolean());
        Assert.Equal("2026-01-01", session.GetField("updatedAt")!.Value.GetString());
        Assert.Equal(1800000000, session.CookieExpiry);
        Assert.Equal(1600000000, session.CookieNotBefore);
    }

    [Fact]
    public void The_cookie_decoder_refuses_what_cannot_be_read()
    {
        Assert.Null(SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes("{\"tokenSet\":{\"expiresAt\":1e400}}"))!.TokenSet.ExpiresAt);
        Assert.Null(SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes("{\"tokenSet\":{\"accessToken\":\"\\ud800\"}}")));
        Assert.Null(SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes("{\"user\":null}")));
        Assert.NotNull(SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes("{\"user\":{\"sub\":\"a\"},\"exp\":1}")));
    }

    [Theory]
    [InlineData("{\"user\":{\"name\":\"\\uD800\"}}")]
    [InlineData("{\"user\":{\"name\":\"\\udfff\"}}")]
    [InlineData("{\"user\":{\"\\uDC00\":1}}")]
    [InlineData("{\"user\":{},\"x\":[\"ok\",\"\\ud800\"]}")]
    [InlineData("{\"user\":{},\"tokenSet\":{\"x\":{\"\\ud800\":1}}}")]
    [InlineData("{\"user\":{},\"internal\":{\"x\":\"a\\u0041\\uDBFFb\"}}")]
    public void Surrogate_escapes_anywhere_are_refused(string json) =>
        Assert.Null(SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Invalid_utf8_in_a_claim_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("{\"user\":{\"name\":\"ab\"}}");
        bytes[Array.IndexOf(bytes, (byte)'a')] = 0xC3; // a lead byte followed by 'b': not UTF-8
        Assert.Null(SessionCookieStore.Deserialize(bytes));
    }

    [Theory]
    [InlineData("{\"user\":{\"name\":\"\\\\ud800\"}}", "\\ud800")] // an escaped backslash, then plain text
    [InlineData("{\"user\":{\"name\":\"\\ud83d\\ude00 \\u0026\"}}", "\U0001F600 &")]
    [InlineData("{\"user\":{\"name\":\"caf\u00e9\"}}", "caf\u00e9")]
    public void Text_that_only_looks_like_a_surrogate_and_real_pairs_are_read(string json, string name) =>
        Assert.Equal(name, SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes(json))!.User.Name);

    [Fact]
    public void Null_connection_token_entries_are_dropped()
    {
        var session = SessionCookieStore.Deserialize(Encoding.UTF8.GetBytes(
            "{\"user\":{\"sub\":\"a\"},\"connectionTokenSets\":[null,{\"connection\":\"github\"},null]}"))!;
        Assert.Equal(["github"], session.ConnectionTokenSets!.Select(t => t.Connection));
    }

    // True when both accepted the bytes.
    private static bool AssertSame(byte[] utf8)
    {
        var expected = Outcome(() => JsonSerializer.Deserialize(utf8, Auth0JsonContext.Default.Auth0Session));
        var actual = Outcome(() => SessionJsonReader.Read(utf8));
        // The one intended difference: the serializer turns invalid UTF-8 in a member name into U+FFFD; the reader
        // refuses it, as it refuses it in any value.
        if (actual == "refused" && !System.Text.Unicode.Utf8.IsValid(utf8) && expected.Contains("\\uFFFD", StringComparison.Ordinal)) return false;
        Assert.True(expected == actual, $"Serializer: {expected}\nReader:     {actual}\nInput: {Encoding.UTF8.GetString(utf8)}");
        return !expected.StartsWith("refused", StringComparison.Ordinal) && expected != "null";
    }

    private static string Outcome(Func<Auth0Session?> read)
    {
        Auth0Session? session;
        try { session = read(); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException) { return "refused"; }
        if (session is null) return "null";
        // Serialising shows every member, the read exp/nbf included; null members are left out, so an explicit
        // null user differs from an empty one. Values that cannot be written back count as refused by both.
        var shape = $"user:{session.User is null} tokenSet:{session.TokenSet is null} internal:{session.Internal is null} ";
        try { return shape + JsonSerializer.Serialize(session, Auth0JsonContext.Default.Auth0Session); }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException) { return shape + "unwritable:" + ex.GetType().Name; }
    }
}
