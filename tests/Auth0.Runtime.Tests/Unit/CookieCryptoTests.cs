using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Unit;

public class CookieCryptoTests
{
    private const string Secret = "unit-test-secret-0123456789abcdefghijklmnop";
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static JsonObject Vectors() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Vectors", "nextjs-auth0-cookies.json")))!;

    private static JsonObject Vector(string name) =>
        (JsonObject)Vectors()["vectors"]!.AsArray().Single(v => (string?)v!["name"] == name)!;

    [Theory]
    [InlineData("small-session")]
    [InlineData("session-with-access-tokens")]
    [InlineData("generate-session-cookie")]
    [InlineData("stateful-id")]
    [InlineData("non-ascii-secret")]
    public void Decrypts_cookies_written_by_nextjs_auth0(string name)
    {
        var vector = Vector(name);
        var crypto = new CookieCrypto((string)vector["secret"]!);
        var value = (string)vector["cookies"]!["__session"]!;

        var plaintext = crypto.Decrypt(value, Now);

        Assert.NotNull(plaintext);
        Assert.True(JsonNode.DeepEquals(vector["payload"], JsonNode.Parse(plaintext)), Encoding.UTF8.GetString(plaintext));
    }

    [Fact]
    public void Decrypts_a_chunked_nextjs_auth0_session_through_the_session_store()
    {
        var vector = Vector("chunked-session");
        var cookies = vector["cookies"]!.AsObject().ToDictionary(kv => kv.Key, kv => (string)kv.Value!);
        Assert.Equal(3, cookies.Count);
        var store = TestSessions.Store((string)vector["secret"]!);

        var session = store.Decode(store.ReadRaw(new TestCookies(cookies)));

        Assert.NotNull(session);
        Assert.Equal((string?)vector["payload"]!["user"]!["sub"], session.User.Sub);
        Assert.Equal((string?)vector["payload"]!["tokenSet"]!["accessToken"], session.TokenSet.AccessToken);
    }

    [Fact]
    public void Keeps_unknown_fields_and_token_lists_of_a_nextjs_auth0_session()
    {
        var vector = Vector("session-with-access-tokens");
        var store = TestSessions.Store((string)vector["secret"]!);
        var session = store.Decode((string)vector["cookies"]!["__session"]!)!;

        var expected = vector["payload"]!.AsObject().DeepClone().AsObject();
        expected.Remove("exp");
        var roundTripped = JsonNode.Parse(JsonSerializer.Serialize(session, Auth0PublicJsonContext.Default.Auth0Session));

        Assert.True(JsonNode.DeepEquals(expected, roundTripped), roundTripped!.ToJsonString());
        Assert.Equal(2, session.AccessTokens!.Count);
        Assert.Equal("Zoë Ünïcødé 日本", session.User.Name);
    }

    [Fact]
    public void Reads_a_nextjs_auth0_transaction_cookie()
    {
        var vector = Vector("transaction");
        var (name, value) = vector["cookies"]!.AsObject().Single();
        var crypto = new CookieCrypto((string)vector["secret"]!);
        var raw = (string)value!;
        Assert.Contains(':', raw);

        var plaintext = crypto.Decrypt(raw[(raw.IndexOf(':') + 1)..], Now);

        Assert.NotNull(plaintext);
        Assert.StartsWith("__txn_", name);
        Assert.True(JsonNode.DeepEquals(vector["payload"], JsonNode.Parse(plaintext)));
    }

    [Theory]
    [InlineData("expired-session")]
    [InlineData("wrong-secret")]
    public void Rejects_expired_and_foreign_cookies(string name)
    {
        var vector = Vector(name);
        var crypto = new CookieCrypto((string)vector["secret"]!);
        Assert.Null(crypto.Decrypt((string)vector["cookies"]!["__session"]!, Now));
    }

