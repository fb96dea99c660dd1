using System.Net;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>CIBA and connection tokens against the real provider.</summary>
[Collection(IdpCollection.Name)]
public class AuthFlowsTests(IdpFixture idp)
{
    private async Task<string> WaitForPendingAsync(string bindingMessage)
    {
        for (var i = 0; i < 100; i++)
        {
            foreach (var pending in (await idp.PendingCibaAsync()).EnumerateArray())
                if (pending.GetProperty("binding_message").GetString() == bindingMessage) return pending.GetProperty("auth_req_id").GetString()!;
            await Task.Delay(50);
        }
        throw new TimeoutException("the backchannel request never reached the provider");
    }

    [Fact]
    public async Task An_approved_backchannel_request_returns_tokens_and_stores_nothing()
    {
        await using var app = await TestApp.StartAsync(idp);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        var message = "approve-" + Guid.NewGuid().ToString("N")[..8];
        var pending = ciba.GetTokenByBackchannelAuthAsync(new BackchannelAuthenticationRequest { BindingMessage = message, LoginHintSub = "auth0|alice" });

        await idp.DecideCibaAsync(await WaitForPendingAsync(message), approve: true);
        var result = await pending;

        Assert.False(string.IsNullOrEmpty(result.TokenSet.AccessToken));
        Assert.Equal("auth0|alice", result.IdTokenClaims["sub"].GetString());
        Assert.NotNull(result.TokenSet.ExpiresAt);
    }

