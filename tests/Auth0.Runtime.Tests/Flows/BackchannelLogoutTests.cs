using System.Net;
using System.Text;
using Auth0.Minimal.Sample;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

[CollectionDefinition(Name)]
public sealed class RedisAndIdpCollection : ICollectionFixture<IdpFixture>, ICollectionFixture<RedisFixture>
{
    public const string Name = "identity provider and redis";
}

/// <summary>Back-channel logout from the real provider, with cookie sessions and with the Redis session store.</summary>
[Collection(IdpCollection.Name)]
public class BackchannelLogoutTests(IdpFixture idp)
{
    private static async Task<HttpResponseMessage> PostLogoutToken(TestApp app, string? token, string? rawBody = null)
    {
        using var http = new HttpClient();
        var body = rawBody ?? "logout_token=" + Uri.EscapeDataString(token!);
        return await http.PostAsync(app.BaseUrl + "/auth/backchannel-logout", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));
    }

    private static object Claims(string issuer, Dictionary<string, object?>? overrides = null, params string[] remove)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = issuer,
            ["aud"] = LocalIdentityProvider.ClientId,
            ["iat"] = now,
            ["exp"] = now + 120,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["sid"] = "sid-" + Guid.NewGuid().ToString("N"),
            ["sub"] = "auth0|alice",
            ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() },
        };
        foreach (var (k, v) in overrides ?? []) claims[k] = v;
        foreach (var k in remove) claims.Remove(k);
        return claims;
    }

    [Fact]
    public async Task The_provider_logs_a_cookie_session_out_and_a_stolen_copy_stops_working()
    {
        await using var app = await TestApp.StartAsync(idp);
        await idp.SetBackchannelLogoutUriAsync(app.BaseUrl + "/auth/backchannel-logout");
        try
        {
            using var browser = new TestBrowser();
            await browser.LoginAsync(app);
            var stolen = string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);

            var result = await idp.LogoutUserAsync("auth0|alice");
            Assert.Contains(result.GetProperty("deliveries").EnumerateArray(), d => d.GetProperty("status").GetInt32() == 204);

            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
            using var thief = new HttpClient(new SocketsHttpHandler { UseCookies = false });
            using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/api/me");
            request.Headers.Add("Cookie", stolen);
            Assert.Equal(HttpStatusCode.Unauthorized, (await thief.SendAsync(request)).StatusCode);

            // Signing in again afterwards works (a new sid).
            using var again = new TestBrowser();
            await again.LoginAsync(app);
            Assert.Equal(HttpStatusCode.OK, (await again.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
        }
        finally
        {
            await idp.SetBackchannelLogoutUriAsync(null);
        }
    }

    public static TheoryData<string> Corpus() => new()
    {
        "id-token", "nonce", "event-instead-of-events", "events-member-missing", "events-member-not-object", "no-sid-no-sub",
        "wrong-aud", "wrong-iss", "expired", "unknown-key", "alg-none", "hs256", "no-iat", "sid-not-string", "wrong-typ", "no-jti",
        "garbage", "empty",
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public async Task Every_bad_logout_token_is_a_400_with_a_reason(string kind)
    {
        await using var app = await TestApp.StartAsync(idp);
        var iss = idp.Issuer;
        string token = kind switch
        {
            "id-token" => await IdToken(app),
            "nonce" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["nonce"] = "n" })),
            "event-instead-of-events" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["event"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = new Dictionary<string, object>() } }, "events")),
            "events-member-missing" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["events"] = new Dictionary<string, object> { ["other"] = new Dictionary<string, object>() } })),
            "events-member-not-object" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["events"] = new Dictionary<string, object> { ["http://schemas.openid.net/event/backchannel-logout"] = "x" } })),
            "no-sid-no-sub" => await idp.SignLogoutTokenAsync(Claims(iss, null, "sid", "sub")),
            "wrong-aud" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["aud"] = "another-client" })),
            "wrong-iss" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["iss"] = "http://evil.example/" })),
            "expired" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["exp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 600, ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 900 })),
            "unknown-key" => await idp.SignLogoutTokenAsync(Claims(iss), kid: "unknown"),
            "alg-none" => await idp.SignLogoutTokenAsync(Claims(iss), alg: "none"),
            "hs256" => await idp.SignLogoutTokenAsync(Claims(iss), alg: "HS256"),
            "no-iat" => await idp.SignLogoutTokenAsync(Claims(iss, null, "iat")),
            "sid-not-string" => await idp.SignLogoutTokenAsync(Claims(iss, new() { ["sid"] = 42 })),
            "wrong-typ" => await idp.SignLogoutTokenAsync(Claims(iss), header: new { typ = "JWT+whatever" }),
            "no-jti" => await idp.SignLogoutTokenAsync(Claims(iss, null, "jti")),
            "garbage" => "not.a.jwt",
            _ => "",
        };

        var response = await PostLogoutToken(app, token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("backchannel_logout_error", body);
        Assert.True(body.Length > 40, body);
    }

    [Fact]
    public async Task A_valid_token_is_204_once_and_a_replay_is_refused()
    {
        await using var app = await TestApp.StartAsync(idp);
        var token = await idp.SignLogoutTokenAsync(Claims(idp.Issuer));
        Assert.Equal(HttpStatusCode.NoContent, (await PostLogoutToken(app, token)).StatusCode);
        var replay = await PostLogoutToken(app, token);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Contains("already used", await replay.Content.ReadAsStringAsync());
        var missing = await PostLogoutToken(app, null, rawBody: "other=1");
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("Missing `logout_token`", await missing.Content.ReadAsStringAsync());
    }

    private async Task<string> IdToken(TestApp app)
    {
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var store = TestSessions.Store(TestApp.Secret);
        return store.Decode(store.ReadRaw(new TestCookies(cookies)))!.TokenSet.IdToken!;
    }
}

