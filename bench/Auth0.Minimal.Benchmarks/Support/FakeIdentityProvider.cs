using System.Net;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Auth0.Minimal.Benchmarks.Support;

/// <summary>
/// An in-process identity provider behind the "Auth0.Minimal" named client: the discovery document and
/// refresh_token grants, each grant answered with a new access token and a rotated refresh token.
/// </summary>
internal sealed class FakeIdentityProvider
{
    public const string Issuer = "https://tenant.example.com/";
    public const string TokenEndpoint = Issuer + "oauth/token";

    private static readonly string DiscoveryJson = $$"""
        {"issuer":"{{Issuer}}","authorization_endpoint":"{{Issuer}}authorize","token_endpoint":"{{TokenEndpoint}}",
         "userinfo_endpoint":"{{Issuer}}userinfo","jwks_uri":"{{Issuer}}.well-known/jwks.json",
         "end_session_endpoint":"{{Issuer}}oidc/logout","id_token_signing_alg_values_supported":["RS256"]}
        """;

    private int _refreshCalls;
    private int _discoveryCalls;
    private long _serial;
    private TaskCompletionSource? _burstGate;

    /// <summary>Simulated provider latency; zero still completes asynchronously, as a real socket would.</summary>
    public TimeSpan Delay { get; set; }

    public int RefreshCalls => Volatile.Read(ref _refreshCalls);
    public int DiscoveryCalls => Volatile.Read(ref _discoveryCalls);

    /// <summary>When set, every refresh_token the endpoint receives is recorded here (off while measuring).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string>? ReceivedRefreshTokens { get; set; }

    /// <summary>Holds refresh answers until <see cref="ReleaseBurst"/>, so a burst's callers all start before any finishes.</summary>
    public void HoldBurst() =>
        Volatile.Write(ref _burstGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void ReleaseBurst() => Interlocked.Exchange(ref _burstGate, null)?.SetResult();

    // The factory disposes primary handlers when their lifetime ends, so hand out a fresh one over shared state.
    public HttpMessageHandler CreateHandler() => new Handler(this);

    private async Task<HttpResponseMessage> HandleAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var path = request.RequestUri!.AbsolutePath;
        if (request.Method == HttpMethod.Get && path == "/.well-known/openid-configuration")
        {
            Interlocked.Increment(ref _discoveryCalls);
            return Json(HttpStatusCode.OK, DiscoveryJson);
        }
        if (request.Method != HttpMethod.Post || path != "/oauth/token" || request.Content is null)
            return new HttpResponseMessage(HttpStatusCode.NotFound);

        var form = QueryHelpers.ParseQuery(await request.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
        if (form["grant_type"] != "refresh_token" || string.IsNullOrEmpty(form["refresh_token"]))
            return Json(HttpStatusCode.BadRequest, """{"error":"unsupported_grant_type"}""");

        Interlocked.Increment(ref _refreshCalls);
        ReceivedRefreshTokens?.Enqueue(form["refresh_token"].ToString());
        if (Volatile.Read(ref _burstGate) is { } gate) await gate.Task.ConfigureAwait(false);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, ct).ConfigureAwait(false);
        else await Task.Yield();

        var n = Interlocked.Increment(ref _serial);
        return Json(HttpStatusCode.OK, $$"""
            {"access_token":"at-refreshed-{{n}}","token_type":"Bearer","expires_in":3600,
             "refresh_token":"rt-rotated-{{n}}","scope":"openid profile email offline_access"}
            """);
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private sealed class Handler(FakeIdentityProvider idp) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            idp.HandleAsync(request, cancellationToken);
    }
}
