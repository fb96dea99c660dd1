using System.Net;
using System.Web;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class LogoutStrategyTests(IdpFixture idp)
{
    [Fact]
    public async Task The_v2_strategy_ends_at_the_provider_and_comes_back_to_the_app()
    {
        await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_LOGOUT_STRATEGY"] = "v2");
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout?federated");
        var location = logout.Headers.Location!;
        Assert.Equal(idp.Issuer + "v2/logout", location.GetLeftPart(UriPartial.Path));
        var query = HttpUtility.ParseQueryString(location.Query);
        Assert.Equal(app.BaseUrl, query["returnTo"]);
        Assert.Equal("auth0-minimal-sample", query["client_id"]);
        Assert.Contains("federated=", location.Query);

        var landed = await browser.FollowAsync(logout);
        Assert.StartsWith(app.BaseUrl, landed.RequestMessage!.RequestUri!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
    }

    [Fact]
    public async Task Without_the_id_token_hint_only_logout_hint_and_client_id_identify_the_session()
    {
        await using var app = await TestApp.StartAsync(idp, options: o => o.IncludeIdTokenHintInOidcLogoutUrl = false);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout?state=abc&federated=false");
        var query = HttpUtility.ParseQueryString(logout.Headers.Location!.Query);
        Assert.Null(query["id_token_hint"]);
        Assert.False(string.IsNullOrEmpty(query["logout_hint"]));
        Assert.Equal("auth0-minimal-sample", query["client_id"]);
        Assert.Equal("abc", query["state"]);
        Assert.DoesNotContain("federated", logout.Headers.Location!.Query);
        var landed = await browser.FollowAsync(await browser.CompleteIdpLogoutAsync(await browser.FollowAsync(logout)));
        Assert.StartsWith(app.BaseUrl, landed.RequestMessage!.RequestUri!.ToString());
        Assert.Contains("state=abc", landed.RequestMessage!.RequestUri!.Query);
    }

    [Fact]
    public async Task Oidc_logout_against_a_provider_without_an_end_session_endpoint_is_a_clear_error_and_auto_falls_back_to_v2()
    {
        string issuer = "";
        await using var provider = await MiniServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync($$"""{"issuer":"{{issuer}}","authorization_endpoint":"{{issuer}}authorize","token_endpoint":"{{issuer}}oauth/token","jwks_uri":"{{issuer}}.well-known/jwks.json"}""");
        });
        issuer = provider.BaseUrl + "/";

        await using var oidc = await TestApp.StartAsync(idp, v => { v["AUTH0_DOMAIN"] = issuer; v["AUTH0_LOGOUT_STRATEGY"] = "oidc"; });
        using var raw = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false });
        var failed = await raw.GetAsync(oidc.BaseUrl + "/auth/logout");
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("RP-Initiated Logout is not supported", await failed.Content.ReadAsStringAsync());
        Assert.Contains(failed.Headers.GetValues("Set-Cookie"), h => h.StartsWith("__session=;", StringComparison.Ordinal));

        await using var auto = await TestApp.StartAsync(idp, v => v["AUTH0_DOMAIN"] = issuer);
        var fallback = await raw.GetAsync(auto.BaseUrl + "/auth/logout");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, fallback.StatusCode);
        Assert.StartsWith(provider.BaseUrl + "/v2/logout?", fallback.Headers.Location!.ToString());
    }

    [Fact]
    public async Task With_DPoP_bound_tokens_logout_ends_at_the_provider_and_revokes_the_refresh_token()
    {
        await idp.SetFaultsAsync(new { dpopNonce = true, dpopBound = true });
        try
        {
            var (privateKey, publicKey) = DPoPKeyPair.GeneratePem();
            void Dpop(Dictionary<string, string?> v)
            {
                v["AUTH0_USE_DPOP"] = "true";
                v["AUTH0_DPOP_PRIVATE_KEY"] = privateKey;
                v["AUTH0_DPOP_PUBLIC_KEY"] = publicKey;
            }
            using var browser = new TestBrowser();
            System.Net.Cookie[] loggedIn;
            int port;
            {
                await using var app = await TestApp.StartAsync(idp, Dpop);
                port = app.Port;
                await browser.LoginAsync(app, loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
                Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/token/orders?force=true")).StatusCode);
                loggedIn = browser.AppCookies(app.BaseUrl).ToArray();

                var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout");
                Assert.Equal(idp.Issuer + "oidc/logout", logout.Headers.Location!.GetLeftPart(UriPartial.Path));
                Assert.False(string.IsNullOrEmpty(HttpUtility.ParseQueryString(logout.Headers.Location!.Query)["id_token_hint"]));
                Assert.Empty(browser.AppCookies(app.BaseUrl));
                var landed = await browser.FollowAsync(await browser.CompleteIdpLogoutAsync(await browser.FollowAsync(logout)));
                Assert.StartsWith(app.BaseUrl, landed.RequestMessage!.RequestUri!.ToString());
            }

            // The same key in a new process, with the cookie from before the logout: the provider refuses its refresh token.
            await using var restarted = await TestApp.StartAsync(idp, Dpop, port: port);
            foreach (var cookie in loggedIn) browser.Cookies.Add(new System.Net.Cookie(cookie.Name, cookie.Value, "/", "127.0.0.1"));
            var refresh = await browser.GetAsync(restarted.BaseUrl + "/token/orders?force=true");
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
            Assert.Equal("failed_to_refresh_token|invalid_grant", await refresh.Content.ReadAsStringAsync());
        }
        finally
        {
            await idp.SetFaultsAsync(new { dpopNonce = false, dpopBound = false });
        }
    }
}
