using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>
/// Hostile input against the cold cookie decode: the pooled plaintext with exp/nbf read by the deserializer instead
/// of a scan of their own, one AesGcm per thread, and the whole user read as one JSON document. The reference for
/// every outcome is the decode before that rewrite: decrypt, then a scan that rejects the payload when any top-level
/// <c>exp</c> is not a number or has passed, or any top-level <c>nbf</c> is not a number or not reached yet (no
/// tolerance for sessions), then the deserializer.
/// </summary>
public class HotPathHostileTests2
{
    private const string Secret = "hotpath-hostile2-secret-0123456789abcdefghij";
    private static readonly byte[] Key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(Secret), 32, salt: [], info: "JWE CEK"u8.ToArray());

    // ---------------------------------------------------------------- helpers

    /// <summary>A JWE cookie under <see cref="Secret"/> carrying exactly <paramref name="plaintext"/> (no exp added).</summary>
    private static string Jwe(ReadOnlySpan<byte> plaintext)
    {
        Span<byte> iv = stackalloc byte[12];
        Span<byte> tag = stackalloc byte[16];
        RandomNumberGenerator.Fill(iv);
        var ct = new byte[plaintext.Length];
        using var aes = new AesGcm(Key, 16);
        aes.Encrypt(iv, plaintext, ct, tag, Encoding.ASCII.GetBytes(CookieCrypto.ProtectedHeader));
        return CookieCrypto.ProtectedHeader + ".." + Base64Url.Encode(iv) + "." + Base64Url.Encode(ct) + "." + Base64Url.Encode(tag);
    }

    private static string Jwe(string plaintext) => Jwe(Encoding.UTF8.GetBytes(plaintext));

    /// <summary>A valid session payload (no exp) with <paramref name="members"/> appended at the top level.</summary>
    private static string Payload(string members = "", long? createdAt = null)
    {
        var created = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var body = "{\"user\":{\"sub\":\"auth0|alice\",\"name\":\"Alice\"},\"tokenSet\":{\"accessToken\":\"at\",\"refreshToken\":\"rt\"},"
                   + "\"internal\":{\"sid\":\"sid-1\",\"createdAt\":" + created + "}";
        return body + (members.Length > 0 ? "," + members : "") + "}";
    }

    private static (SessionCookieStore Store, FakeTime Time, long Now) NewStore()
    {
        var time = new FakeTime();
        return (TestSessions.Store(Secret, time), time, time.GetUtcNow().ToUnixTimeSeconds());
    }

    // ---------------------------------------------------------------- exp / nbf against the pre-rewrite scan

    /// <summary>
    /// exp/nbf shapes whose outcome did not change: {P} is now + the offset in seconds. "ok" means the cookie is a
    /// session, "no" that it is none.
    /// </summary>
    [Theory]
    [InlineData("\"exp\":{P+60}", "ok")]
    [InlineData("\"exp\":{P+1}", "ok")]
    [InlineData("\"exp\":{P+0}", "no")]              // exp is exclusive: the second it is reached, it has passed
    [InlineData("\"exp\":{P-1}", "no")]
    [InlineData("\"exp\":-1", "no")]
    [InlineData("\"exp\":0", "no")]
    [InlineData("\"exp\":\"{P+60}\"", "no")]         // a string is not a NumericDate
    [InlineData("\"exp\":true", "no")]
    [InlineData("\"exp\":[{P+60}]", "no")]
    [InlineData("\"exp\":{\"v\":{P+60}}", "no")]
    [InlineData("\"exp\":{P+60},\"exp\":{P-1}", "no")] // a later, passed exp
    [InlineData("\"e\\u0078p\":{P-1}", "no")]        // an escaped name is still exp
    [InlineData("\"EXP\":{P-1}", "ok")]              // not exp: member names are case-sensitive
    [InlineData("\"Exp\":{P-1},\"exp\":{P+60}", "ok")]
    [InlineData("\"extra\":{\"exp\":{P-1}}", "ok")]  // a nested exp is a custom field's business
    [InlineData("\"nbf\":{P+0}", "ok")]
    [InlineData("\"nbf\":{P-100}", "ok")]
    [InlineData("\"nbf\":{P+1}", "no")]              // no tolerance for sessions
    [InlineData("\"nbf\":\"0\"", "no")]
    [InlineData("\"nbf\":null", "no")]
    [InlineData("\"nbf\":{P+1},\"exp\":{P+60}", "no")]
    [InlineData("", "ok")]                           // no exp at all: a session, never cached
    public void Exp_and_nbf_are_judged_as_before(string members, string expected)
    {
        var (store, _, now) = NewStore();
        var raw = Jwe(Payload(Fill(members, now)));
        Assert.Equal(expected, store.Decode(raw) is null ? "no" : "ok");
        // And a second time (the verified-session cache must not change the answer either way).
        Assert.Equal(expected, store.Decode(raw) is null ? "no" : "ok");
    }

    private static string Fill(string template, long now)
    {
        var text = template;
        while (text.IndexOf("{P", StringComparison.Ordinal) is var at and >= 0)
        {
            var end = text.IndexOf('}', at);
            var offset = long.Parse(text[(at + 2)..end], System.Globalization.CultureInfo.InvariantCulture);
            text = text[..at] + (now + offset).ToString(System.Globalization.CultureInfo.InvariantCulture) + text[(end + 1)..];
        }
        return text;
    }

    /// <summary>
    /// A payload with two top-level exp members, the first passed and the last still ahead. The scan before the
    /// rewrite rejected it (every exp had to be ahead). Now the deserializer keeps the last value it reads into
    /// <c>Auth0Session.CookieExpiry</c> (SessionCookieStore.Deserialize), so the passed exp is never looked at: the
    /// cookie is a session, and it is cached until the later exp.
    /// </summary>
    [Fact]
    public void A_payload_with_a_passed_exp_followed_by_a_later_one_is_no_session()
    {
        var (store, _, now) = NewStore();
        var raw = Jwe(Payload($"\"exp\":{now - 3600},\"exp\":{now + 3600}"));
        Assert.Null(store.Decode(raw));
    }

    /// <summary>
    /// The same duplicate, written by the SDK itself: CookieCrypto.Encrypt appends exp to the serialized payload
    /// without looking for one, so a payload that still carries an exp (any caller of Encrypt that forgets to clear
    /// it) gets two. Before, the older one, once passed, made the cookie invalid; now only the appended one counts.
    /// </summary>
    [Fact]
    public void A_passed_exp_left_in_a_payload_before_the_appended_one_still_ends_the_cookie()
    {
        var (store, _, now) = NewStore();
        var crypto = TestSessions.Settings(Secret).Crypto;
        var raw = crypto.Encrypt(Encoding.UTF8.GetBytes(Payload($"\"exp\":{now - 10}")), now + 3600);
        Assert.Null(crypto.Decrypt(raw, now, toleranceSeconds: 0)); // the general decrypt still refuses it
        Assert.Null(store.Decode(raw));                              // the session decode does not
    }

    /// <summary>
    /// <c>"exp": null</c>. Before: not a number, so no session. Now the nullable <c>CookieExpiry</c> reads null as
    /// "no exp": the cookie is a session with no expiry of its own (only the absolute lifetime ends it).
    /// </summary>
    [Fact]
    public void A_null_exp_is_no_session()
    {
        var (store, time, now) = NewStore();
        var raw = Jwe(Payload("\"exp\":null"));
        Assert.Null(store.Decode(raw));
        time.Advance(TimeSpan.FromDays(30));
        Assert.Null(store.Decode(raw));
    }

    /// <summary>
    /// Two nbf members, the first in the future. Before: rejected (every nbf had to be reached). Now nbf is read from
    /// the extension data, which keeps one value per name.
    /// </summary>
    [Fact]
    public void A_future_nbf_followed_by_a_reached_one_is_no_session()
    {
        var (store, _, now) = NewStore();
        var raw = Jwe(Payload($"\"nbf\":{now + 3600},\"nbf\":{now - 3600},\"exp\":{now + 3600}"));
        Assert.Null(store.Decode(raw));
    }

    /// <summary>
    /// The reverse direction: exp values the scan accepted (any JSON number ahead of now) that the long-typed member
    /// now fails to read, which logs the user out. jose (nextjs-auth0) always writes an integer, so this only
    /// concerns other writers; pinned so a change is deliberate.
    /// </summary>
    [Theory]
    [InlineData("{P+3600}.5")]
    [InlineData("{P+3600}.0")]
    [InlineData("1e12")]
    [InlineData("1E+12")]
    [InlineData("1e300")]
    [InlineData("99999999999999999999")]
    public void Exp_numbers_that_are_not_64_bit_integers_are_no_longer_sessions(string exp)
    {
        var (store, _, now) = NewStore();
        var raw = Jwe(Payload("\"exp\":" + Fill(exp, now)));
        var crypto = TestSessions.Settings(Secret).Crypto;
        Assert.NotNull(crypto.Decrypt(raw, now, toleranceSeconds: 0)); // the scan (still used for other cookies) accepts it
        Assert.Null(store.Decode(raw));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"user\":{\"sub\":\"x\"}}]")]
    [InlineData("\"session\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"user\":null,\"tokenSet\":{},\"internal\":{}}")]
    [InlineData("{\"user\":[],\"tokenSet\":{},\"internal\":{}}")]
    [InlineData("{\"user\":\"alice\",\"tokenSet\":{},\"internal\":{}}")]
    [InlineData("{\"user\":{},\"tokenSet\":{},\"internal\":{}} trailing")]
    [InlineData("{\"user\":{},\"tokenSet\":{},\"internal\":{}}{}")]
    [InlineData("{\"user\":{},\"tokenSet\":{},\"internal\":{},\"accessTokens\":[null]}")]
    [InlineData("{\"user\":{},\"tokenSet\":{},\"internal\":{\"createdAt\":\"soon\"}}")]
    public void Payloads_that_are_not_session_objects_are_no_session_and_never_throw(string payload)
    {
        var (store, _, _) = NewStore();
        Assert.Null(store.Decode(Jwe(payload)));
    }

    [Fact]
    public void An_empty_object_session_with_the_three_members_is_still_a_session()
    {
        // The minimum the decode accepts, as before (so the non-object cases above fail for their shape, not for this).
        var (store, _, now) = NewStore();
        Assert.NotNull(store.Decode(Jwe($"{{\"user\":{{}},\"tokenSet\":{{}},\"internal\":{{}},\"exp\":{now + 60}}}")));
    }

    [Fact]
    public void Deeply_nested_claims_are_no_session_and_do_not_overflow_the_stack()
    {
        var (store, _, now) = NewStore();
        foreach (var depth in new[] { 70, 1000, 20000 })
        {
            var nested = new string('[', depth) + new string(']', depth);
            Assert.Null(store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"deep\":" + nested))));
        }
        // Within the reader's depth limit a nested claim is fine.
        var ok = new string('[', 40) + new string(']', 40);
        Assert.NotNull(store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"deep\":" + ok))));
    }

    [Fact]
    public void A_duplicate_claim_keeps_the_last_value_as_before()
    {
        var (store, _, now) = NewStore();
        var session = store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"sub\":\"auth0|alice\"", "\"sub\":\"auth0|mallory\",\"sub\":\"auth0|alice\"")));
        Assert.Equal("auth0|alice", session!.User.Sub);
        session = store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"name\":\"Alice\",\"sub\":\"auth0|mallory\"")));
        Assert.Equal("auth0|mallory", session!.User.Sub);
    }

    [Fact]
    public void A_large_user_object_decodes_and_its_claims_outlive_the_pooled_plaintext()
    {
        var (store, _, now) = NewStore();
        var claims = string.Join(",", Enumerable.Range(0, 2000).Select(i => $"\"c{i}\":\"value-{i}\""));
        var big = store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", claims)))!;
        // Decoding other cookies reuses the pooled buffers; the claims of the first session are views of their own copy.
        for (var i = 0; i < 50; i++)
            Assert.NotNull(store.Decode(Jwe(Payload($"\"exp\":{now + 60},\"n\":{i}").Replace("Alice", new string('z', 5000 + i)))));
        Assert.Equal(2001, big.User.Claims.Count);
        Assert.Equal("value-1999", big.User.Claims["c1999"].GetString());
        Assert.Equal("auth0|alice", big.User.Sub);
    }

    // ---------------------------------------------------------------- strings that cannot become .NET strings

    /// <summary>Raw bytes inside a claim string, without any escape: each must make the cookie no session.</summary>
    [Theory]
    [InlineData("FF")]           // never valid in UTF-8
    [InlineData("C0AF")]         // overlong '/'
    [InlineData("E080AF")]       // overlong '/', three bytes
    [InlineData("F08080AF")]     // overlong '/', four bytes
    [InlineData("EDA080")]       // U+D800 encoded directly
    [InlineData("EDBFBF")]       // U+DFFF encoded directly
    [InlineData("EDA0BDEDB880")] // a surrogate pair encoded as two CESU-8 halves
    [InlineData("E282")]         // truncated sequence
    [InlineData("80")]           // lone continuation byte
    [InlineData("F4908080")]     // above U+10FFFF
    [InlineData("F8888080")]     // five-byte form
    public void A_claim_string_with_invalid_UTF8_is_no_session(string hex)
    {
        var (store, _, now) = NewStore();
        var bad = Convert.FromHexString(hex);
        foreach (var where in new[] { "claim", "nested-claim", "array-claim", "field", "tokenset-field", "internal-field", "access-token-field" })
        {
            var payload = Encoding.UTF8.GetBytes(Payload($"\"exp\":{now + 60}" + where switch
            {
                "field" => ",\"custom\":\"a#b\"",
                "tokenset-field" => "",
                "internal-field" => "",
                "access-token-field" => ",\"accessTokens\":[{\"accessToken\":\"x\",\"extra\":\"a#b\"}]",
                _ => "",
            }).Replace("\"name\":\"Alice\"", where switch
            {
                "claim" => "\"name\":\"a#b\"",
                "nested-claim" => "\"name\":{\"k\":{\"k\":\"a#b\"}}",
                "array-claim" => "\"name\":[\"ok\",\"a#b\"]",
                _ => "\"name\":\"Alice\"",
            }).Replace("\"refreshToken\":\"rt\"", where == "tokenset-field" ? "\"refreshToken\":\"rt\",\"x\":\"a#b\"" : "\"refreshToken\":\"rt\"")
              .Replace("\"sid\":\"sid-1\"", where == "internal-field" ? "\"sid\":\"sid-1\",\"x\":\"a#b\"" : "\"sid\":\"sid-1\""));
            var at = Array.IndexOf(payload, (byte)'#');
            Assert.True(at > 0, where);
            var withBad = payload[..at].Concat(bad).Concat(payload[(at + 1)..]).ToArray();
            Assert.True(store.Decode(Jwe(withBad)) is null, $"{hex} in {where}");
        }
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udfff")]
    [InlineData("a\\ud800b")]
    [InlineData("\\udc00\\ud800")]
    public void A_claim_string_with_an_escaped_lone_surrogate_is_no_session(string escaped)
    {
        var (store, _, now) = NewStore();
        Assert.Null(store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"name\":\"" + escaped + "\""))));
        Assert.Null(store.Decode(Jwe(Payload($"\"exp\":{now + 60},\"custom\":[\"{escaped}\"]"))));
        // In a member name, of a claim and of a nested object.
        Assert.Null(store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"" + escaped + "\":1"))));
        Assert.Null(store.Decode(Jwe(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"name\":{\"" + escaped + "\":1}"))));
    }

    [Fact]
    public void Invalid_UTF8_in_a_claim_name_is_no_session()
    {
        var (store, _, now) = NewStore();
        var payload = Encoding.UTF8.GetBytes(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"n#\":\"Alice\",\"o\":{\"k#\":1}"));
        foreach (var hex in new[] { "FF", "EDA080", "C0AF" })
        {
            var bytes = Encoding.UTF8.GetString(payload).Split('#');
            var first = Encoding.UTF8.GetBytes(bytes[0]).Concat(Convert.FromHexString(hex)).Concat(Encoding.UTF8.GetBytes(bytes[1])).Concat(Encoding.UTF8.GetBytes(bytes[2])).ToArray();
            Assert.True(store.Decode(Jwe(first)) is null, hex);
        }
    }

    [Theory]
    [InlineData("caf\u00e9 \u2603 \U0001F600", "caf\\u00e9 \\u2603 \\ud83d\\ude00")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("q\"uote/", "q\\\"uote\\/")]
    public void Valid_strings_raw_or_escaped_read_back_exactly(string expected, string escaped)
    {
        var (store, _, now) = NewStore();
        var raw = Encoding.UTF8.GetBytes(Payload($"\"exp\":{now + 60}").Replace("\"name\":\"Alice\"", "\"name\":\"" + JsonEncodedText.Encode(expected, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping) + "\",\"esc\":\"" + escaped + "\""));
        var session = store.Decode(Jwe(raw))!;
        Assert.Equal(expected, session.User.Claims["name"].GetString());
        Assert.Equal(expected, session.User.Claims["esc"].GetString());
    }

    /// <summary>
    /// Invalid UTF-8 in a connection token set's extra member. Every other extension-data dictionary is checked
    /// (SessionCookieStore.Deserialize calls EnsureReadable on user, session, tokenSet, internal and each accessTokens
    /// entry), but not <c>connectionTokenSets[i].Extra</c>: the cookie is a session whose string then throws on use,
    /// and the session cannot be written back (the re-issue fails at response start).
    /// </summary>
    [Fact]
    public void Invalid_UTF8_in_a_connection_token_sets_extra_member_is_no_session()
    {
        var (store, _, now) = NewStore();
        var payload = Encoding.UTF8.GetBytes(Payload($"\"exp\":{now + 60},\"connectionTokenSets\":[{{\"accessToken\":\"x\",\"connection\":\"google\",\"x\":\"a#b\"}}]"));
        var at = Array.IndexOf(payload, (byte)'#');
        var withBad = payload[..at].Concat(new byte[] { 0xED, 0xA0, 0x80 }).Concat(payload[(at + 1)..]).ToArray();
        var session = store.Decode(Jwe(withBad));
        if (session is not null)
        {
            // What accepting it costs: the value cannot be read, and the session cannot be written again.
            var x = session.ConnectionTokenSets![0].Extra!["x"];
            Assert.Throws<InvalidOperationException>(() => x.GetString());
        }
        Assert.Null(session);
    }

    // ---------------------------------------------------------------- the pooled plaintext

    private static readonly byte[] Marker = "PLAINTEXT-MARKER-7f3a"u8.ToArray();

    private static bool PoolHoldsMarker(int size)
    {
        // Shared's per-thread slot hands back the arrays this thread returned last, first.
        var rented = new List<byte[]>();
        try
        {
            for (var i = 0; i < 8; i++) rented.Add(ArrayPool<byte>.Shared.Rent(size));
            return rented.Any(a => a.AsSpan().IndexOf(Marker) >= 0);
        }
        finally { foreach (var a in rented) ArrayPool<byte>.Shared.Return(a); }
    }

    [Theory]
    [InlineData("valid")]
    [InlineData("expired")]
    [InlineData("not-yet")]
    [InlineData("not-a-session")]
    [InlineData("bad-utf8")]
    [InlineData("json-error")]
    public void The_decrypted_plaintext_is_zeroed_before_its_array_goes_back_to_the_pool(string kind)
    {
        var (store, _, now) = NewStore();
        var marker = Encoding.ASCII.GetString(Marker);
        var payload = kind switch
        {
            "valid" => Payload($"\"exp\":{now + 60},\"m\":\"{marker}\""),
            "expired" => Payload($"\"exp\":{now - 60},\"m\":\"{marker}\""),
            "not-yet" => Payload($"\"nbf\":{now + 60},\"m\":\"{marker}\""),
            "not-a-session" => $"[{{\"m\":\"{marker}\"}}]",
            "bad-utf8" => Payload($"\"exp\":{now + 60},\"m\":\"{marker}\",\"b\":\"\\udc00\""),
            _ => Payload($"\"exp\":{now + 60},\"m\":\"{marker}\"")[..^1],
        };
        var raw = Jwe(payload);
        for (var i = 0; i < 3; i++)
        {
            var outcome = store.Decode(raw);
            Assert.Equal(kind == "valid", outcome is not null);
            Assert.False(PoolHoldsMarker(payload.Length), kind);
            if (kind == "valid") Assert.False(PoolHoldsMarker(payload.Length), kind);
        }
    }

    [Fact]
    public void A_cookie_whose_tag_fails_leaves_no_plaintext_in_the_pool()
    {
        var (store, _, now) = NewStore();
        var raw = Jwe(Payload($"\"exp\":{now + 60},\"m\":\"{Encoding.ASCII.GetString(Marker)}\""));
        var parts = raw.Split('.');
        var tag = Base64Url.Encode(Enumerable.Range(0, 16).Select(i => (byte)i).ToArray());
        Assert.Null(store.Decode(string.Join('.', parts[0], parts[1], parts[2], parts[3], tag)));
        Assert.False(PoolHoldsMarker(parts[3].Length));
    }

    [Fact]
    public void A_shorter_plaintext_after_a_longer_one_in_the_same_array_reads_only_its_own_bytes()
    {
        var (store, _, now) = NewStore();
        // The long payload ends in a member the short one lacks; were the short read past its length, it would see the
        // long one's tail (or fail as trailing data).
        var longPayload = Payload($"\"exp\":{now + 60},\"a\":\"{new string('x', 1500)}\",\"leak\":\"from-long\"");
        var shortPayload = Payload($"\"exp\":{now + 60}");
        var longRaw = Jwe(longPayload);
        var shortRaw = Jwe(shortPayload);
        for (var i = 0; i < 20; i++)
        {
            var first = TestSessions.Store(Secret).DecodeUncached(longRaw, now, out _);
            Assert.Equal("from-long", first!.GetField("leak")!.Value.GetString());
            var second = TestSessions.Store(Secret).DecodeUncached(shortRaw, now, out _);
            Assert.NotNull(second);
            Assert.Null(second.GetField("leak"));
            Assert.Null(second.GetField("a"));
        }
    }

    // ---------------------------------------------------------------- one AesGcm per thread

    [Fact]
    public async Task Many_threads_encrypting_and_decrypting_with_one_instance_get_their_own_results()
    {
        var crypto = new CookieCrypto(Secret);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var failures = new ConcurrentQueue<string>();
        var tasks = Enumerable.Range(0, 32).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                var payload = Encoding.UTF8.GetBytes($"{{\"t\":{t},\"i\":{i},\"pad\":\"{new string((char)('a' + t % 26), (t * 37 + i) % 700)}\"}}");
                var cookie = crypto.Encrypt(payload, now + 60);
                if (i % 50 == 0) await Task.Yield(); // hop threads between the encryption and the decryption
                var back = crypto.Decrypt(cookie, now);
                var pooled = crypto.DecryptPooledUnchecked(cookie, out var length);
                try
                {
                    if (back is null || pooled is null) { failures.Enqueue($"{t}/{i}: null"); continue; }
                    using var a = JsonDocument.Parse(back);
                    using var b = JsonDocument.Parse(pooled.AsMemory(0, length));
                    if (a.RootElement.GetProperty("t").GetInt32() != t || a.RootElement.GetProperty("i").GetInt32() != i
                        || b.RootElement.GetProperty("t").GetInt32() != t || b.RootElement.GetProperty("i").GetInt32() != i)
                        failures.Enqueue($"{t}/{i}: another thread's plaintext");
                }
                finally
                {
                    if (pooled is not null) ArrayPool<byte>.Shared.Return(pooled, clearArray: true);
                }
                // A tampered value decrypts on no thread.
                var tampered = cookie[..^2] + (cookie[^2] == 'A' ? "B" : "A") + cookie[^1];
                if (crypto.Decrypt(tampered, now) is not null) failures.Enqueue($"{t}/{i}: tampered accepted");
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Two_instances_with_different_secrets_on_the_same_threads_never_share_a_key()
    {
        var a = new CookieCrypto(Secret);
        var b = new CookieCrypto(Secret + "-other");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var failures = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                var fromA = a.Encrypt("{\"k\":\"a\"}"u8, now + 60);
                var fromB = b.Encrypt("{\"k\":\"b\"}"u8, now + 60);
                if (a.Decrypt(fromB, now) is not null || b.Decrypt(fromA, now) is not null) failures.Enqueue("cross-key decrypt");
                if (a.Decrypt(fromA, now) is null || b.Decrypt(fromB, now) is null) failures.Enqueue("own key failed");
            }
        })));
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Concurrent_cold_decodes_of_many_users_never_mix_sessions_up()
    {
        var (_, _, now) = NewStore();
        var cookies = Enumerable.Range(0, 64).Select(i => (Sub: "auth0|u" + i,
            Raw: Jwe(Payload($"\"exp\":{now + 600},\"pad\":\"{new string('p', i * 53 % 3000)}\"").Replace("auth0|alice", "auth0|u" + i)))).ToArray();
        var failures = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(t => Task.Run(() =>
        {
            // A store per task keeps every decode cold (no verified-session cache hit).
            for (var round = 0; round < 20; round++)
                foreach (var (sub, raw) in cookies)
                {
                    var session = TestSessions.Store(Secret).DecodeUncached(raw, now, out var exp);
                    if (session?.User.Sub != sub || exp != now + 600) failures.Enqueue($"{sub}: {session?.User.Sub} {exp}");
                }
        })));
        Assert.Empty(failures);
    }

    [Fact]
    public void A_session_read_then_written_carries_exactly_one_exp()
    {
        var (store, time, now) = NewStore();
        var session = store.Decode(Jwe(Payload($"\"exp\":{now + 60}")))!;
        time.Advance(TimeSpan.FromSeconds(5));
        var jar = new ResponseCookieJar();
        store.Write(session, new TestCookies(), jar);
        var cookie = TestCookies.FromJar(jar)["__session"];
        var plaintext = Encoding.UTF8.GetString(TestSessions.Settings(Secret).Crypto.Decrypt(cookie, now + 5)!);
        Assert.Equal(1, plaintext.Split("\"exp\"").Length - 1);
        // Also from a cached (shared) read.
        var again = store.Decode(cookie)!;
        jar = new ResponseCookieJar();
        store.Write(again, new TestCookies(), jar);
        plaintext = Encoding.UTF8.GetString(TestSessions.Settings(Secret).Crypto.Decrypt(TestCookies.FromJar(jar)["__session"], now + 5)!);
        Assert.Equal(1, plaintext.Split("\"exp\"").Length - 1);
    }
}
