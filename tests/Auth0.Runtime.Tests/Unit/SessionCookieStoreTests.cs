using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Unit;

public class SessionCookieStoreTests
{
    private const string Secret = "store-test-secret-0123456789abcdefghijklmnop";

    [Fact]
    public void A_small_session_is_one_cookie_and_deletes_chunks_the_browser_still_has()
    {
        var store = TestSessions.Store(Secret);
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(), new TestCookies(new Dictionary<string, string> { ["__session__0"] = "a", ["__session__1"] = "b", ["other"] = "x" }), jar);

        var headers = TestCookies.SetCookieHeaders(jar).Select(TestCookies.Parse).ToList();

        Assert.Equal(["__session", "__session__0", "__session__1"], headers.Select(h => h.Name).Order().ToArray());
        Assert.False(headers.Single(h => h.Name == "__session").Deleted);
        Assert.All(headers.Where(h => h.Name != "__session"), h => Assert.True(h.Deleted));
    }

    [Fact]
    public void A_large_session_is_chunked_and_shrinking_back_to_one_cookie_clears_every_chunk()
    {
        var store = TestSessions.Store(Secret);

        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(bioLength: 8000), new TestCookies(new Dictionary<string, string> { ["__session"] = "old" }), jar);
        var headers = TestCookies.SetCookieHeaders(jar);
        var browser = TestCookies.FromJar(CloneJar(headers));
        Assert.True(browser.Count >= 3);
        Assert.All(browser, kv => Assert.True(kv.Value.Length <= SessionCookieStore.MaxChunkSize));
        Assert.Contains(headers, h => h.StartsWith("__session=;", StringComparison.Ordinal)); // stale single cookie removed
        var session = store.Decode(store.ReadRaw(new TestCookies(browser)));
        Assert.Equal(8000, session!.User.GetString("https://example.com/bio")!.Length);

        var shrink = new ResponseCookieJar();
        store.Write(TestSessions.Session(), new TestCookies(browser), shrink);
        var after = TestCookies.SetCookieHeaders(shrink).Select(TestCookies.Parse).ToList();
        Assert.False(after.Single(h => h.Name == "__session").Deleted);
        foreach (var chunk in browser.Keys) Assert.True(after.Single(h => h.Name == chunk).Deleted, chunk);
    }

    [Fact]
    public void A_gap_in_the_chunks_is_no_session()
    {
        var store = TestSessions.Store(Secret);
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(bioLength: 9000), new TestCookies(), jar);
        var browser = TestCookies.FromJar(jar);
        browser.Remove("__session__1");
        Assert.Null(store.ReadRaw(new TestCookies(browser)));
    }

    [Fact]
    public void Cookie_attributes_follow_the_options()
    {
        var settings = TestSessions.Settings(Secret, o =>
        {
            o.AppBaseUrl = "https://app.example.com";
            o.Session.Cookie.Domain = "example.com";
            o.Session.Cookie.SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict;
        });
        var store = new SessionCookieStore(settings, TimeProvider.System, TestSessions.Telemetry);
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(), new TestCookies(), jar);
        var header = TestCookies.SetCookieHeaders(jar).Single();
        Assert.Matches(@"^__session=[^;]+; Path=/; Expires=[^;]+; Max-Age=86400; Domain=example.com; Secure; HttpOnly; SameSite=strict$", header);
    }

    private static ResponseCookieJar CloneJar(List<string> headers)
    {
        // Re-create the browser view from raw headers.
        var jar = new ResponseCookieJar();
        var settings = new Configuration.CookieSettings("x", "/", null, false, Microsoft.AspNetCore.Http.SameSiteMode.Lax);
        foreach (var (name, value, deleted) in headers.Select(TestCookies.Parse))
            if (deleted) jar.Delete(settings, name, DateTimeOffset.UtcNow); else jar.Set(settings, name, value, 100, DateTimeOffset.UtcNow);
        return jar;
    }

    [Fact]
    public void A_cookie_read_again_is_served_from_the_verified_cache_as_an_independent_copy_until_it_expires()
    {
        var clock = new FakeTime();
        var store = TestSessions.Store(Secret, clock);
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(), new TestCookies(), jar);
        var raw = TestCookies.FromJar(jar)["__session"];

        var first = store.Decode(raw, out var firstExpiry)!;
        var second = store.Decode(raw, out var secondExpiry)!;
        Assert.NotSame(first, second);
        Assert.NotNull(firstExpiry);
        Assert.Equal(firstExpiry, secondExpiry);

        // A request that changes its copy changes nobody else's.
        first.TokenSet.AccessToken = "changed";
        first.User.Claims.Remove("name");
        first.SetField("extra", System.Text.Json.JsonDocument.Parse("1").RootElement);
        var third = store.Decode(raw)!;
        Assert.Equal("at", third.TokenSet.AccessToken);
        Assert.Equal("Alice Example", third.User.Name);
        Assert.Null(third.GetField("extra"));

        // A tampered value is never a hit, and an expired cookie is not served from the cache.
        Assert.Null(store.Decode(raw[..^2] + (raw[^2] == 'A' ? "B" : "A") + raw[^1]));
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Null(store.Decode(raw));
    }
}
