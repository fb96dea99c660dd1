using Auth0.Minimal.Benchmarks.Support;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// A burst of concurrent requests that all carry the same session cookie with an expired access token.
/// One op is one burst of <see cref="Callers"/> callers; results are per burst.
/// </summary>
/// <remarks>
/// Every burst needs a refresh token the coordinator has never seen, or its 60 s "recent" cache answers without a
/// refresh. So each iteration is one invocation of <see cref="BurstsPerInvocation"/> bursts, each with its own
/// never-used refresh token prepared in the iteration setup. The endpoint holds its answers until all callers of a
/// burst have started, so every burst is fully concurrent; staggered arrivals are what <c>refresh-race</c> checks.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(1)]
public class SingleFlightRefreshBenchmarks
{
    public const int Callers = 64;
    public const int BurstsPerInvocation = 64;

    private BenchHost _host = null!;
    private HttpContext[][] _bursts = null!;
    private readonly int[] _callsPerBurst = new int[BurstsPerInvocation];
    private int _expectedCallsPerBurst;
    private long _burstsChecked;

    /// <summary>Token endpoint latency in milliseconds once the burst is released (0: asynchronous but immediate).</summary>
    [Params(0, 1)]
    public int IdpDelayMs { get; set; }

    [IterationSetup]
    public void PrepareBursts()
    {
        // A fresh runtime per iteration: the coordinator keeps 60 s of history and scans it all on every refresh
        // past 1024 entries, which would make later iterations slower than earlier ones.
        _host?.Dispose();
        _host = BenchHost.Create(TimeSpan.FromMilliseconds(IdpDelayMs));
        _bursts = new HttpContext[BurstsPerInvocation][];
        for (var b = 0; b < BurstsPerInvocation; b++)
        {
            var cookie = _host.CookieHeader(_host.NewSession("rt-" + Guid.NewGuid().ToString("N"), accessTokenExpired: true));
            var burst = new HttpContext[Callers];
            for (var i = 0; i < Callers; i++)
            {
                burst[i] = _host.NewContext(cookie);
                // Decrypt ahead so both sides measure the refresh path only (the decrypt is in CachedAccessTokenBenchmarks).
                _ = Auth0RequestState.For(burst[i]).Session ?? throw new InvalidOperationException("The session cookie did not read back.");
            }
            _bursts[b] = burst;
        }
        _expectedCallsPerBurst = 0;
    }

    [IterationCleanup]
    public void VerifyRefreshCounts()
    {
        // Overhead and pilot iterations run the setup without a benchmark; nothing to check then.
        if (_expectedCallsPerBurst == 0) return;
        for (var b = 0; b < BurstsPerInvocation; b++)
            if (_callsPerBurst[b] != _expectedCallsPerBurst)
                throw new InvalidOperationException(
                    $"Burst {b}: the token endpoint saw {_callsPerBurst[b]} refresh calls, expected {_expectedCallsPerBurst}.");
        if (_host.Idp.DiscoveryCalls != 1)
            throw new InvalidOperationException($"{_host.Idp.DiscoveryCalls} discovery fetches; only the warm-up should fetch.");
        _burstsChecked += BurstsPerInvocation;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// verified {_burstsChecked} bursts of {Callers} callers: {_expectedCallsPerBurst} refresh call(s) each");
        _host?.Dispose();
    }

    /// <summary>What a library without single-flight does: every caller POSTs its own refresh_token grant.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = BurstsPerInvocation)]
    public async Task NaivePerCallerRefresh()
    {
        _expectedCallsPerBurst = Callers;
        var tasks = new Task[Callers];
        for (var b = 0; b < BurstsPerInvocation; b++)
        {
            var before = _host.Idp.RefreshCalls;
            var burst = _bursts[b];
            _host.Idp.HoldBurst();
            for (var i = 0; i < Callers; i++) tasks[i] = NaiveRefreshAsync(burst[i]);
            _host.Idp.ReleaseBurst();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            _callsPerBurst[b] = _host.Idp.RefreshCalls - before;
        }
    }

    [Benchmark(OperationsPerInvoke = BurstsPerInvocation)]
    public async Task SingleFlightGetAccessToken()
    {
        _expectedCallsPerBurst = 1;
        var tasks = new Task[Callers];
        for (var b = 0; b < BurstsPerInvocation; b++)
        {
            var before = _host.Idp.RefreshCalls;
            var burst = _bursts[b];
            _host.Idp.HoldBurst();
            for (var i = 0; i < Callers; i++) tasks[i] = _host.Tokens.GetAccessTokenAsync(burst[i]);
            _host.Idp.ReleaseBurst();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            _callsPerBurst[b] = _host.Idp.RefreshCalls - before;
        }
    }

    // Same form as the runtime's own refresh (TokenEndpointClient adds the client credentials).
    private Task<TokenEndpointResponse> NaiveRefreshAsync(HttpContext context)
    {
        var session = Auth0RequestState.For(context).Session!;
        var form = new List<KeyValuePair<string, string>>
        {
            new("refresh_token", session.TokenSet.RefreshToken!),
            new("grant_type", "refresh_token"),
        };
        return _host.TokenEndpoint.PostAsync(form, CancellationToken.None);
    }
}