[Collection(RedisAndIdpCollection.Name)]
public class RedisSessionStoreTests(IdpFixture idp, RedisFixture redis)
{
    private Task<TestApp> StartAsync(int? port = null) => TestApp.StartAsync(idp, port: port, services: s =>
    {
        s.AddStackExchangeRedisCache(o => o.Configuration = redis.ConnectionString);
        s.AddAuth0DistributedSessionStore();
    });

    [Fact]
    public async Task Sessions_live_in_redis_survive_a_restart_and_die_with_a_backchannel_logout()
    {
        var app = await StartAsync();
        var port = app.Port;
        using var browser = new TestBrowser();
        try
        {
            await browser.LoginAsync(app, "bob", "bob-password");
            var cookie = browser.Cookie(app.BaseUrl, "__session")!;
            Assert.True(cookie.Length < 300, "the cookie should hold only an encrypted id, got " + cookie.Length);
            Assert.DoesNotContain(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__session__", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
        }
        finally
        {
            await app.DisposeAsync();
        }

        // Same cookie, new process: the session is read back from Redis.
        await using var restarted = await StartAsync(port);
        var profile = await browser.GetAsync(restarted.BaseUrl + "/auth/profile");
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Contains("auth0|bob", await profile.Content.ReadAsStringAsync());
        var stolen = string.Join("; ", browser.AppCookies(restarted.BaseUrl).Select(c => $"{c.Name}={c.Value}"));

        await idp.SetBackchannelLogoutUriAsync(restarted.BaseUrl + "/auth/backchannel-logout");
        try
        {
            var result = await idp.LogoutUserAsync("auth0|bob");
            Assert.Contains(result.GetProperty("deliveries").EnumerateArray(), d => d.GetProperty("status").GetInt32() == 204);
        }
        finally
        {
            await idp.SetBackchannelLogoutUriAsync(null);
        }
        using var thief = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, restarted.BaseUrl + "/auth/profile");
        request.Headers.Add("Cookie", stolen);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task A_new_login_gets_a_new_session_id_and_a_write_after_logout_cannot_revive_the_session()
    {
        await using var app = await StartAsync();
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var first = browser.Cookie(app.BaseUrl, "__session");
        var store = app.Services.GetRequiredService<ISessionStore>();
        var settingsStore = app.Services.GetRequiredService<Sessions.SessionCookieStore>();
        var firstId = Id(settingsStore, first!);
        Assert.NotNull(await store.GetAsync(firstId, default));

        await browser.LoginAsync(app, "alice", "alice-password", "prompt=login");
        var secondId = Id(settingsStore, browser.Cookie(app.BaseUrl, "__session")!);
        Assert.NotEqual(firstId, secondId);
        Assert.Null(await store.GetAsync(firstId, default)); // the pre-login session is gone (fixation)

        var session = (await store.GetAsync(secondId, default))!;
        await store.DeleteAsync(secondId, default);
        Assert.False(await store.UpdateAsync(secondId, session, DateTimeOffset.UtcNow.AddHours(1), default));
        Assert.Null(await store.GetAsync(secondId, default));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
    }

    [Fact]
    public async Task The_testing_helper_works_with_the_store_and_a_logout_before_the_callback_still_wins()
    {
        await using var app = await StartAsync();
        var cookie = await Auth0.Minimal.Testing.Auth0TestSessions.GenerateSessionCookieAsync(app.Services,
            Auth0.Minimal.Testing.Auth0TestSessions.CreateSession("auth0|stored-user", "Stored"));
        using var raw = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        using (var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/api/me"))
        {
            request.Headers.Add("Cookie", "__session=" + cookie);
            var response = await raw.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("auth0|stored-user", await response.Content.ReadAsStringAsync());
        }

        // The provider logs bob out while his callback is still on its way: the session saved afterwards is refused.
        await idp.SetBackchannelLogoutUriAsync(app.BaseUrl + "/auth/backchannel-logout");
        try
        {
            using var browser = new TestBrowser();
            var start = await browser.GetAsync(app.BaseUrl + "/auth/login");
            var callback = await browser.CompleteIdpLoginAsync(start, app, "bob", "bob-password");
            var result = await idp.LogoutUserAsync("auth0|bob");
            Assert.Contains(result.GetProperty("deliveries").EnumerateArray(), d => d.GetProperty("status").GetInt32() == 204);
            Assert.Equal(HttpStatusCode.TemporaryRedirect, (await browser.GetAsync(callback.ToString())).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/api/me")).StatusCode);
        }
        finally
        {
            await idp.SetBackchannelLogoutUriAsync(null);
        }
    }

    [Fact]
    public async Task An_unreachable_store_is_503_not_500_and_not_signed_out()
    {
        await using var app = await TestApp.StartAsync(idp, services: s =>
        {
            s.AddStackExchangeRedisCache(o => o.Configuration = "127.0.0.1:1,abortConnect=false,connectTimeout=300,syncTimeout=300,connectRetry=0");
            s.AddAuth0DistributedSessionStore();
        });
        var settings = app.Services.GetRequiredService<Configuration.Auth0Settings>();
        var cookie = settings.Crypto.Encrypt(Encoding.UTF8.GetBytes("{\"id\":\"0123456789abcdef0123456789abcdef\"}"), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600);
        using var raw = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        foreach (var path in (string[])["/api/me", "/auth/profile", "/auth/access-token"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + path);
            request.Headers.Add("Cookie", "__session=" + cookie);
            var response = await raw.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, path + ": " + (int)response.StatusCode);
            Assert.False(response.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(h => h.Contains("Max-Age=0")), path + " cleared the cookie");
        }
    }

    [Fact]
    public async Task A_store_without_a_distributed_cache_stops_the_app_at_start_up()
    {
        var ex = await Assert.ThrowsAsync<Auth0ConfigurationException>(() => TestApp.StartAsync(idp, services: s => s.AddAuth0DistributedSessionStore()));
        Assert.Contains("IDistributedCache", ex.Message);
    }

    private static string Id(Sessions.SessionCookieStore store, string cookie)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers.Cookie = "__session=" + cookie;
        return store.ReadSessionId(context.Request, out _)!;
    }
}