    [Fact]
    public void Any_single_character_change_or_truncation_is_rejected()
    {
        var crypto = new CookieCrypto(Secret);
        var value = crypto.Encrypt("""{"user":{"sub":"u1"}}"""u8, Now + 3600);
        Assert.NotNull(crypto.Decrypt(value, Now));

        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '.') continue;
            var chars = value.ToCharArray();
            chars[i] = chars[i] == 'A' ? 'B' : 'A';
            Assert.Null(crypto.Decrypt(new string(chars), Now));
        }
        for (var length = 0; length < value.Length; length += 7)
            Assert.Null(crypto.Decrypt(value[..length], Now));
        Assert.Null(crypto.Decrypt(value + "A", Now));
        Assert.Null(crypto.Decrypt(value.Replace("..", "."), Now));
        Assert.Null(new CookieCrypto(Secret + "x").Decrypt(value, Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("....")]
    [InlineData("not a jwe")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    [InlineData("eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..AAAA.AAAA.AAAA")]
    [InlineData("eyJlbmMiOiJBMTI4R0NNIiwiYWxnIjoiZGlyIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("%%%..%%%.%%%.%%%")]
    public void Garbage_is_no_cookie_not_an_exception(string value) =>
        Assert.Null(new CookieCrypto(Secret).Decrypt(value, Now));

    [Fact]
    public void Honours_exp_with_fifteen_seconds_of_tolerance()
    {
        var crypto = new CookieCrypto(Secret);
        var value = crypto.Encrypt("{}"u8, Now);
        Assert.NotNull(crypto.Decrypt(value, Now + 14));
        Assert.Null(crypto.Decrypt(value, Now + 15));
    }

    [Fact]
    public void Writes_the_exact_header_and_shape_nextjs_auth0_writes()
    {
        var value = new CookieCrypto(Secret).Encrypt("""{"a":1}"""u8, Now + 60);
        var parts = value.Split('.');
        Assert.Equal(5, parts.Length);
        Assert.Equal("eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0", parts[0]);
        Assert.Equal("", parts[1]);
        Assert.Equal(16, parts[2].Length); // 12-byte IV
        Assert.Equal(22, parts[4].Length); // 16-byte tag
    }

    [Fact]
    public async Task Cookies_we_write_decrypt_with_nextjs_auth0()
    {
        var crypto = new CookieCrypto(Secret);
        var payload = """{"user":{"sub":"auth0|alice","name":"Zoë 日本"},"tokenSet":{"accessToken":"at","expiresAt":1900000000},"internal":{"sid":"s1","createdAt":1700000000},"updatedAt":"now"}""";
        var value = crypto.Encrypt(Encoding.UTF8.GetBytes(payload), Now + 3600);

        var decrypted = await NextjsInterop.DecryptAsync(Secret, new Dictionary<string, string> { ["__session"] = value });

        Assert.NotNull(decrypted);
        var expected = JsonNode.Parse(payload)!.AsObject();
        expected["exp"] = Now + 3600;
        Assert.True(JsonNode.DeepEquals(expected, decrypted), decrypted!.ToJsonString());
    }

    [Fact]
    public async Task Chunked_sessions_we_write_decrypt_with_nextjs_auth0()
    {
        var store = TestSessions.Store(Secret);
        var session = TestSessions.Session(bioLength: 9000);
        var jar = new Auth0.Minimal.Sessions.ResponseCookieJar();
        store.Write(session, new TestCookies(), jar);
        var cookies = TestCookies.FromJar(jar);
        Assert.True(cookies.Count >= 3, string.Join(",", cookies.Keys));
        Assert.DoesNotContain("__session", cookies.Keys);

        var decrypted = await NextjsInterop.DecryptAsync(Secret, cookies);

        Assert.NotNull(decrypted);
        Assert.Equal("auth0|alice", (string?)decrypted!["user"]!["sub"]);
        Assert.Equal(9000, ((string)decrypted["user"]!["https://example.com/bio"]!).Length);
    }

    [Fact]
    public async Task Transaction_cookies_we_write_decrypt_with_nextjs_auth0()
    {
        var store = new Auth0.Minimal.Sessions.TransactionStore(TestSessions.Settings(Secret), TimeProvider.System);
        var jar = new Auth0.Minimal.Sessions.ResponseCookieJar();
        store.Save(new Protocol.TransactionState { State = "st1", Nonce = "n1", CodeVerifier = "v1", ResponseType = "code", ReturnTo = "/x" }, new TestCookies(), jar);
        var cookies = TestCookies.FromJar(jar);

        var decrypted = await NextjsInterop.DecryptAsync(Secret, cookies, "__txn_st1");

        Assert.Equal("v1", (string?)decrypted?["codeVerifier"]);
        Assert.Equal("/x", (string?)decrypted?["returnTo"]);
    }
}
