using System.Net;
using System.Web;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class CallbackErrorTests(IdpFixture idp)
{
    private static async Task<(string Body, HttpResponseMessage Response)> Read(HttpResponseMessage response) =>
        (await response.Content.ReadAsStringAsync(), response);

    [Fact]
    public async Task Missing_state_is_400_missing_state()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var (body, response) = await Read(await browser.GetAsync(app.BaseUrl + "/auth/callback?code=abc"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("error: missing_state", body);
    }

    [Fact]
    public async Task Unknown_or_forged_state_is_400_invalid_state()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var (body, response) = await Read(await browser.GetAsync(app.BaseUrl + "/auth/callback?code=abc&state=forged"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error: invalid_state", body);

        // A transaction cookie encrypted under another key is as good as none.
        browser.Cookies.Add(new Uri(app.BaseUrl), new Cookie("__txn_s1", "123%3AeyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"));
        (body, response) = await Read(await browser.GetAsync(app.BaseUrl + "/auth/callback?code=abc&state=s1"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error: invalid_state", body);
    }

    [Fact]
    public async Task An_error_from_the_provider_is_400_authorization_error_and_spends_the_transaction()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var start = await browser.GetAsync(app.BaseUrl + "/auth/login");
        var state = HttpUtility.ParseQueryString(start.Headers.Location!.Query)["state"]!;

        var (body, response) = await Read(await browser.GetAsync(
            $"{app.BaseUrl}/auth/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state={state}&iss={Uri.EscapeDataString(idp.Issuer)}"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains("error: authorization_error", body);
        Assert.Contains("access_denied", body);
        Assert.Null(browser.Cookie(app.BaseUrl, "__txn_" + state));
        Assert.Null(browser.Cookie(app.BaseUrl, "__session"));
    }

    [Fact]
    public async Task A_wrong_iss_in_the_authorization_response_is_rejected()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var start = await browser.GetAsync(app.BaseUrl + "/auth/login");
        var callback = await browser.CompleteIdpLoginAsync(start, app, "alice", "alice-password");
        var query = HttpUtility.ParseQueryString(callback.Query);
        Assert.Equal(idp.Issuer, query["iss"]);

        // RFC 9207 wants a plain string comparison: an equivalent spelling of the issuer is still wrong.
        foreach (var wrong in (string[])["http://evil.example/", idp.Issuer.TrimEnd('/'), idp.Issuer.ToUpperInvariant(), idp.Issuer + "./"])
        {
            var forged = $"{app.BaseUrl}/auth/callback?code={query["code"]}&state={query["state"]}&iss={Uri.EscapeDataString(wrong)}";
            var (body, response) = await Read(await browser.GetAsync(forged));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("error: authorization_error", body);
            Assert.Null(browser.Cookie(app.BaseUrl, "__session"));
            var retry = await browser.GetAsync(app.BaseUrl + "/auth/login");
            callback = await browser.CompleteIdpLoginAsync(retry, app, "alice", "alice-password");
            query = HttpUtility.ParseQueryString(callback.Query);
        }
    }

    [Fact]
    public async Task A_replayed_code_is_400_authorization_code_grant_error()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var first = new TestBrowser();
        var start = await first.GetAsync(app.BaseUrl + "/auth/login");
        var callback = await first.CompleteIdpLoginAsync(start, app, "alice", "alice-password");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, (await first.GetAsync(callback.ToString())).StatusCode);

        // Same code again with a fresh, valid transaction: the provider refuses the spent code.
        using var second = new TestBrowser();
        var again = await second.GetAsync(app.BaseUrl + "/auth/login");
        var state = HttpUtility.ParseQueryString(again.Headers.Location!.Query)["state"]!;
        var code = HttpUtility.ParseQueryString(callback.Query)["code"];
        var (body, response) = await Read(await second.GetAsync($"{app.BaseUrl}/auth/callback?code={code}&state={state}&iss={Uri.EscapeDataString(idp.Issuer)}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error: authorization_code_grant_error", body);
    }

    [Fact]
    public async Task An_id_token_with_a_bad_signature_is_rejected()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await idp.SetFaultsAsync(new { wrongJwks = true });
        try
        {
            var callback = await browser.LoginAsync(app);
            var body = await callback.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, callback.StatusCode);
            Assert.Contains("error: authorization_code_grant_error", body);
            Assert.Contains("signature", body);
            Assert.Null(browser.Cookie(app.BaseUrl, "__session"));
        }
        finally
        {
            await idp.SetFaultsAsync(new { wrongJwks = false });
        }
    }

    [Fact]
    public async Task An_unreachable_provider_is_a_502_not_a_500()
    {
        await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_DOMAIN"] = "http://127.0.0.1:9/");
        using var browser = new TestBrowser();
        var login = await browser.GetAsync(app.BaseUrl + "/auth/login");
        Assert.Equal(HttpStatusCode.BadGateway, login.StatusCode);
        Assert.Contains("discovery_error", await login.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_hook_that_throws_gives_a_plain_500_and_the_transaction_is_still_spent()
    {
        await using var app = await TestApp.StartAsync(idp, options: o => o.OnCallback = _ => throw new InvalidOperationException("hook bug"));
        using var browser = new TestBrowser();
        var start = await browser.GetAsync(app.BaseUrl + "/auth/login");
        var callbackUrl = await browser.CompleteIdpLoginAsync(start, app, "alice", "alice-password");
        var (body, response) = await Read(await browser.GetAsync(callbackUrl.ToString()));
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("The request could not be completed.\nerror: internal_error\n", body);
        Assert.DoesNotContain("hook bug", body);
        Assert.DoesNotContain(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));
    }
}
