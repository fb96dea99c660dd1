using System.Net;
using System.Text.Json;
using System.Web;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class DPoPFlowTests(IdpFixture idp)
{
    private static JsonElement Payload(string jwt)
    {
        var part = jwt.Split('.')[1];
        var bytes = new byte[part.Length * 3 / 4 + 3];
        Assert.True(Base64Url.TryDecode(part, bytes, out var n));
        return JsonDocument.Parse(bytes.AsMemory(0, n)).RootElement.Clone();
    }

    private async Task<int> Stat(params string[] path)
    {
        var element = await idp.StatsAsync();
        foreach (var p in path) element = element.GetProperty(p);
        return element.GetInt32();
    }

    [Fact]
    public async Task Login_refresh_and_a_DPoP_protected_API_work_with_nonces_required_and_bound_tokens()
    {
        await idp.SetFaultsAsync(new { dpopNonce = true, dpopBound = true, accessTokenTtl = 2 });
        try
        {
            await idp.ResetStatsAsync();
            await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true");
            var thumbprint = app.Services.GetRequiredService<Configuration.Auth0Settings>().DPoP!.Key.Thumbprint;
            using var browser = new TestBrowser();

            var start = await browser.GetAsync(app.BaseUrl + "/auth/login?audience=" + Uri.EscapeDataString("https://orders.example.com"));
            Assert.Equal(thumbprint, HttpUtility.ParseQueryString(start.Headers.Location!.Query)["dpop_jkt"]);
            var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(start, app, "alice", "alice-password")).ToString());
            Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
            Assert.True(await Stat("useDpopNonceResponses") >= 1); // the code exchange was retried with the nonce

            var login = JsonDocument.Parse(await (await browser.GetAsync(app.BaseUrl + "/auth/access-token")).Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("dpop", login.GetProperty("token_type").GetString());
            Assert.Equal(thumbprint, Payload(login.GetProperty("token").GetString()!).GetProperty("cnf").GetProperty("jkt").GetString());

            await Task.Delay(TimeSpan.FromSeconds(2.5));
            var refreshed = JsonDocument.Parse(await (await browser.GetAsync(app.BaseUrl + "/auth/access-token")).Content.ReadAsStringAsync()).RootElement;
            Assert.NotEqual(login.GetProperty("token").GetString(), refreshed.GetProperty("token").GetString());
            Assert.Equal("dpop", refreshed.GetProperty("token_type").GetString());
            Assert.Equal(thumbprint, Payload(refreshed.GetProperty("token").GetString()!).GetProperty("cnf").GetProperty("jkt").GetString());

            var api = await browser.GetAsync(app.BaseUrl + "/orders/dpop");
            var body = await api.Content.ReadAsStringAsync();
            Assert.True(api.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(thumbprint, JsonDocument.Parse(body).RootElement.GetProperty("jkt").GetString());
        }
        finally
        {
            await idp.SetFaultsAsync(new { dpopNonce = false, dpopBound = false, accessTokenTtl = (int?)null, alwaysUseDpopNonce = false });
        }
    }

    [Fact]
    public async Task A_server_that_always_wants_a_new_nonce_gets_exactly_two_requests()
    {
        await idp.SetFaultsAsync(new { accessTokenTtl = 2 });
        await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true");
        using var browser = new TestBrowser();
        await browser.LoginAsync(app, loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
        await idp.SetFaultsAsync(new { accessTokenTtl = (int?)null });
        try
        {
            // The API keeps answering use_dpop_nonce: one retry, then the answer is passed on.
            await idp.SetFaultsAsync(new { alwaysUseDpopNonce = true });
            await idp.ResetStatsAsync();
            var api = await browser.GetAsync(app.BaseUrl + "/orders/dpop");
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
            Assert.Equal(2, await Stat("dpopApiRequests", "orders"));

            // The token endpoint keeps answering use_dpop_nonce: one retry, then failed_to_refresh_token.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await idp.ResetStatsAsync();
            var token = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
            Assert.Equal(HttpStatusCode.Unauthorized, token.StatusCode);
            Assert.Contains("failed_to_refresh_token", await token.Content.ReadAsStringAsync());
            Assert.Equal(2, await Stat("tokenRequests", "refresh_token"));
        }
        finally
        {
            await idp.SetFaultsAsync(new { alwaysUseDpopNonce = false });
        }
    }
}
