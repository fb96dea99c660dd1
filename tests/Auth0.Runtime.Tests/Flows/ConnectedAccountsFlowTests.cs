using System.Net;
using System.Text.Json;
using System.Web;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>Connected accounts through the provider's My Account API: connect, complete, list, disconnect.</summary>
[Collection(IdpCollection.Name)]
public class ConnectedAccountsFlowTests(IdpFixture idp)
{
    private async Task<JsonElement> Stats() => await idp.StatsAsync();

    private static async Task<string> Body(HttpResponseMessage response) => await response.Content.ReadAsStringAsync();

    /// <summary>From the app's 307 to the provider's consent page, to the callback URL it sends the browser back to.</summary>
    private static async Task<Uri> ConsentAsync(TestBrowser browser, HttpResponseMessage connectRedirect)
    {
        Assert.Equal(HttpStatusCode.TemporaryRedirect, connectRedirect.StatusCode);
        var consent = await browser.GetAsync(connectRedirect.Headers.Location!.ToString());
        Assert.True(TestBrowser.IsRedirect(consent.StatusCode), $"consent answered {(int)consent.StatusCode}: {await Body(consent)}");
        return new Uri(consent.RequestMessage!.RequestUri!, consent.Headers.Location!);
    }

    [Fact]
    public async Task A_connect_flow_round_trips_through_the_My_Account_API_and_the_callback_hook_sees_the_account()
    {
        await idp.ClearConnectedAccountsAsync();
        Auth0CallbackContext? seen = null;
        await using var app = await TestApp.StartAsync(idp, options: o => o.OnCallback = ctx =>
        {
            seen = ctx;
            return ValueTask.FromResult<Microsoft.AspNetCore.Http.IResult?>(null);
        });
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        seen = null;
        await idp.ResetStatsAsync();

        var start = await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=google-oauth2&returnTo=%2Fafter%3Fx%3D1&scopes=calendar%20drive&scopes=drive"
            + "&prompt=consent&access_type=offline&redirect_uri=https%3A%2F%2Fevil.example%2F&state=forged&client_id=other&code_challenge=x");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, start.StatusCode);
        var location = start.Headers.Location!;
        Assert.Equal(idp.Issuer + "connect/authorize", location.GetLeftPart(UriPartial.Path));
        Assert.False(string.IsNullOrEmpty(HttpUtility.ParseQueryString(location.Query)["ticket"]));
        Assert.Single(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));
        Assert.Contains("no-store", start.Headers.CacheControl?.ToString() ?? "");

        var connect = (await Stats()).GetProperty("lastConnectRequest");
        Assert.Equal("google-oauth2", connect.GetProperty("connection").GetString());
        Assert.Equal(app.BaseUrl + "/auth/callback", connect.GetProperty("redirect_uri").GetString());
        Assert.Equal("S256", connect.GetProperty("code_challenge_method").GetString());
        Assert.Equal(43, connect.GetProperty("code_challenge").GetString()!.Length);
        Assert.Equal(["calendar", "drive"], connect.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("consent", connect.GetProperty("authorization_params").GetProperty("prompt").GetString());
        Assert.Equal("offline", connect.GetProperty("authorization_params").GetProperty("access_type").GetString());
        Assert.Equal(["access_type", "prompt"], connect.GetProperty("authorization_params").EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("Bearer", (await Stats()).GetProperty("lastMyAccountAuthScheme").GetString());

        var callbackUrl = await ConsentAsync(browser, start);
        Assert.StartsWith(app.BaseUrl + "/auth/callback?", callbackUrl.ToString());
        Assert.False(string.IsNullOrEmpty(HttpUtility.ParseQueryString(callbackUrl.Query)["connect_code"]));
        var done = await browser.GetAsync(callbackUrl.ToString());

        Assert.Equal(HttpStatusCode.TemporaryRedirect, done.StatusCode);
        Assert.Equal(app.BaseUrl + "/after?x=1", done.Headers.Location!.ToString());
        Assert.NotNull(seen);
        Assert.Null(seen!.Error);
        Assert.Equal("connect_code", seen.ResponseType);
        Assert.Equal("/after?x=1", seen.ReturnTo);
        Assert.Equal("auth0|alice", seen.Session!.User.Sub);
        var account = seen.ConnectedAccount!;
        Assert.StartsWith("cac_", account.Id);
        Assert.Equal("google-oauth2", account.Connection);
        Assert.Equal("offline", account.AccessType);
        Assert.Equal(["calendar", "drive"], account.Scopes);
        Assert.NotNull(account.CreatedAt);
        Assert.True(account.ExpiresAt > account.CreatedAt);
        Assert.DoesNotContain(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));
        var stats = await Stats();
        Assert.Equal(1, stats.GetProperty("myAccountRequests").GetProperty("connect").GetInt32());
        Assert.Equal(1, stats.GetProperty("myAccountRequests").GetProperty("complete").GetInt32());

        Assert.Equal("google-oauth2:" + account.Id, await Body(await browser.GetAsync(app.BaseUrl + "/accounts")));
        // The callback is single use.
        Assert.Equal(HttpStatusCode.BadRequest, (await browser.GetAsync(callbackUrl.ToString())).StatusCode);
    }

    [Fact]
    public async Task The_refresh_token_rotated_for_the_My_Account_token_is_saved_in_the_session()
    {
        await idp.ClearConnectedAccountsAsync();
        using var browser = new TestBrowser();
        int port;
        {
            await using var app = await TestApp.StartAsync(idp);
            port = app.Port;
            await browser.LoginAsync(app);
            var callbackUrl = await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"));
            Assert.Equal(HttpStatusCode.TemporaryRedirect, (await browser.GetAsync(callbackUrl.ToString())).StatusCode);
        }

        // A new process remembers no rotation: only the cookie can hold the successor of the spent refresh token.
        await using var restarted = await TestApp.StartAsync(idp, port: port);
        var refreshed = await browser.GetAsync(restarted.BaseUrl + "/token/orders?force=true");
        Assert.True(refreshed.StatusCode == HttpStatusCode.OK, await Body(refreshed));
        Assert.StartsWith("github:cac_", await Body(await browser.GetAsync(restarted.BaseUrl + "/accounts")));
    }

    [Fact]
    public async Task Connecting_from_code_sends_the_options_and_lands_on_its_returnTo()
    {
        await idp.ClearConnectedAccountsAsync();
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        var start = await browser.GetAsync(app.BaseUrl + "/link/github");
        var connect = (await Stats()).GetProperty("lastConnectRequest");
        Assert.Equal("github", connect.GetProperty("connection").GetString());
        Assert.Equal(["repo", "read:user"], connect.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("consent", connect.GetProperty("authorization_params").GetProperty("prompt").GetString());

        var done = await browser.GetAsync((await ConsentAsync(browser, start)).ToString());
        Assert.Equal(HttpStatusCode.TemporaryRedirect, done.StatusCode);
        Assert.Equal(app.BaseUrl + "/linked?from=code", done.Headers.Location!.ToString());
        Assert.StartsWith("github:cac_", await Body(await browser.GetAsync(app.BaseUrl + "/accounts?connection=github")));
    }

    [Fact]
    public async Task The_connect_route_rejects_bad_requests_with_their_codes()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var anonymous = new TestBrowser();

        var noConnection = await anonymous.GetAsync(app.BaseUrl + "/auth/connect");
        Assert.Equal(HttpStatusCode.BadRequest, noConnection.StatusCode);
        Assert.StartsWith("A connection is required.\nerror: missing_connection", await Body(noConnection));

        var noSession = await anonymous.GetAsync(app.BaseUrl + "/auth/connect?connection=github");
        Assert.Equal(HttpStatusCode.Unauthorized, noSession.StatusCode);
        Assert.StartsWith("The user does not have an active session.\nerror: missing_session", await Body(noSession));
        Assert.Empty(anonymous.AppCookies(app.BaseUrl));

        // A link clicked while signed out goes to login first and comes back to the same connect request.
        var page = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/connect?connection=github&scopes=repo");
        page.Headers.Add("Sec-Fetch-Mode", "navigate");
        var toLogin = await anonymous.SendAsync(page);
        Assert.Equal(HttpStatusCode.Found, toLogin.StatusCode);
        Assert.Equal(app.BaseUrl + "/auth/login?returnTo=" + Uri.EscapeDataString("/auth/connect?connection=github&scopes=repo"), toLogin.Headers.Location!.ToString());

        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.GetAsync(app.BaseUrl + "/auth/connect?connection=git%0D%0Ahub")).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.GetAsync(app.BaseUrl + "/auth/connect?connection=" + new string('c', 129))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.GetAsync(app.BaseUrl + "/auth/connect?connection=a&connection=b")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(app.BaseUrl + "/accounts")).StatusCode);

        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        // The provider refuses an unknown connection: its status and detail reach the caller.
        var unknown = await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=myspace");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var text = await Body(unknown);
        Assert.StartsWith("The request to initiate the connect account flow failed with status 400.\nerror: failed_to_initiate", text);
        Assert.Contains("detail: ", text);
        Assert.DoesNotContain(browser.AppCookies(app.BaseUrl), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));

        await idp.SetFaultsAsync(new { connectError = 503 });
        var down = await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github");
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.StartsWith("The request to initiate the connect account flow failed with status 503.\nerror: failed_to_initiate", await Body(down));

        // Called from code without a catch, on an endpoint with RequireAuth0Session: the error's own JSON answer.
        var uncaught = await browser.GetAsync(app.BaseUrl + "/link-unchecked/myspace");
        Assert.Equal(HttpStatusCode.BadRequest, uncaught.StatusCode);
        Assert.Equal("failed_to_initiate", JsonDocument.Parse(await Body(uncaught)).RootElement.GetProperty("error").GetProperty("code").GetString());
        var badName = await browser.GetAsync(app.BaseUrl + "/link-unchecked/" + Uri.EscapeDataString("git\u0001hub"));
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Contains("invalid_connection", await Body(badName));

        // A hostile returnTo is replaced by the default landing page.
        var hostile = await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github&returnTo=https%3A%2F%2Fevil.example%2F");
        var done = await browser.GetAsync((await ConsentAsync(browser, hostile)).ToString());
        Assert.Equal(app.BaseUrl + "/", done.Headers.Location!.ToString());

        // Without a usable refresh token there is no My Account token (a new session: the other one has one cached).
        using var revoked = new TestBrowser();
        await revoked.LoginAsync(app);
        await idp.RevokeRefreshTokensAsync("auth0|alice");
        var noToken = await revoked.GetAsync(app.BaseUrl + "/auth/connect?connection=github");
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.StartsWith("Failed to retrieve a connected account access token.\nerror: failed_to_get_token", await Body(noToken));
    }

    [Fact]
    public async Task The_callback_reports_a_denied_or_failed_connect_with_its_code()
    {
        var errors = new List<Auth0Exception>();
        await using var app = await TestApp.StartAsync(idp, options: o => o.OnCallback = ctx =>
        {
            if (ctx.Error is not null) errors.Add(ctx.Error);
            return ValueTask.FromResult<Microsoft.AspNetCore.Http.IResult?>(null);
        });
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        await idp.SetFaultsAsync(new { connectDeny = true });
        var denied = await browser.GetAsync((await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"))).ToString());
        Assert.Equal(HttpStatusCode.BadRequest, denied.StatusCode);
        var deniedText = await Body(denied);
        Assert.StartsWith("An error occurred during the authorization flow.\nerror: authorization_error", deniedText);
        Assert.Contains("access_denied", deniedText);

        await idp.SetFaultsAsync(new { completeError = 500 });
        var failed = await browser.GetAsync((await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"))).ToString());
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.StartsWith("The request to complete the connect account flow failed with status 500.\nerror: failed_to_complete", await Body(failed));
        var complete = Assert.IsType<ConnectAccountException>(errors[^1]);
        Assert.Equal(500, complete.ApiError!.Status);

        // A forged connect_code is refused by the API: PKCE and the code bind the completion to this transaction.
        var forgedUrl = await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"));
        var query = HttpUtility.ParseQueryString(forgedUrl.Query);
        var forged = await browser.GetAsync($"{app.BaseUrl}/auth/callback?connect_code=forged&state={Uri.EscapeDataString(query["state"]!)}");
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.StartsWith("The request to complete the connect account flow failed with status 400.\nerror: failed_to_complete", await Body(forged));

        Assert.Equal(["authorization_error", "failed_to_complete", "failed_to_complete"], errors.Select(e => e.Code));
    }

    [Fact]
    public async Task The_callback_needs_the_session_that_started_the_connect()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var callbackUrl = await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"));

        // The session is gone (logged out elsewhere); only the transaction cookie is left.
        foreach (var cookie in browser.AppCookies(app.BaseUrl).Where(c => c.Name.StartsWith("__session", StringComparison.Ordinal))) cookie.Expired = true;
        var orphan = await browser.GetAsync(callbackUrl.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, orphan.StatusCode);
        Assert.StartsWith("The user does not have an active session.\nerror: missing_session", await Body(orphan));
    }

    [Fact]
    public async Task A_connect_started_by_one_user_is_not_completed_in_another_users_session()
    {
        await idp.ClearConnectedAccountsAsync();
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        var callbackUrl = await ConsentAsync(browser, await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github"));

        await browser.LoginAsync(app, "bob", "bob-password", loginQuery: "prompt=login");
        Assert.Contains("auth0|bob", await Body(await browser.GetAsync(app.BaseUrl + "/api/me")));
        await idp.ResetStatsAsync();
        var mixed = await browser.GetAsync(callbackUrl.ToString());
        Assert.Equal(HttpStatusCode.Forbidden, mixed.StatusCode);
        Assert.StartsWith("The connect flow was started by another user of this browser.\nerror: failed_to_complete", await Body(mixed));
        Assert.Equal("", await Body(await browser.GetAsync(app.BaseUrl + "/accounts")));
        Assert.Equal(0, (await Stats()).GetProperty("myAccountRequests").GetProperty("complete").GetInt32()); // refused before bob's token was used
    }

    [Fact]
    public async Task Accounts_are_listed_across_pages_and_disconnected_with_their_connection_tokens()
    {
        await idp.ClearConnectedAccountsAsync();
        await idp.SeedConnectedAccountsAsync("auth0|alice",
            ("github", ["repo"]), ("google-oauth2", ["calendar"]), ("github", ["gist"]), ("github", ["repo"]), ("google-oauth2", ["drive"]));
        await idp.SeedConnectedAccountsAsync("auth0|bob", ("github", ["repo"]));
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        await idp.ResetStatsAsync();

        var all = (await Body(await browser.GetAsync(app.BaseUrl + "/accounts"))).Split(',');
        Assert.Equal(["github", "google-oauth2", "github", "github", "google-oauth2"], all.Select(a => a.Split(':')[0]));
        Assert.Equal(3, (await Stats()).GetProperty("myAccountRequests").GetProperty("list").GetInt32()); // pages of 2
        Assert.Equal(3, (await Body(await browser.GetAsync(app.BaseUrl + "/accounts?connection=github"))).Split(',').Length);

        // A connection token cached in the session goes with the disconnected connection.
        Assert.StartsWith("conn_github_", await Body(await browser.GetAsync(app.BaseUrl + "/connection/github")));
        var before = (await Stats()).GetProperty("connectionTokenRequests").GetInt32();
        Assert.Equal("removed:3", await Body(await browser.PostAsync(app.BaseUrl + "/accounts/disconnect/github")));
        Assert.Equal(3, (await Stats()).GetProperty("myAccountRequests").GetProperty("delete").GetInt32());
        Assert.Equal(["google-oauth2", "google-oauth2"], (await Body(await browser.GetAsync(app.BaseUrl + "/accounts"))).Split(',').Select(a => a.Split(':')[0]));
        await browser.GetAsync(app.BaseUrl + "/connection/github");
        Assert.Equal(before + 1, (await Stats()).GetProperty("connectionTokenRequests").GetInt32());

        // Bob's account was never touched.
        using var bob = new TestBrowser();
        await bob.LoginAsync(app, "bob", "bob-password");
        Assert.StartsWith("github:cac_", await Body(await bob.GetAsync(app.BaseUrl + "/accounts")));

        var one = (await Body(await browser.GetAsync(app.BaseUrl + "/accounts?connection=google-oauth2"))).Split(',')[0].Split(':')[1];
        Assert.Equal("removed", await Body(await browser.PostAsync(app.BaseUrl + "/accounts/disconnect-id/" + one)));
        Assert.Equal("absent", await Body(await browser.PostAsync(app.BaseUrl + "/accounts/disconnect-id/" + one)));
        Assert.Single((await Body(await browser.GetAsync(app.BaseUrl + "/accounts"))).Split(','));

        await idp.SetFaultsAsync(new { disconnectError = 500 });
        var refused = await browser.PostAsync(app.BaseUrl + "/accounts/disconnect/google-oauth2");
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("failed_to_disconnect|500", await Body(refused));

        await idp.SetFaultsAsync(new { connectedAccountsRepeatNext = true });
        try
        {
            var loop = await browser.GetAsync(app.BaseUrl + "/accounts");
            Assert.Equal(HttpStatusCode.BadGateway, loop.StatusCode);
            Assert.Equal("failed_to_list|", await Body(loop));
        }
        finally
        {
            await idp.SetFaultsAsync(new { connectedAccountsRepeatNext = false });
        }
    }

    [Fact]
    public async Task Connect_works_with_DPoP_bound_tokens_and_required_nonces()
    {
        await idp.ClearConnectedAccountsAsync();
        await idp.SetFaultsAsync(new { dpopNonce = true, dpopBound = true });
        try
        {
            Auth0CallbackContext? seen = null;
            await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true", options: o => o.OnCallback = ctx =>
            {
                seen = ctx;
                return ValueTask.FromResult<Microsoft.AspNetCore.Http.IResult?>(null);
            });
            using var browser = new TestBrowser();
            await browser.LoginAsync(app);

            var start = await browser.GetAsync(app.BaseUrl + "/auth/connect?connection=github");
            Assert.True(start.StatusCode == HttpStatusCode.TemporaryRedirect, await Body(start));
            Assert.Equal("DPoP", (await Stats()).GetProperty("lastMyAccountAuthScheme").GetString());
            var done = await browser.GetAsync((await ConsentAsync(browser, start)).ToString());
            Assert.Equal(HttpStatusCode.TemporaryRedirect, done.StatusCode);
            Assert.Equal("github", seen!.ConnectedAccount!.Connection);
            Assert.StartsWith("github:cac_", await Body(await browser.GetAsync(app.BaseUrl + "/accounts")));
            Assert.Equal("removed:1", await Body(await browser.PostAsync(app.BaseUrl + "/accounts/disconnect/github")));
        }
        finally
        {
            await idp.SetFaultsAsync(new { dpopNonce = false, dpopBound = false });
        }
    }
}
