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
}
