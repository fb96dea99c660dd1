using System.Net;
using System.Text.Json;
using System.Web;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Testing;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class SessionFeatureTests(IdpFixture idp)
{
    private static string CookieHeader(TestBrowser browser, TestApp app) =>
        string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));

    private static async Task<HttpResponseMessage> GetWithCookies(TestApp app, string path, string cookies)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + path);
        if (cookies.Length > 0) request.Headers.Add("Cookie", cookies);
        return await http.SendAsync(request);
    }

    /// <summary>The request cookies a browser would send after this response (Set-Cookie applied to the old ones).</summary>
    private static string Apply(string cookies, HttpResponseMessage response)
    {
        var jar = cookies.Split("; ", StringSplitOptions.RemoveEmptyEntries).Select(c => c.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        if (response.Headers.TryGetValues("Set-Cookie", out var headers))
            foreach (var header in headers)
            {
                var first = header.Split(';')[0].Split('=', 2);
                if (header.Contains("Max-Age=0")) jar.Remove(first[0]); else jar[first[0]] = first[1];
            }
        return string.Join("; ", jar.Select(kv => kv.Key + "=" + kv.Value));
    }

    [Fact]
    public async Task Rolling_sessions_stay_alive_with_activity_end_when_idle_and_never_outlive_the_absolute_limit()
    {
        var clock = new FakeTime();
        await using var app = await TestApp.StartAsync(idp,
            options: o => { o.Session.InactivityDuration = TimeSpan.FromSeconds(60); o.Session.AbsoluteDuration = TimeSpan.FromSeconds(300); },
            services: s => s.AddSingleton<TimeProvider>(clock));
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var cookies = CookieHeader(browser, app);

        // Activity every 50 s keeps it alive; each response rolls the cookie to min(now + 60, login + 300).
        for (var elapsed = 50; elapsed <= 250; elapsed += 50)
        {
            clock.Advance(TimeSpan.FromSeconds(50));
            var response = await GetWithCookies(app, "/api/me", cookies);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"at {elapsed}s: {(int)response.StatusCode}");
            var rolled = response.Headers.GetValues("Set-Cookie").Single(h => h.StartsWith("__session=", StringComparison.Ordinal));
            Assert.Contains($"Max-Age={Math.Min(60, 300 - elapsed)}", rolled);
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
            cookies = Apply(cookies, response);
        }

        // 300 s after login the session ends however active the user is.
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookies(app, "/api/me", cookies)).StatusCode);

        // A fresh login that then stays idle for 61 s is logged out.
        using var idle = new TestBrowser();
        await idle.LoginAsync(app, "bob", "bob-password");
        var idleCookies = CookieHeader(idle, app);
        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookies(app, "/auth/profile", idleCookies)).StatusCode);

        // Anonymous requests are never given a cookie.
        var anonymous = await GetWithCookies(app, "/plain", "");
        Assert.False(anonymous.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task A_cookie_issued_moments_ago_is_not_issued_again_but_the_response_is_still_not_cached()
    {
        var clock = new FakeTime();
        await using var app = await TestApp.StartAsync(idp, services: s => s.AddSingleton<TimeProvider>(clock));
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var cookies = CookieHeader(browser, app);

        clock.Advance(TimeSpan.FromSeconds(30));
        var soon = await GetWithCookies(app, "/api/me", cookies);
        Assert.Equal(HttpStatusCode.OK, soon.StatusCode);
        Assert.False(soon.Headers.Contains("Set-Cookie"));
        Assert.Contains("no-store", soon.Headers.CacheControl!.ToString());

        // Past a minute (a tenth of the day-long inactivity period caps at 60 s) the cookie rolls again.
        clock.Advance(TimeSpan.FromSeconds(31));
        var later = await GetWithCookies(app, "/api/me", cookies);
        Assert.Contains(later.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__session=", StringComparison.Ordinal) && h.Contains("Max-Age=86400"));
    }

    [Fact]
    public async Task A_session_past_the_providers_session_expiry_is_over_for_every_endpoint()
    {
        await using var app = await TestApp.StartAsync(idp);
        var store = app.Services.GetRequiredService<SessionCookieStore>();
        string CookieFor(long sessionExpiresAt)
        {
            var session = TestSessions.Session();
            session.Internal.SessionExpiresAt = sessionExpiresAt;
            var jar = new ResponseCookieJar();
            store.Write(session, new TestCookies(), jar);
            return "__session=" + TestCookies.FromJar(jar)["__session"];
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(HttpStatusCode.OK, (await GetWithCookies(app, "/api/me", CookieFor(now + 600))).StatusCode);
        var expired = await GetWithCookies(app, "/api/me", CookieFor(now - 1));
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains(expired.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__session=;", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Logout_expires_every_chunk_with_the_domain_and_path_they_were_set_with()
    {
        await using var app = await TestApp.StartAsync(idp, v => { v["AUTH0_COOKIE_DOMAIN"] = "app.example.test"; v["AUTH0_COOKIE_PATH"] = "/"; });
        var store = app.Services.GetRequiredService<SessionCookieStore>();
        var jar = new ResponseCookieJar();
        store.Write(TestSessions.Session(bioLength: 9000), new TestCookies(), jar);
        var written = TestCookies.SetCookieHeaders(jar);
        Assert.All(written, h => Assert.Contains("; Domain=app.example.test", h));
        var cookies = string.Join("; ", written.Select(h => h.Split(';')[0]));

        var logout = await GetWithCookies(app, "/auth/logout", cookies);

        var deletions = logout.Headers.GetValues("Set-Cookie").Where(h => h.Contains("Max-Age=0")).ToList();
        foreach (var name in written.Select(h => h.Split('=')[0]))
        {
            var deletion = Assert.Single(deletions, d => d.StartsWith(name + "=;", StringComparison.Ordinal));
            Assert.Contains("; Path=/;", deletion);
            Assert.Contains("; Domain=app.example.test", deletion);
        }
    }

    [Fact]
    public async Task Forty_abandoned_logins_stay_under_the_cookie_cap_and_the_newest_still_completes()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 40; i++) last = await browser.GetAsync(app.BaseUrl + "/auth/login");

        var txnBytes = browser.AppCookies(app.BaseUrl).Where(c => c.Name.StartsWith("__txn_", StringComparison.Ordinal)).Sum(c => c.Name.Length + 1 + c.Value.Length);
        Assert.InRange(txnBytes, 1, TransactionStore.MaxTotalBytes + 700);

        var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(last, app, "alice", "alice-password")).ToString());
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        Assert.NotNull(browser.Cookie(app.BaseUrl, "__session"));
    }

    [Fact]
    public async Task Two_tabs_logging_in_at_once_both_succeed()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var tab1 = await browser.GetAsync(app.BaseUrl + "/auth/login?returnTo=/one");
        var tab2 = await browser.GetAsync(app.BaseUrl + "/auth/login?returnTo=/two");
        var callback2 = await browser.CompleteIdpLoginAsync(tab2, app, "alice", "alice-password");
        var callback1 = await browser.CompleteIdpLoginAsync(tab1, app, "alice", "alice-password");

        var done1 = await browser.GetAsync(callback1.ToString());
        var done2 = await browser.GetAsync(callback2.ToString());
        Assert.Equal(app.BaseUrl + "/one", done1.Headers.Location!.ToString());
        Assert.Equal(app.BaseUrl + "/two", done2.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
    }

    [Fact]
    public async Task Single_transaction_mode_uses_one_cookie()
    {
        await using var app = await TestApp.StartAsync(idp, options: o => o.EnableParallelTransactions = false);
        using var browser = new TestBrowser();
        await browser.GetAsync(app.BaseUrl + "/auth/login");
        var last = await browser.GetAsync(app.BaseUrl + "/auth/login");
        Assert.Equal(["__txn_"], browser.AppCookies(app.BaseUrl).Select(c => c.Name).ToArray());
        var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(last, app, "alice", "alice-password")).ToString());
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
    }

    [Fact]
    public async Task Hooks_run_in_order_see_every_claim_and_cannot_change_internal_data()
    {
        var order = new List<string>();
        await using var app = await TestApp.StartAsync(idp, options: o =>
        {
            o.OnCallback = ctx =>
            {
                order.Add("onCallback:" + (ctx.Error?.Code ?? "ok") + ":" + ctx.Session?.User.Claims.ContainsKey("https://example.com/roles"));
                return ValueTask.FromResult<IResult?>(ctx.Error is null ? null : Results.Text("custom error " + ctx.Error.Code, statusCode: 418));
            };
            o.BeforeSessionSaved = (session, idToken) =>
            {
                order.Add("beforeSessionSaved:" + (idToken is not null));
                var user = Auth0User.FilterDefaultIdTokenClaims(session.User.Claims, ["https://example.com/roles"]);
                session.User = user;
                session.SetField("updatedAt", JsonDocument.Parse("\"from-hook\"").RootElement.Clone());
                session.Internal.Sid = "hijacked";
                return ValueTask.FromResult(session);
            };
        });
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        Assert.Equal(["onCallback:ok:True", "beforeSessionSaved:True"], order);

        var profile = await (await browser.GetAsync(app.BaseUrl + "/auth/profile")).Content.ReadAsStringAsync();
        Assert.Contains("https://example.com/roles", profile);
        Assert.Equal("from-hook", await (await browser.GetAsync(app.BaseUrl + "/session/field")).Content.ReadAsStringAsync());
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var store = TestSessions.Store(TestApp.Secret);
        Assert.NotEqual("hijacked", store.Decode(store.ReadRaw(new TestCookies(cookies)))!.Internal.Sid);

        var error = await browser.GetAsync(app.BaseUrl + "/auth/callback?code=x");
        Assert.Equal((HttpStatusCode)418, error.StatusCode);
        Assert.Equal("custom error missing_state", await error.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Session_updates_are_seen_by_the_same_request_survive_round_trips_and_need_a_session()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var anonymous = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, app.BaseUrl + "/session/touch"));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("missing_session", await anonymous.Content.ReadAsStringAsync());

        await browser.LoginAsync(app);
        var update = await browser.SendAsync(new HttpRequestMessage(HttpMethod.Post, app.BaseUrl + "/session/touch"));
        Assert.Equal("updated:2026-12-03", await update.Content.ReadAsStringAsync());
        Assert.Single(update.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__session=", StringComparison.Ordinal));
        Assert.Equal("2026-12-03", await (await browser.GetAsync(app.BaseUrl + "/session/field")).Content.ReadAsStringAsync());

        // The custom field is a plain top-level member, as nextjs-auth0 reads it.
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var decrypted = await NextjsInterop.DecryptAsync(TestApp.Secret, cookies);
        Assert.Equal("2026-12-03", (string?)decrypted!["updatedAt"]);
    }

    [Fact]
    public async Task The_compact_format_is_smaller_for_a_real_login_and_either_setting_reads_both()
    {
        async Task<(int Size, string Cookies)> LoginWith(bool compact)
        {
            await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_COOKIE_COMPACT"] = compact ? "true" : "false");
            using var browser = new TestBrowser();
            await browser.LoginAsync(app, "big", "big-password");
            var cookies = browser.AppCookies(app.BaseUrl);
            return (cookies.Sum(c => c.Value.Length), string.Join("; ", cookies.Select(c => $"{c.Name}={c.Value}")));
        }

        var jwe = await LoginWith(compact: false);
        var compact = await LoginWith(compact: true);
        Assert.True(compact.Size <= jwe.Size * 0.8, $"compact {compact.Size} vs JWE {jwe.Size}");

        // A JWE-configured app still reads the compact cookie (and the other way round), so switching logs nobody out.
        await using var reader = await TestApp.StartAsync(idp, v => v["AUTH0_COOKIE_COMPACT"] = "false");
        Assert.Equal(HttpStatusCode.OK, (await GetWithCookies(reader, "/api/me", compact.Cookies)).StatusCode);
        await using var compactReader = await TestApp.StartAsync(idp, v => v["AUTH0_COOKIE_COMPACT"] = "true");
        Assert.Equal(HttpStatusCode.OK, (await GetWithCookies(compactReader, "/api/me", jwe.Cookies)).StatusCode);
    }

    [Fact]
    public async Task The_testing_helper_makes_a_cookie_the_app_accepts()
    {
        await using var app = await TestApp.StartAsync(idp);
        var cookie = Auth0TestSessions.GenerateSessionCookie(Auth0TestSessions.CreateSession("auth0|test-user", "Test User"), TestApp.Secret);
        var response = await GetWithCookies(app, "/api/me", "__session=" + cookie);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("auth0|test-user", await response.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetWithCookies(app, "/api/me", "__session=" + Auth0TestSessions.GenerateSessionCookie(
            Auth0TestSessions.CreateSession("auth0|x"), "some-other-secret-0123456789abcdefghij"))).StatusCode);
    }

    [Fact]
    public async Task The_app_aware_testing_helper_writes_the_expiry_the_app_would_so_a_rolling_app_does_not_reissue_it()
    {
        await using var app = await TestApp.StartAsync(idp);
        var cookie = await Auth0TestSessions.GenerateSessionCookieAsync(app.Services, Auth0TestSessions.CreateSession("auth0|fresh", "Fresh"));
        var response = await GetWithCookies(app, "/api/me", "__session=" + cookie);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Just written with the app's own inactivity deadline: rolling it again now would only cost an encryption.
        Assert.False(response.Headers.Contains("Set-Cookie"));
        var store = app.Services.GetRequiredService<SessionCookieStore>();
        Assert.NotNull(store.Decode(cookie, out var expiresAt));
        var inactivity = (long)app.Services.GetRequiredService<Auth0.Minimal.Configuration.Auth0Settings>().Options.Session.InactivityDuration.TotalSeconds;
        Assert.InRange(expiresAt!.Value - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), inactivity - 60, inactivity);
    }
}
