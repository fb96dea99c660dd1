using System.Net;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class SessionCookieFlowTests(IdpFixture idp)
{
    [Theory]
    [InlineData("tamper")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("other-key")]
    public async Task An_unreadable_session_cookie_is_no_session_and_is_cleared(string damage)
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var value = browser.Cookie(app.BaseUrl, "__session")!;

        var damaged = damage switch
        {
            "tamper" => value[..^30] + (value[^30] == 'A' ? 'B' : 'A') + value[^29..],
            "truncate" => value[..(value.Length / 2)],
            "garbage" => "%%%not-a-jwe%%%",
            _ => new Crypto.CookieCrypto("another-secret-0123456789abcdefghijklmnop").Encrypt("""{"user":{"sub":"x"},"tokenSet":{},"internal":{}}"""u8, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600),
        };
        var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/profile");
        request.Headers.Add("Cookie", "__session=" + damaged);
        using var raw = new HttpClient();
        var response = await raw.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var cleared = response.Headers.GetValues("Set-Cookie").Single();
        Assert.StartsWith("__session=; Path=/; Max-Age=0", cleared);

        var api = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/api/me");
        api.Headers.Add("Cookie", "__session=" + damaged);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.SendAsync(api)).StatusCode);
    }

    [Fact]
    public async Task A_big_session_is_chunked_and_a_smaller_one_later_clears_the_chunks()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var big = await browser.LoginAsync(app, "big", "big-password");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, big.StatusCode);
        var chunks = browser.AppCookies(app.BaseUrl).Where(c => c.Name.StartsWith("__session__", StringComparison.Ordinal)).ToList();
        Assert.True(chunks.Count >= 2, "expected 2+ chunks, got " + chunks.Count);
        Assert.All(chunks, c => Assert.True(c.Value.Length <= 3500));
        Assert.Null(browser.Cookie(app.BaseUrl, "__session"));
        var profile = await browser.GetAsync(app.BaseUrl + "/auth/profile");
        Assert.Contains("auth0|big", await profile.Content.ReadAsStringAsync());

        // Logging in again as a user with a small ID token writes a single cookie and deletes every chunk.
        var small = await browser.LoginAsync(app, "alice", "alice-password", "prompt=login");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, small.StatusCode);
        var cookies = browser.AppCookies(app.BaseUrl);
        Assert.Single(cookies, c => c.Name == "__session");
        Assert.DoesNotContain(cookies, c => c.Name.StartsWith("__session__", StringComparison.Ordinal));
        var deletions = small.Headers.GetValues("Set-Cookie").Where(h => h.Contains("Max-Age=0")).Select(h => h.Split('=')[0]).ToList();
        foreach (var chunk in chunks) Assert.Contains(chunk.Name, deletions);
        Assert.Contains("auth0|alice", await (await browser.GetAsync(app.BaseUrl + "/auth/profile")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Logout_clears_the_session_chunks_and_every_transaction_cookie()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app, "big", "big-password");
        await browser.GetAsync(app.BaseUrl + "/auth/login"); // a pending transaction
        Assert.Contains(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));

        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout?returnTo=https://evil.example/");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, logout.StatusCode);
        Assert.Empty(browser.AppCookies(app.BaseUrl));
        Assert.Contains("no-store", logout.Headers.CacheControl!.ToString());
        var query = System.Web.HttpUtility.ParseQueryString(logout.Headers.Location!.Query);
        Assert.Equal(app.BaseUrl, query["post_logout_redirect_uri"]); // the hostile returnTo was replaced

        var ok = await browser.GetAsync(app.BaseUrl + "/auth/logout?returnTo=" + Uri.EscapeDataString(app.BaseUrl + "/bye?x=1"));
        Assert.Equal(app.BaseUrl + "/bye?x=1", System.Web.HttpUtility.ParseQueryString(ok.Headers.Location!.Query)["post_logout_redirect_uri"]);
    }

    [Fact]
    public async Task Anonymous_requests_get_no_cookies_and_no_cache_headers()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var raw = new HttpClient();
        var response = await raw.GetAsync(app.BaseUrl + "/plain");
        Assert.False(response.Headers.Contains("Set-Cookie"));
        var profile = await raw.GetAsync(app.BaseUrl + "/auth/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, profile.StatusCode);
        Assert.Null(profile.Headers.CacheControl);
        var token = await raw.GetAsync(app.BaseUrl + "/auth/access-token");
        Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
        Assert.Equal("""{"error":{"message":"The user does not have an active session.","code":"missing_session"}}""", await token.Content.ReadAsStringAsync());
    }
}