    [Fact]
    public async Task Polling_honours_Retry_After_and_cancellation()
    {
        await using var app = await TestApp.StartAsync(idp);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        await idp.SetFaultsAsync(new { cibaRetryAfter = 3 });
        try
        {
            var message = "retry-" + Guid.NewGuid().ToString("N")[..8];
            var started = System.Diagnostics.Stopwatch.StartNew();
            var pending = ciba.GetTokenByBackchannelAuthAsync(new BackchannelAuthenticationRequest { BindingMessage = message, LoginHintSub = "auth0|alice" });
            await idp.DecideCibaAsync(await WaitForPendingAsync(message), approve: true);
            var result = await pending;
            Assert.False(string.IsNullOrEmpty(result.TokenSet.AccessToken));
            // First poll after the 1 s interval gets 503 Retry-After: 3, so the next one waits 3 s.
            Assert.True(started.Elapsed >= TimeSpan.FromSeconds(3.5), started.Elapsed.ToString());
        }
        finally
        {
            await idp.SetFaultsAsync(new { cibaRetryAfter = (int?)null });
        }

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ciba.GetTokenByBackchannelAuthAsync(
            new BackchannelAuthenticationRequest { BindingMessage = "cancelled", LoginHintSub = "auth0|alice" }, cancel.Token));
    }

    [Fact]
    public async Task A_denied_backchannel_request_gives_the_denial_code()
    {
        await using var app = await TestApp.StartAsync(idp);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        var message = "deny-" + Guid.NewGuid().ToString("N")[..8];
        var pending = ciba.GetTokenByBackchannelAuthAsync(new BackchannelAuthenticationRequest { BindingMessage = message, LoginHintSub = "auth0|bob" });
        await idp.DecideCibaAsync(await WaitForPendingAsync(message), approve: false);

        var ex = await Assert.ThrowsAsync<BackchannelAuthenticationException>(() => pending);
        Assert.Equal(BackchannelAuthenticationException.Failed, ex.Code);
        Assert.Equal("access_denied", ex.OAuth2Error!.Error);
    }

    [Fact]
    public async Task An_unanswered_backchannel_request_expires_and_an_unknown_user_fails_at_once()
    {
        await using var app = await TestApp.StartAsync(idp);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        var expired = await Assert.ThrowsAsync<BackchannelAuthenticationException>(() => ciba.GetTokenByBackchannelAuthAsync(
            new BackchannelAuthenticationRequest { BindingMessage = "expire", LoginHintSub = "auth0|alice", RequestedExpiry = TimeSpan.FromSeconds(2) }));
        Assert.Equal("expired_token", expired.OAuth2Error!.Error);

        var unknown = await Assert.ThrowsAsync<BackchannelAuthenticationException>(() => ciba.GetTokenByBackchannelAuthAsync(
            new BackchannelAuthenticationRequest { BindingMessage = "nobody", LoginHintSub = "auth0|nobody" }));
        Assert.Equal("unknown_user_id", unknown.OAuth2Error!.Error);
    }

    [Fact]
    public async Task Connection_tokens_are_exchanged_once_cached_and_the_cache_is_dropped_on_failure()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        await idp.ResetStatsAsync();

        var first = await (await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2")).Content.ReadAsStringAsync();
        Assert.StartsWith("conn_google-oauth2_", first);
        Assert.Contains("calendar.readonly", first);
        Assert.Equal(first, await (await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2")).Content.ReadAsStringAsync());
        Assert.Equal(1, (await idp.StatsAsync()).GetProperty("connectionTokenRequests").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/token/orders")).StatusCode); // the refresh token was not spent

        var unknown = await browser.GetAsync(app.BaseUrl + "/connection/myspace");
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal("failed_to_exchange_refresh_token|invalid_request", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Polling_too_fast_gets_slow_down_and_the_interval_grows_by_five_seconds()
    {
        await using var app = await TestApp.StartAsync(idp);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        var message = "slow-" + Guid.NewGuid().ToString("N")[..8];
        var started = System.Diagnostics.Stopwatch.StartNew();
        var pending = ciba.GetTokenByBackchannelAuthAsync(new BackchannelAuthenticationRequest { BindingMessage = message, LoginHintSub = "auth0|alice" });
        var authReqId = await WaitForPendingAsync(message);

        // A second poller on the same request (another instance of the app), half-way through the client's 1 s wait,
        // makes the client's first poll too early.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        using var http = new HttpClient();
        var poke = await http.PostAsync(idp.Issuer + "oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "urn:openid:params:grant-type:ciba",
            ["auth_req_id"] = authReqId,
            ["client_id"] = Sample.LocalIdentityProvider.ClientId,
            ["client_secret"] = Sample.LocalIdentityProvider.ClientSecret,
        }));
        // On a loaded machine the client's own first poll may come before this one; then this poll is the early one
        // and the client's next poll, under a second after it, is. Either way the client is answered slow_down.
        Assert.Matches("authorization_pending|slow_down", await poke.Content.ReadAsStringAsync());
        await Task.Delay(TimeSpan.FromSeconds(1)); // the client's first poll (after 1 s) has been answered slow_down
        await idp.DecideCibaAsync(authReqId, approve: true);

        var result = await pending;
        Assert.False(string.IsNullOrEmpty(result.TokenSet.AccessToken));
        // 1 s, then slow_down raises the 1 s interval to 6 s before the poll that succeeds.
        Assert.True(started.Elapsed >= TimeSpan.FromSeconds(6.5), started.Elapsed.ToString());
    }

    [Fact]
    public async Task Connection_tokens_are_cached_per_login_hint_and_can_use_the_access_token()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        await idp.ResetStatsAsync();
        async Task<string> Get(string query) => await (await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2" + query)).Content.ReadAsStringAsync();
        int Requests(System.Text.Json.JsonElement stats) => stats.GetProperty("connectionTokenRequests").GetInt32();

        var plain = await Get("");
        var work = await Get("?hint=alice%40work.example");
        var home = await Get("?hint=alice%40home.example");
        Assert.Equal(3, new[] { plain, work, home }.Distinct().Count());
        Assert.Equal(3, Requests(await idp.StatsAsync()));
        Assert.Equal(work, await Get("?hint=alice%40work.example"));
        Assert.Equal(plain, await Get(""));
        Assert.Equal(home, await Get("?hint=alice%40home.example"));
        Assert.Equal(3, Requests(await idp.StatsAsync()));

        // The access token as subject: a new exchange for another connection.
        Assert.StartsWith("conn_github_", await (await browser.GetAsync(app.BaseUrl + "/connection/github?subject=access_token")).Content.ReadAsStringAsync());
        Assert.Equal(4, Requests(await idp.StatsAsync()));
    }

    [Fact]
    public async Task Connection_tokens_and_the_cache_work_with_DPoP_on()
    {
        await idp.SetFaultsAsync(new { dpopNonce = true, dpopBound = true });
        try
        {
            await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true");
            using var browser = new TestBrowser();
            await browser.LoginAsync(app);
            await idp.ResetStatsAsync();
            var first = await (await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2")).Content.ReadAsStringAsync();
            Assert.StartsWith("conn_google-oauth2_", first);
            Assert.Equal(first, await (await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2")).Content.ReadAsStringAsync());
            var stats = await idp.StatsAsync();
            Assert.Equal(1, stats.GetProperty("connectionTokenRequests").GetInt32());
            Assert.True(stats.GetProperty("dpopProofs").GetProperty("token").GetInt32() >= 1);
        }
        finally
        {
            await idp.SetFaultsAsync(new { dpopNonce = false, dpopBound = false });
        }
    }

    [Fact]
    public async Task A_provider_without_a_backchannel_endpoint_gives_the_not_supported_code()
    {
        string issuer = "";
        await using var provider = await MiniServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response,
                $$"""{"issuer":"{{issuer}}","authorization_endpoint":"{{issuer}}authorize","token_endpoint":"{{issuer}}oauth/token","jwks_uri":"{{issuer}}.well-known/jwks.json"}""");
        });
        issuer = provider.BaseUrl + "/";
        await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_DOMAIN"] = issuer);
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();

        var ex = await Assert.ThrowsAsync<BackchannelAuthenticationException>(() => ciba.GetTokenByBackchannelAuthAsync(
            new BackchannelAuthenticationRequest { BindingMessage = "unsupported", LoginHintSub = "auth0|alice" }));
        Assert.Equal("backchannel_authentication_not_supported_error", ex.Code);
    }

    [Fact]
    public async Task Connection_tokens_need_a_session_and_a_refresh_token()
    {
        await using var app = await TestApp.StartAsync(idp);
        var tokens = app.Services.GetRequiredService<Auth0TokenService>();
        var anonymous = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = app.Services };
        var noSession = await Assert.ThrowsAsync<AccessTokenException>(() => tokens.GetAccessTokenForConnectionAsync(anonymous, "google-oauth2"));
        Assert.Equal("missing_session", noSession.Code);

        using var browser = new TestBrowser();
        await browser.LoginAsync(app, loginQuery: "scope=openid%20profile");
        var noRefreshToken = await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2");
        Assert.Equal(HttpStatusCode.Unauthorized, noRefreshToken.StatusCode);
        Assert.Equal("missing_refresh_token|", await noRefreshToken.Content.ReadAsStringAsync());

        using var withRefresh = new TestBrowser();
        await withRefresh.LoginAsync(app);
        await idp.SetFaultsAsync(new { connectionTokenError = "invalid_grant" });
        var refused = await withRefresh.GetAsync(app.BaseUrl + "/connection/google-oauth2");
        Assert.Equal("failed_to_exchange_refresh_token|invalid_grant", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Backchannel_authentication_works_with_DPoP_on_and_returns_unbound_tokens()
    {
        await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true");
        var ciba = app.Services.GetRequiredService<Auth0BackchannelAuthentication>();
        var message = "dpop-" + Guid.NewGuid().ToString("N")[..8];
        var pending = ciba.GetTokenByBackchannelAuthAsync(new BackchannelAuthenticationRequest { BindingMessage = message, LoginHintSub = "auth0|alice" });
        await idp.DecideCibaAsync(await WaitForPendingAsync(message), approve: true);
        var result = await pending;
        Assert.False(string.IsNullOrEmpty(result.TokenSet.AccessToken));
        Assert.Equal("auth0|alice", result.IdTokenClaims["sub"].GetString());
    }
}
