using System.Net;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>The Auth0 scheme under ASP.NET Core's own authorization: RequireAuthorization, [Authorize], policies.</summary>
[Collection(IdpCollection.Name)]
public class AuthorizationTests(IdpFixture idp)
{
    private static HttpRequestMessage Navigation(string url)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Sec-Fetch-Mode", "navigate");
        request.Headers.Add("Accept", "text/html,application/xhtml+xml");
        return request;
    }

    [Fact]
    public async Task Plain_authorization_lets_the_session_user_in_redirects_pages_and_answers_401_to_APIs()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var anonymous = new TestBrowser();
        foreach (var path in (string[])["/authorized", "/attribute"])
        {
            var api = await anonymous.GetAsync(app.BaseUrl + path + "?x=1");
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
            Assert.Contains("not_authenticated", await api.Content.ReadAsStringAsync());
            var page = await anonymous.SendAsync(Navigation(app.BaseUrl + path + "?x=1"));
            Assert.Equal(HttpStatusCode.Found, page.StatusCode);
            Assert.Equal(app.BaseUrl + "/auth/login?returnTo=" + Uri.EscapeDataString(path + "?x=1"), page.Headers.Location!.ToString());
        }
        // An endpoint marked as an API answers 401 even to a navigation.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(Navigation(app.BaseUrl + "/api/me"))).StatusCode);

        using var browser = new TestBrowser();
        await browser.LoginAsync(app);
        Assert.Equal("hello Alice Example", await (await browser.GetAsync(app.BaseUrl + "/authorized")).Content.ReadAsStringAsync());
        Assert.Equal("attribute Alice Example", await (await browser.GetAsync(app.BaseUrl + "/attribute")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_fallback_policy_that_requires_a_user_leaves_the_Auth0_routes_reachable()
    {
        await using var app = await TestApp.StartAsync(idp, services: s => s.AddAuthorization(o =>
            o.FallbackPolicy = new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build()));
        using var browser = new TestBrowser();
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(app.BaseUrl + "/plain")).StatusCode);
        var callback = await browser.LoginAsync(app);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        Assert.Equal("plain", await (await browser.GetAsync(app.BaseUrl + "/plain")).Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, (await new HttpClient().PostAsync(app.BaseUrl + "/auth/backchannel-logout",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["logout_token"] = "x" }))).StatusCode);
    }

    [Fact]
    public async Task A_long_URL_behind_login_is_not_copied_into_an_endless_returnTo()
    {
        await using var app = await TestApp.StartAsync(idp);
        using var anonymous = new TestBrowser();
        var page = await anonymous.SendAsync(Navigation(app.BaseUrl + "/authorized?q=" + new string('x', 2000)));
        Assert.Equal(HttpStatusCode.Found, page.StatusCode);
        Assert.Equal(app.BaseUrl + "/auth/login?returnTo=%2Fauthorized", page.Headers.Location!.ToString());
        Assert.Contains("no-store", page.Headers.CacheControl!.ToString());
    }

    [Fact]
    public async Task Role_policies_read_the_configured_roles_claim()
    {
        await using var app = await TestApp.StartAsync(idp, options: o => o.RoleClaimType = "https://example.com/roles");
        using var alice = new TestBrowser();
        await alice.LoginAsync(app);
        Assert.Equal("admin True", await (await alice.GetAsync(app.BaseUrl + "/admin")).Content.ReadAsStringAsync());

        using var bob = new TestBrowser();
        await bob.LoginAsync(app, "bob", "bob-password");
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync(app.BaseUrl + "/admin")).StatusCode);
    }

    [Fact]
    public async Task A_request_reads_its_session_from_the_store_once_however_often_it_is_used()
    {
        CountingSessionStore? counting = null;
        await using var app = await TestApp.StartAsync(idp, services: s =>
        {
            s.AddDistributedMemoryCache();
            s.AddSingleton<ISessionStore>(sp => counting = new CountingSessionStore(new DistributedCacheSessionStore(
                sp.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>(), sp.GetRequiredService<Configuration.Auth0Settings>())));
        });
        using var browser = new TestBrowser();
        await browser.LoginAsync(app);

        var reads = counting!.Reads;
        var body = await (await browser.GetAsync(app.BaseUrl + "/session-twice")).Content.ReadAsStringAsync();
        Assert.Equal("auth0|alice|True|True|True", body);
        Assert.Equal(reads + 1, counting.Reads); // authentication, two session reads and a token lookup: one store read
    }

    /// <summary>The real distributed-cache store, counting its reads.</summary>
    private sealed class CountingSessionStore(ISessionStore inner) : ISessionStore
    {
        private int _reads;
        public int Reads => Volatile.Read(ref _reads);

        public Task<Auth0Session?> GetAsync(string id, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _reads);
            return inner.GetAsync(id, cancellationToken);
        }

        public Task SetAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken) => inner.SetAsync(id, session, expiresAt, cancellationToken);
        public Task<bool> UpdateAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken) => inner.UpdateAsync(id, session, expiresAt, cancellationToken);
        public Task DeleteAsync(string id, CancellationToken cancellationToken) => inner.DeleteAsync(id, cancellationToken);
        public Task DeleteByLogoutTokenAsync(LogoutTokenClaims claims, CancellationToken cancellationToken) => inner.DeleteByLogoutTokenAsync(claims, cancellationToken);
    }
}
