using System.Text;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Tests.Unit;

public class HostileCookieTests
{
    private const string Secret = "hostile-test-secret-0123456789abcdefghijklmn";

    private static HttpRequest Request(string cookieHeader)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = cookieHeader;
        return context.Request;
    }

    private static string Encrypt(string json) =>
        new Crypto.CookieCrypto(Secret).Encrypt(Encoding.UTF8.GetBytes(json), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600);

    [Theory]
    [InlineData("""{"sub":"auth0|x","name":"A\ud83d"}""")]
    [InlineData("""{"sub":"auth0|x","name":"\udc00"}""")]
    [InlineData("""{"sub":"auth0|x","list":["ok","\ud800"]}""")]
    [InlineData("""{"sub":"auth0|x","nested":{"deep":"\ud800x"}}""")]
    public void A_validly_encrypted_session_with_unreadable_strings_is_no_session(string user)
    {
        var store = TestSessions.Store(Secret);
        var cookie = Encrypt($$$"""{"user":{{{user}}},"tokenSet":{"accessToken":"a"},"internal":{"sid":"s"}}""");
        Assert.Null(store.Read(Request("__session=" + cookie), out var had));
        Assert.True(had);
    }

    [Fact]
    public void With_duplicate_session_cookies_the_one_that_decrypts_wins()
    {
        var store = TestSessions.Store(Secret);
        var good = Encrypt("""{"user":{"sub":"auth0|good"},"tokenSet":{},"internal":{}}""");
        Assert.Equal("auth0|good", store.Read(Request($"__session={good}; __session=junk"), out _)!.User.Sub);
        Assert.Equal("auth0|good", store.Read(Request($"__session=junk; __session={good}"), out _)!.User.Sub);
    }

    [Fact]
    public void Non_canonical_chunk_names_are_never_read_but_are_deleted()
    {
        var store = TestSessions.Store(Secret);
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(bioLength: 9000), new TestCookies(), jar);
        var browser = TestCookies.FromJar(jar);
        browser["__session__01"] = "x";
        Assert.NotNull(store.Decode(store.ReadRaw(new TestCookies(browser))));

        var delete = new ResponseCookieJar();
        store.Delete(new TestCookies(browser), delete);
        var deleted = TestCookies.SetCookieHeaders(delete).Select(TestCookies.Parse).Where(c => c.Deleted).Select(c => c.Name).ToList();
        Assert.Contains("__session__01", deleted);
        Assert.Contains("__session__0", deleted);
    }

    [Fact]
    public void Junk_chunk_cookies_cannot_multiply_the_response()
    {
        var store = TestSessions.Store(Secret);
        var junk = Enumerable.Range(0, 1000).ToDictionary(i => "__session__" + i, _ => "x");
        var jar = new ResponseCookieJar();
        store.Delete(new TestCookies(junk), jar);
        Assert.True(TestCookies.SetCookieHeaders(jar).Count <= 21);
    }

    [Fact]
    public void A_session_too_large_for_a_cookie_is_trimmed_or_refused()
    {
        var store = TestSessions.Store(Secret);
        var session = TestSessions.Session();
        session.TokenSet.IdToken = new string('i', 14000);
        Assert.True(store.TryFit(session));
        Assert.Null(session.TokenSet.IdToken);

        var huge = TestSessions.Session(bioLength: 20000);
        Assert.False(store.TryFit(huge));
        var jar = new ResponseCookieJar();
        store.Write(huge, new TestCookies(new Dictionary<string, string> { ["__session"] = "old" }), jar);
        Assert.All(TestCookies.SetCookieHeaders(jar).Select(TestCookies.Parse), c => Assert.True(c.Deleted));
    }

    [Fact]
    public void Abandoned_transactions_are_evicted_oldest_first()
    {
        var store = new TransactionStore(TestSessions.Settings(Secret), TimeProvider.System);
        var browser = new Dictionary<string, string>();
        for (var i = 0; i < 40; i++)
        {
            var jar = new ResponseCookieJar();
            store.Save(new Protocol.TransactionState { State = "state" + i.ToString("D2"), Nonce = "n", CodeVerifier = "v", ReturnTo = "/" }, new TestCookies(browser), jar);
            foreach (var (name, value, deleted) in TestCookies.SetCookieHeaders(jar).Select(TestCookies.Parse))
                if (deleted) browser.Remove(name); else browser[name] = value;
        }
        var total = browser.Sum(kv => kv.Key.Length + 1 + Uri.EscapeDataString(kv.Value).Length);
        Assert.True(total <= TransactionStore.MaxTotalBytes + 700, $"{browser.Count} cookies, {total} bytes");
        Assert.Contains("__txn_state39", browser.Keys);
        Assert.True(browser.Count >= 3);
    }
}
