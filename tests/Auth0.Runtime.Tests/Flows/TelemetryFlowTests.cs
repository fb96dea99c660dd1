using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public partial class TelemetryFlowTests(IdpFixture idp)
{
    private static readonly HashSet<string> KnownTagKeys = ["outcome", "error", "source", "endpoint", "api", "format"];

    private sealed record Measurement(string Instrument, long Value, Dictionary<string, object?> Tags)
    {
        public string? Tag(string key) => Tags.TryGetValue(key, out var value) ? value as string : null;
    }

    /// <summary>Records the measurements of one app's Auth0.Minimal meter; the apps of tests running alongside have their own.</summary>
    private sealed class MeterRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<Measurement> _measurements = new();

        public MeterRecorder(TestApp app)
        {
            var factory = app.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Auth0.Minimal" && ReferenceEquals(instrument.Meter.Scope, factory))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<Measurement> Of(string instrument) => _measurements.Where(m => m.Instrument == instrument).ToList();

        public IReadOnlyList<Measurement> All => _measurements.ToList();

        public long Sum(string instrument, string? key = null, string? value = null) =>
            Of(instrument).Where(m => key is null || m.Tag(key) == value).Sum(m => m.Value);

        private void Add(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (key, tag) in tags) copy[key] = tag;
            _measurements.Enqueue(new Measurement(instrument.Name, value, copy));
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>Records the Auth0.Minimal activities that went to this test's identity provider.</summary>
    private sealed class ActivityRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly ConcurrentQueue<Activity> _activities = new();

        public ActivityRecorder(int idpPort)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Auth0.Minimal",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.GetTagItem("server.port") is int port && port == idpPort) _activities.Enqueue(activity);
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> All => _activities.ToList();

        public void Dispose() => _listener.Dispose();
    }

    private static void AssertTagsAreSafe(MeterRecorder recorder)
    {
        foreach (var m in recorder.All)
            foreach (var (key, value) in m.Tags)
            {
                Assert.Contains(key, KnownTagKeys);
                var text = Assert.IsType<string>(value);
                Assert.Matches(SafeTagValue(), text);
            }
    }

    [GeneratedRegex("^[A-Za-z_ ]{1,64}$")]
    private static partial Regex SafeTagValue();

    [Fact]
    public async Task Metrics_count_logins_refreshes_joined_refreshes_failures_logouts_and_session_cookie_sizes()
    {
        await idp.SetFaultsAsync(new { accessTokenTtl = 2 });
        await using var app = await TestApp.StartAsync(idp);
        using var recorder = new MeterRecorder(app);
        using var browser = new TestBrowser();
        try
        {
            var forged = await browser.GetAsync(app.BaseUrl + "/auth/callback?state=forged&code=forged");
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
            Assert.Equal(HttpStatusCode.TemporaryRedirect, (await browser.LoginAsync(app)).StatusCode);
        }
        finally
        {
            await idp.SetFaultsAsync(new { accessTokenTtl = (int?)null });
        }
        Assert.Equal(new[] { "invalid_state", "success" }, recorder.Of("auth0.logins").Select(m => m.Tag("outcome")!));

        // A forced refresh is one grant at the provider.
        var forced = await browser.GetAsync(app.BaseUrl + "/token/orders?force=true");
        Assert.True(forced.StatusCode == HttpStatusCode.OK, await forced.Content.ReadAsStringAsync());
        Assert.Equal(1, recorder.Sum("auth0.token.refreshes", "outcome", "success"));
        Assert.Empty(recorder.Of("auth0.token.refresh.joins"));

        // 32 requests with the expired login token: one grant, 31 callers that used its result.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var cookieHeader = string.Join("; ", browser.AppCookies(app.BaseUrl).Select(c => $"{c.Name}={c.Value}"));
        await idp.SetFaultsAsync(new { refreshDelayMs = 300 });
        try
        {
            using var http = new HttpClient();
            async Task<HttpStatusCode> Call()
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, app.BaseUrl + "/auth/access-token");
                request.Headers.Add("Cookie", cookieHeader);
                using var response = await http.SendAsync(request);
                return response.StatusCode;
            }
            Assert.All(await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Call())), status => Assert.Equal(HttpStatusCode.OK, status));
        }
        finally
        {
            await idp.SetFaultsAsync(new { refreshDelayMs = (int?)null });
        }
        Assert.Equal(2, recorder.Sum("auth0.token.refreshes", "outcome", "success"));
        Assert.Equal(31, recorder.Sum("auth0.token.refresh.joins"));
        Assert.All(recorder.Of("auth0.token.refresh.joins"), m => Assert.Contains(m.Tag("source"), (string[])["in_flight", "recent"]));

        // A refused grant is counted by its OAuth error, once at the provider and once for the caller that failed.
        await idp.RevokeRefreshTokensAsync("auth0|alice");
        var failed = await browser.GetAsync(app.BaseUrl + "/token/orders?force=true");
        Assert.Equal("failed_to_refresh_token|invalid_grant", await failed.Content.ReadAsStringAsync());
        Assert.Equal(1, recorder.Sum("auth0.token.refreshes", "outcome", "invalid_grant"));
        Assert.Equal(3, recorder.Sum("auth0.token.refreshes"));
        var failure = Assert.Single(recorder.Of("auth0.token.refresh.failures"));
        Assert.Equal("invalid_grant", failure.Tag("error"));

        var logout = await browser.GetAsync(app.BaseUrl + "/auth/logout");
        Assert.True(TestBrowser.IsRedirect(logout.StatusCode));
        Assert.Equal("success", Assert.Single(recorder.Of("auth0.logouts")).Tag("outcome"));
        Assert.Empty(recorder.Of("auth0.dpop.nonce_retries"));

        // A user with a large ID token gets a chunked session cookie.
        using var big = new TestBrowser();
        Assert.Equal(HttpStatusCode.TemporaryRedirect, (await big.LoginAsync(app, "big", "big-password")).StatusCode);
        var sizes = recorder.Of("auth0.session.cookie.size");
        var chunks = recorder.Of("auth0.session.cookie.chunks");
        // The login, the forced refresh, the 32 refreshed requests and the big login at least. Concurrent writes interleave,
        // so sizes and chunk counts are compared as sets: each size needs that many 3500-byte chunks.
        Assert.True(sizes.Count >= 35, $"{sizes.Count} cookie writes");
        Assert.Equal(sizes.Select(m => (m.Value + 3499) / 3500).Order(), chunks.Select(m => m.Value).Order());
        Assert.All(sizes.Concat(chunks), m => Assert.Equal("jwe", m.Tag("format")));
        Assert.Contains(chunks, m => m.Value >= 3);
        Assert.Contains(sizes, m => m.Value > 7000);
        AssertTagsAreSafe(recorder);
    }

    [Fact]
    public async Task Metrics_count_DPoP_nonce_retries_at_the_token_endpoint_and_at_an_API()
    {
        await idp.SetFaultsAsync(new { dpopNonce = true, dpopBound = true });
        try
        {
            await using var app = await TestApp.StartAsync(idp, v => v["AUTH0_USE_DPOP"] = "true");
            using var recorder = new MeterRecorder(app);
            using var browser = new TestBrowser();
            var callback = await browser.LoginAsync(app, loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
            Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
            var token = Assert.Single(recorder.Of("auth0.dpop.nonce_retries"));
            Assert.Equal("token", token.Tag("endpoint"));
            Assert.Null(token.Tag("api"));

            // The DPoP API wants its own nonce, so the first call is retried once.
            var api = await browser.GetAsync(app.BaseUrl + "/orders/dpop");
            Assert.True(api.StatusCode == HttpStatusCode.OK, await api.Content.ReadAsStringAsync());
            var retries = recorder.Of("auth0.dpop.nonce_retries");
            Assert.Equal(2, retries.Count);
            Assert.Equal("api", retries[1].Tag("endpoint"));
            Assert.Equal("Orders", retries[1].Tag("api"));
            Assert.Equal("success", Assert.Single(recorder.Of("auth0.logins")).Tag("outcome"));
            AssertTagsAreSafe(recorder);
        }
        finally
        {
            await idp.SetFaultsAsync(new { dpopNonce = false, dpopBound = false });
        }
    }

    [Fact]
    public async Task Activities_trace_each_identity_provider_call_without_a_query_token_code_or_secret()
    {
        var idpUri = new Uri(idp.Issuer);
        using var recorder = new ActivityRecorder(idpUri.Port);
        await using var app = await TestApp.StartAsync(idp);
        using var browser = new TestBrowser();
        var callback = await browser.LoginAsync(app);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, callback.StatusCode);
        var callbackQuery = System.Web.HttpUtility.ParseQueryString(callback.RequestMessage!.RequestUri!.Query);
        var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
        var store = TestSessions.Store(TestApp.Secret);
        var session = store.Decode(store.ReadRaw(new TestCookies(cookies)))!;

        var login = recorder.All;
        Assert.Equal(new[] { "auth0 discovery", "auth0 token", "auth0 jwks" }, login.Select(a => a.DisplayName));
        foreach (var (activity, method, path) in login.Zip(
            (string[])["GET", "POST", "GET"], (string[])["/.well-known/openid-configuration", "/oauth/token", "/.well-known/jwks.json"]))
        {
            Assert.Equal(ActivityKind.Client, activity.Kind);
            Assert.Equal("Auth0.Minimal", activity.Source.Name);
            Assert.Equal(method, activity.GetTagItem("http.request.method"));
            Assert.Equal(idpUri.Host, activity.GetTagItem("server.address"));
            Assert.Equal(path, activity.GetTagItem("url.path"));
            Assert.Equal(200, activity.GetTagItem("http.response.status_code"));
            Assert.Equal(ActivityStatusCode.Unset, activity.Status);
        }

        // A refused refresh is an error span with the provider's status; logout revokes the refresh token.
        await idp.RevokeRefreshTokensAsync("auth0|alice");
        var failed = await browser.GetAsync(app.BaseUrl + "/token/orders?force=true");
        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        await browser.GetAsync(app.BaseUrl + "/auth/logout");
        var later = recorder.All.Skip(login.Count).ToList();
        Assert.Equal(new[] { "auth0 token", "auth0 revoke" }, later.Select(a => a.DisplayName));
        Assert.Equal(400, later[0].GetTagItem("http.response.status_code"));
        Assert.Equal("400", later[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, later[0].Status);
        Assert.Equal("/oauth/revoke", later[1].GetTagItem("url.path"));

        string[] secrets =
        [
            callbackQuery["code"]!, callbackQuery["state"]!, Sample.LocalIdentityProvider.ClientSecret, TestApp.Secret,
            session.TokenSet.AccessToken!, session.TokenSet.RefreshToken!, session.TokenSet.IdToken!, session.User.Sub!,
            .. cookies.Values,
        ];
        foreach (var activity in recorder.All)
        {
            foreach (var (key, value) in activity.TagObjects)
            {
                var text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                Assert.DoesNotContain("?", text);
                foreach (var secret in secrets) Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{activity.DisplayName} {key} holds a secret");
            }
            Assert.Empty(activity.Baggage);
        }
    }
}
