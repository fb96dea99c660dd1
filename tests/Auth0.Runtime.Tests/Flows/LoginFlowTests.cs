using System.Net;
using System.Text.Json;
using System.Web;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class LoginFlowTests(IdpFixture idp)
{
    [Fact]
    public async Task Login_profile_api_access_token_logout_end_to_end()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var callback = await browser.LoginAsync(app, loginQuery: "returnTo=/api/me");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        Assert.Equal(app.BaseUrl + "/api/me", callback.Headers.Location!.ToString());
        Assert.Contains("no-store", callback.Headers.CacheControl!.ToString());
        Assert.Equal("no-cache", callback.Headers.Pragma.ToString());
        Assert.NotNull(browser.Cookie(app.BaseUrl, "__session"));
        Assert.DoesNotContain(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));

        var profile = await browser.GetAsync(app.BaseUrl + "/auth/profile");
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal("application/json", profile.Content.Headers.ContentType!.MediaType);
        Assert.Contains("no-store", profile.Headers.CacheControl!.ToString());
        using (var user = JsonDocument.Parse(await profile.Content.ReadAsStringAsync()))
        {
            Assert.Equal("auth0|alice", user.RootElement.GetProperty("sub").GetString());
            Assert.Equal("Alice Example", user.RootElement.GetProperty("name").GetString());
            Assert.Equal("alice@example.com", user.RootElement.GetProperty("email").GetString());
            Assert.Equal("org_123", user.RootElement.GetProperty("org_id").GetString());
            Assert.False(user.RootElement.TryGetProperty("nonce", out _)); // only the default and declared claims are kept
            Assert.Equal(JsonValueKind.Array, user.RootElement.GetProperty("https://example.com/roles").ValueKind);
        }

        Assert.Equal("admin,reader", await (await browser.GetAsync(app.BaseUrl + "/roles")).Content.ReadAsStringAsync());
        var me = await browser.GetAsync(app.BaseUrl + "/api/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        Assert.Contains("auth0|alice", await me.Content.ReadAsStringAsync());

        var token = await browser.GetAsync(app.BaseUrl + "/auth/access-token");
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        using (var json = JsonDocument.Parse(await token.Content.ReadAsStringAsync()))
        {
            Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("token").GetString()));
            var expiresAt = json.RootElement.GetProperty("expires_at").GetInt64();
            var expiresIn = json.RootElement.GetProperty("expires_in").GetInt64();
            Assert.InRange(expiresIn, 1, 86400);
            Assert.InRange(expiresAt - DateTimeOffset.UtcNow.ToUnixTimeSeconds() - expiresIn, -5, 5);
            Assert.Contains("openid", json.RootElement.GetProperty("scope").GetString());
            Assert.False(json.RootElement.TryGetProperty("token_type", out _)); // login-time tokens carry none, as nextjs-auth0
        }

        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, logout.StatusCode);
        var location = logout.Headers.Location!;
        Assert.StartsWith(idp.Issuer + "oidc/logout?", location.ToString());
        var query = HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("auth0-minimal-sample", query["client_id"]);
        Assert.Equal(app.BaseUrl, query["post_logout_redirect_uri"]);
        Assert.False(string.IsNullOrEmpty(query["logout_hint"]));
        Assert.False(string.IsNullOrEmpty(query["id_token_hint"]));
        Assert.Null(browser.Cookie(app.BaseUrl, "__session"));

        var landed = await browser.FollowAsync(await browser.CompleteIdpLogoutAsync(await browser.FollowAsync(logout)));
        Assert.Equal(app.BaseUrl + "/", landed.RequestMessage!.RequestUri!.ToString().TrimEnd('/') + "/");

        var after = await browser.GetAsync(app.BaseUrl + "/auth/profile");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Equal("", await after.Content.ReadAsStringAsync());
        var api = await browser.GetAsync(app.BaseUrl + "/api/me");
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal("""{"error":"not_authenticated","description":"The user does not have an active session or is not authenticated"}""", await api.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_authorize_request_carries_pkce_state_nonce_and_forwards_only_safe_parameters()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var response = await browser.GetAsync(app.BaseUrl + "/auth/login?returnTo=/x&foo=bar&client_id=evil&redirect_uri=https://evil.example/&state=mine&screen_hint=signup&scope=openid%20profile");

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(idp.Issuer + "authorize?", location.ToString());
        var query = HttpUtility.ParseQueryString(location.Query);
        Assert.Equal("auth0-minimal-sample", query["client_id"]);
        Assert.Equal(app.BaseUrl + "/auth/callback", query["redirect_uri"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"]!.Length);
        Assert.Equal(43, query["state"]!.Length);
        Assert.NotEqual("mine", query["state"]);
        Assert.Equal(43, query["nonce"]!.Length);
        Assert.Equal("bar", query["foo"]);
        Assert.Equal("signup", query["screen_hint"]);
        Assert.Equal("openid profile", query["scope"]);
        Assert.Null(query["returnTo"]);
        Assert.Single(query.GetValues("client_id")!);

        var txn = browser.AppCookies(app.BaseUrl).Single(c => c.Name == "__txn_" + query["state"]);
        Assert.True(txn.HttpOnly);
        Assert.Matches(@"^\d+:eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0\.\.", Uri.UnescapeDataString(txn.Value));
    }

    [Fact]
    public async Task Owned_parameters_cannot_be_smuggled_in_another_case_or_through_response_mode()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var response = await browser.GetAsync(app.BaseUrl + "/auth/login?CLIENT_ID=evil&Redirect_Uri=https://evil.example/cb&RESPONSE_TYPE=token&STATE=S&response_mode=fragment&request_uri=urn:x&request=eyJ&RETURNTO=/x");
        var query = HttpUtility.ParseQueryString(response.Headers.Location!.Query);
        foreach (var key in query.AllKeys)
            Assert.DoesNotContain(key!.ToLowerInvariant(), (string[])["response_mode", "request_uri", "request", "returnto"]);
        Assert.Single(query.GetValues("client_id")!);
        Assert.Equal(8, query.Count); // scope + the seven owned parameters, nothing smuggled
        Assert.Contains("no-store", (await browser.GetAsync(app.BaseUrl + "/auth/access-token")).Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task A_login_started_from_code_forwards_its_parameters_and_returns_where_it_asked()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var start = await browser.GetAsync(app.BaseUrl + "/go-login");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, start.StatusCode);
        var query = HttpUtility.ParseQueryString(start.Headers.Location!.Query);
        Assert.Equal("signup", query["screen_hint"]);
        Assert.Equal("auth0-minimal-sample", query["client_id"]);
        Assert.Equal(app.BaseUrl + "/auth/callback", query["redirect_uri"]);
        var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(start, app, "alice", "alice-password")).ToString());
        Assert.Equal(app.BaseUrl + "/after?x=1", callback.Headers.Location!.ToString());
    }

    [Fact]
    public async Task Overlong_returnTo_and_scope_are_clamped_in_the_transaction_but_the_login_still_works()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var longPath = "/" + new string('p', 1100);
        var start = await browser.GetAsync(app.BaseUrl + "/auth/login?returnTo=" + Uri.EscapeDataString(longPath));
        var txn = browser.AppCookies(app.BaseUrl).Single(c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));
        Assert.True(txn.Value.Length < 1500, "the transaction cookie kept the overlong returnTo: " + txn.Value.Length);
        var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(start, app, "alice", "alice-password")).ToString());
        Assert.Equal(app.BaseUrl + "/", callback.Headers.Location!.ToString());

        // Every field at its limit still makes a cookie a browser keeps (4096 bytes with its name).
        using var raw = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        var huge = await raw.GetAsync(app.BaseUrl + "/auth/login?returnTo=" + Uri.EscapeDataString("/" + new string('a', 1020))
            + "&scope=openid%20" + new string('s', 1010) + "&audience=" + new string('u', 500));
        var setCookie = Assert.Single(huge.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__txn_", StringComparison.Ordinal));
        Assert.True(setCookie.Split(';')[0].Length < 4000, "transaction cookie of " + setCookie.Length + " bytes");
    }

    [Fact]
    public async Task Code_can_run_before_and_instead_of_the_auth_routes()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.GetAsync(app.BaseUrl + "/auth/login?blocked=1")).StatusCode);
        var login = await browser.GetAsync(app.BaseUrl + "/auth/login");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, login.StatusCode);
        Assert.Equal("/auth/login", login.Headers.GetValues("X-Before-Auth0").Single());
        Assert.Equal("/auth/profile", (await browser.GetAsync(app.BaseUrl + "/auth/profile")).Headers.GetValues("X-Before-Auth0").Single());
        Assert.False((await browser.GetAsync(app.BaseUrl + "/plain")).Headers.Contains("X-Before-Auth0"));
        Assert.Equal("307", login.Headers.GetValues("X-After-Auth0").Single());
    }

    [Fact]
    public async Task Code_before_logout_can_add_cookies_to_the_logout_response_or_answer_instead()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        var early = await browser.GetAsync(app.BaseUrl + "/auth/logout?custom-page");
        Assert.Equal("/custom-logout-page", early.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode); // still signed in

        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, logout.StatusCode);
        var setCookies = logout.Headers.GetValues("Set-Cookie").ToArray();
        Assert.Contains(setCookies, c => c.StartsWith("myCustomCookie=cookieValue", StringComparison.Ordinal));
        Assert.Contains(setCookies, c => c.StartsWith("__session=;", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/auth/profile")).StatusCode);
    }

    [Fact]
    public async Task Logout_revokes_the_refresh_token_at_the_provider()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var store = TestSessions.Store(TestApp.Secret);
        var refreshToken = store.Decode(store.ReadRaw(new TestCookies(cookies)))!.TokenSet.RefreshToken!;

        Assert.Equal(HttpStatusCode.TemporaryRedirect, (await browser.GetAsync(app.BaseUrl + "/auth/logout")).StatusCode);

        using var http = new HttpClient();
        var refresh = await http.PostAsync(idp.Issuer + "oauth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken,
            ["client_id"] = Auth0.Minimal.Sample.LocalIdentityProvider.ClientId, ["client_secret"] = Auth0.Minimal.Sample.LocalIdentityProvider.ClientSecret,
        }));
        Assert.Equal(HttpStatusCode.BadRequest, refresh.StatusCode);
        Assert.Contains("invalid_grant", await refresh.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Prefetch_and_bad_parameters_create_no_transaction()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var prefetch = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/login");
        prefetch.Headers.Add("Sec-Purpose", "prefetch");
        var response = await browser.SendAsync(prefetch);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));

        var maxAge = await browser.GetAsync(app.BaseUrl + "/auth/login?max_age=-1");
        Assert.Equal(HttpStatusCode.BadRequest, maxAge.StatusCode);
        Assert.Contains("max_age", await maxAge.Content.ReadAsStringAsync());
        var mode = await browser.GetAsync(app.BaseUrl + "/auth/login?challengeMode=%3Cscript%3E");
        Assert.Equal(HttpStatusCode.BadRequest, mode.StatusCode);
        Assert.Equal("text/plain", mode.Content.Headers.ContentType!.MediaType);
        Assert.Empty(browser.AppCookies(app.BaseUrl));
    }

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("https:evil.example")]
    [InlineData("/%09/evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("https://evil.example/phish")]
    [InlineData("/\t/evil.example")]
    public async Task Hostile_returnTo_values_never_leave_the_app(string returnTo)
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var callback = await browser.LoginAsync(app, loginQuery: "returnTo=" + Uri.EscapeDataString(returnTo));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        var target = new Uri(new Uri(app.BaseUrl), callback.Headers.Location!);
        Assert.Equal(new Uri(app.BaseUrl).Authority, target.Authority);
        Assert.StartsWith(app.BaseUrl + "/", target.AbsoluteUri);
        Assert.DoesNotContain("//evil", target.AbsolutePath);
    }

    [Fact]
    public async Task A_page_without_a_session_redirects_to_login_with_the_whole_url_as_one_returnTo()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();

        var page = await browser.GetAsync(app.BaseUrl + "/page?tab=2&audience=https://evil.example&prompt=none");
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        var login = page.Headers.Location!;
        Assert.Equal("/auth/login", login.AbsolutePath);
        var query = HttpUtility.ParseQueryString(login.Query);
        Assert.Equal("/page?tab=2&audience=https://evil.example&prompt=none", query["returnTo"]);
        Assert.Null(query["audience"]);

        var authorize = await browser.GetAsync(login.ToString());
        Assert.DoesNotContain("evil.example", authorize.Headers.Location!.Query);
        Assert.DoesNotContain("prompt=none", authorize.Headers.Location!.Query);
        var callback = await browser.GetAsync((await browser.CompleteIdpLoginAsync(authorize, app, "alice", "alice-password")).ToString());
        Assert.Equal(app.BaseUrl + "/page?tab=2&audience=https://evil.example&prompt=none", callback.Headers.Location!.ToString());
        var landed = await browser.FollowAsync(callback);
        Assert.Equal("page for Alice Example", await landed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Wrong_password_shows_the_form_again_and_no_session_is_made()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var start = await browser.GetAsync(app.BaseUrl + "/auth/login");
        var form = await browser.FollowAsync(start);
        var html = await form.Content.ReadAsStringAsync();
        var action = System.Text.RegularExpressions.Regex.Match(html, "action=\"([^\"]+)\"").Groups[1].Value;
        using var http = new HttpClient(new SocketsHttpHandler { CookieContainer = browser.Cookies, AllowAutoRedirect = false });
        var post = await http.PostAsync(new Uri(form.RequestMessage!.RequestUri!, action),
            new FormUrlEncodedContent(new Dictionary<string, string> { ["login"] = "alice", ["password"] = "wrong" }));
        Assert.False(TestBrowser.IsRedirect(post.StatusCode));
        Assert.Null(browser.Cookie(app.BaseUrl, "__session"));
    }
}
