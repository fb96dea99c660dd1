using System.Net;
using System.Text;
using System.Text.Json;
using System.Web;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class TokenFlowTests(IdpFixture idp)
{
    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static JsonElement JwtPayload(string jwt)
    {
        var part = jwt.Split('.')[1];
        var bytes = new byte[part.Length * 3 / 4 + 3];
        Assert.True(Base64Url.TryDecode(part, bytes, out var n));
        return JsonDocument.Parse(bytes.AsMemory(0, n)).RootElement.Clone();
    }

    private static Auth0Session Session(TestBrowser browser, TestApp app)
    {
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var store = TestSessions.Store(TestApp.Secret);
        return store.Decode(store.ReadRaw(new TestCookies(cookies)))!;
    }

    private async Task<(TestApp App, TestBrowser Browser)> SignedIn(int? accessTokenTtl = null, string? loginQuery = null)
    {
        await idp.SetFaultsAsync(new { accessTokenTtl });
        var app = await TestApp.StartAsync(idp);
        var browser = new TestBrowser();
        var callback = await browser.LoginAsync(app, loginQuery: loginQuery);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        await idp.SetFaultsAsync(new { accessTokenTtl = (int?)null });
        return (app, browser);
    }

    [Fact]
    public async Task An_expired_token_is_refreshed_and_the_rotated_refresh_token_is_kept()
    {
        var (app, browser) = await SignedIn(accessTokenTtl: 2);
        await using var _ = app;
        using var __ = browser;
        var before = Session(browser, app);
        var first = await Json(await browser.GetAsync(app.BaseUrl + "/auth/access-token"));
        Assert.Equal(before.TokenSet.AccessToken, first.GetProperty("token").GetString());
        Assert.InRange(first.GetProperty("expires_in").GetInt64(), 0, 2);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var response = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
        var second = await Json(response);

        Assert.NotEqual(first.GetProperty("token").GetString(), second.GetProperty("token").GetString());
        Assert.Equal("bearer", second.GetProperty("token_type").GetString());
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
        var after = Session(browser, app);
        Assert.Equal(second.GetProperty("token").GetString(), after.TokenSet.AccessToken);
        Assert.NotEqual(before.TokenSet.RefreshToken, after.TokenSet.RefreshToken);
        Assert.Equal(before.Internal.CreatedAt, after.Internal.CreatedAt);

        // An unchanged token set is not written again.
        var cached = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
        Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        Assert.False(cached.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Force_refresh_replaces_a_valid_token_and_a_revoked_refresh_token_fails_with_its_code()
    {
        var (app, browser) = await SignedIn();
        await using var _ = app;
        using var __ = browser;
        var first = await (await browser.GetAsync(app.BaseUrl + "/token/orders")).Content.ReadAsStringAsync();
        var forced = await browser.GetAsync(app.BaseUrl + "/token/orders?force=true");
        Assert.True(forced.StatusCode == HttpStatusCode.OK, await forced.Content.ReadAsStringAsync());
        Assert.NotEqual(first, await forced.Content.ReadAsStringAsync());

        await idp.RevokeRefreshTokensAsync("auth0|alice");
        var failed = await browser.GetAsync(app.BaseUrl + "/token/orders?force=true");
        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        Assert.Equal("failed_to_refresh_token|invalid_grant", await failed.Content.ReadAsStringAsync());

        var route = await browser.GetAsync(app.BaseUrl + "/auth/access-token?audience=https://analytics.example.com");
        Assert.Equal(HttpStatusCode.Unauthorized, route.StatusCode);
        Assert.Contains("\"code\":\"failed_to_refresh_token\"", await route.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Tokens_for_two_audiences_are_stored_side_by_side_and_never_mixed_up()
    {
        var (app, browser) = await SignedIn(loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
        await using var _ = app;
        using var __ = browser;
        var login = Session(browser, app);
        Assert.Equal("https://orders.example.com", login.TokenSet.Audience);

        var analytics = await Json(await browser.GetAsync(app.BaseUrl + "/auth/access-token?audience=" + Uri.EscapeDataString("https://analytics.example.com")));
        var analyticsToken = analytics.GetProperty("token").GetString()!;
        Assert.Equal("https://analytics.example.com", JwtPayload(analyticsToken).GetProperty("aud").GetString());
        Assert.Contains("read:analytics", analytics.GetProperty("scope").GetString());

        var stored = Session(browser, app);
        var entry = Assert.Single(stored.AccessTokens!);
        Assert.Equal("https://analytics.example.com", entry.Audience);
        Assert.Equal(analyticsToken, entry.AccessToken);
        Assert.Equal(login.TokenSet.AccessToken, stored.TokenSet.AccessToken);

        // Each audience gets its own token back, with no further refresh.
        await idp.ResetStatsAsync();
        var orders = await (await browser.GetAsync(app.BaseUrl + "/token/orders")).Content.ReadAsStringAsync();
        Assert.Equal("https://orders.example.com", JwtPayload(orders).GetProperty("aud").GetString());
        Assert.Equal(analyticsToken, await (await browser.GetAsync(app.BaseUrl + "/token/analytics")).Content.ReadAsStringAsync());
        Assert.Equal(0, (await idp.StatsAsync()).GetProperty("refreshTokenRequests").GetInt32());

        // The typed Orders client calls the Orders API with the Orders token only.
        var ordersResponse = await browser.GetAsync(app.BaseUrl + "/orders");
        var ordersJson = await Json(ordersResponse);
        Assert.Equal("ord_1", ordersJson.GetProperty("orders")[0].GetProperty("id").GetString());
        Assert.Equal("https://orders.example.com", (await idp.StatsAsync()).GetProperty("lastAudience").GetProperty("orders").GetString());
        var elsewhere = await (await browser.GetAsync(app.BaseUrl + "/orders/elsewhere")).Content.ReadAsStringAsync();
        Assert.StartsWith("refused: Refusing to send the Orders API access token to http://127.0.0.1:9", elsewhere);
    }

    [Fact]
    public async Task Thirty_two_concurrent_requests_on_an_expired_session_make_exactly_one_refresh()
    {
        var (app, browser) = await SignedIn(accessTokenTtl: 2);
        await using var _ = app;
        using var __ = browser;
        var cookieHeader = string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await idp.ResetStatsAsync();
        await idp.SetFaultsAsync(new { refreshDelayMs = 300 });
        try
        {
            using var http = new HttpClient();
            async Task<string> Call()
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/access-token");
                request.Headers.Add("Cookie", cookieHeader);
                var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, body);
                return JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
            }

            var tokens = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Call()));
            Assert.Single(tokens.Distinct());
            Assert.Equal(1, (await idp.StatsAsync()).GetProperty("refreshTokenRequests").GetInt32());

            // A request that still carries the pre-rotation cookie afterwards does not replay the spent refresh token.
            var late = await Call();
            Assert.Equal(tokens[0], late);
            Assert.Equal(1, (await idp.StatsAsync()).GetProperty("refreshTokenRequests").GetInt32());
        }
        finally
        {
            await idp.SetFaultsAsync(new { refreshDelayMs = (int?)null });
        }
    }

    [Fact]
    public async Task Concurrent_refreshes_for_two_audiences_never_mix_tokens_or_replay_a_refresh_token()
    {
        var (app, browser) = await SignedIn(accessTokenTtl: 2, loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
        await using var _ = app;
        using var __ = browser;
        var cookieHeader = string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await idp.ResetStatsAsync();
        await idp.SetFaultsAsync(new { refreshDelayMs = 200 });
        try
        {
            using var http = new HttpClient();
            async Task<(string Api, string Token)> Call(string api)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/token/" + api);
                request.Headers.Add("Cookie", cookieHeader);
                var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, api + ": " + body);
                return (api, body);
            }

            var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Call(i % 2 == 0 ? "orders" : "analytics")));
            foreach (var (api, token) in results)
                Assert.Equal($"https://{api}.example.com", JwtPayload(token).GetProperty("aud").GetString());
            Assert.Equal(2, (await idp.StatsAsync()).GetProperty("refreshTokenRequests").GetInt32());
        }
        finally
        {
            await idp.SetFaultsAsync(new { refreshDelayMs = (int?)null });
        }
    }

    [Fact]
    public async Task A_one_off_narrower_scope_does_not_make_later_default_requests_refresh()
    {
        var (app, browser) = await SignedIn(accessTokenTtl: 2);
        await using var _ = app;
        using var __ = browser;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await idp.ResetStatsAsync();
        var narrow = await browser.GetAsync(app.BaseUrl + "/auth/access-token?scope=openid&mergeScopes=false");
        Assert.Equal(HttpStatusCode.OK, narrow.StatusCode);
        // The narrow token is not kept as the session's token: one default refresh, then the cached token.
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/access-token")).StatusCode);
        Assert.Equal(2, (await idp.StatsAsync()).GetProperty("refreshTokenRequests").GetInt32());
    }

    [Fact]
    public async Task A_cookie_that_missed_a_rotation_is_healed_instead_of_replaying_the_spent_refresh_token()
    {
        var clock = new FakeTime();
        await idp.SetFaultsAsync(new { accessTokenTtl = 2 });
        await using var app = await TestApp.StartAsync(idp, services: s => s.AddSingleton<TimeProvider>(clock));
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        await idp.SetFaultsAsync(new { accessTokenTtl = (int?)null });
        var stale = string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));

        clock.Advance(TimeSpan.FromSeconds(5)); // the login token has expired
        await idp.ResetStatsAsync();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/access-token")).StatusCode);

        // Long after: a tab whose cookie never got the rotated refresh token (its response was lost).
        clock.Advance(TimeSpan.FromMinutes(2)); // past the window in which the recorded result is simply handed out
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/access-token");
        request.Headers.Add("Cookie", stale);
        var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var stats = await idp.StatsAsync();
        Assert.Equal(2, stats.GetProperty("refreshTokenRequests").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/token/orders")).StatusCode); // the family is alive
    }

    [Fact]
    public async Task The_api_client_never_follows_a_redirect_to_another_origin_with_the_token()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using var other = await MiniServer.StartAsync(context =>
        {
            seen.Add(context.Request.Headers.Authorization.ToString());
            context.Response.StatusCode = 401;
            return Task.CompletedTask;
        });
        await using var api = await MiniServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = other.BaseUrl + "/steal";
            return Task.CompletedTask;
        });
        await using var app = await TestApp.StartAsync(idp, v => v["ORDERS_API_URL"] = api.BaseUrl + "/");
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        var response = await browser.GetAsync(app.BaseUrl + "/orders");

        Assert.Empty(seen);
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_login_with_a_narrower_scope_still_gets_its_own_token_and_a_refused_audience_says_why()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app, loginQuery: "scope=openid%20profile%20email");
        var token = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
        Assert.True(token.StatusCode == HttpStatusCode.OK, await token.Content.ReadAsStringAsync());

        using var withRefresh = new TestBrowser();
        await withRefresh.LoginAsync(app);
        var unknown = await withRefresh.GetAsync(app.BaseUrl + "/auth/access-token?audience=" + Uri.EscapeDataString("https://nope.example.com"));
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        var error = System.Text.Json.JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("failed_to_refresh_token", error.GetProperty("code").GetString());
        Assert.Equal("A new access token could not be obtained with the refresh token: invalid_target.", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task An_app_exception_after_a_refresh_still_saves_the_rotated_refresh_token()
    {
        using var browser = new TestBrowser();
        int port;
        {
            await using var app = await TestApp.StartAsync(idp);
            port = app.Port;
            await browser.LoginAsync(app);
            var failed = await browser.GetAsync(app.BaseUrl + "/refresh-then-throw");
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
            Assert.Equal("The request could not be completed.\nerror: internal_error\n", await failed.Content.ReadAsStringAsync());
            Assert.Contains(failed.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__session=", StringComparison.Ordinal));
        }
        // A new process knows no rotation: only the cookie can carry the successor of the spent refresh token.
        await using var restarted = await TestApp.StartAsync(idp, port: port);
        var refreshed = await browser.GetAsync(restarted.BaseUrl + "/token/orders?force=true");
        Assert.True(refreshed.StatusCode == HttpStatusCode.OK, await refreshed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Access_token_route_rejects_malformed_scope()
    {
        var (app, browser) = await SignedIn();
        await using var _ = app;
        using var __ = browser;
        var response = await browser.GetAsync(app.BaseUrl + "/auth/access-token?scope=" + Uri.EscapeDataString("read:orders\"x"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var maybe = await browser.GetAsync(app.BaseUrl + "/auth/access-token?mergeScopes=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, maybe.StatusCode);
        Assert.Contains("invalid_request", await maybe.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/access-token?mergeScopes=False")).StatusCode);
    }
}
