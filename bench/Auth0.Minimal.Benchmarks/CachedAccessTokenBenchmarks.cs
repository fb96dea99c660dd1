using Auth0.Minimal.Benchmarks.Support;
using Auth0.Minimal.Sessions;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// GetAccessTokenAsync when the stored token is still valid: no network, so this is the per-call cost an API
/// handler pays on every request.
/// </summary>
[MemoryDiagnoser]
public class CachedAccessTokenBenchmarks
{
    private BenchHost _host = null!;
    private string _cookieHeader = null!;
    private HttpContext _context = null!;
    private Auth0Session _session = null!;

    [GlobalSetup]
    public void Setup()
    {
        _host = BenchHost.Create();
        _cookieHeader = _host.CookieHeader(_host.NewSession("rt-cached-" + Guid.NewGuid().ToString("N"), accessTokenExpired: false));
        _context = _host.NewContext(_cookieHeader);
        // The per-request state decrypts once; later calls in the same request reuse this session.
        _session = Auth0RequestState.For(_context).Session ?? throw new InvalidOperationException("The session cookie did not read back.");
        Console.WriteLine($"// session cookie header: {_cookieHeader.Length} chars");

        // A running app's coordinator remembers recent rotations, and then every session load looks its refresh token
        // up there: one refresh of another session puts the coordinator in that state.
        var other = _host.NewSession("rt-other-" + Guid.NewGuid().ToString("N"), accessTokenExpired: true);
        _host.Tokens.GetAccessTokenAsync(_host.NewContext(_host.CookieHeader(other))).GetAwaiter().GetResult();
        Check(_host.Idp.RefreshCalls == 1, "the warm-up refresh did not reach the endpoint");

        Check(LoginAudience().GetAwaiter().GetResult().Token == _session.TokenSet.AccessToken, "login-audience token is not the stored one");
        Check(ApiAudience().GetAwaiter().GetResult().Token == _session.AccessTokens![0].AccessToken, "API token is not the stored one");
        Check(FirstCallInRequest().GetAwaiter().GetResult().Token == _session.TokenSet.AccessToken, "first-call token is not the stored one");
        Check(_host.Idp.RefreshCalls == 1, "a cached token went to the network");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Check(_host.Idp.RefreshCalls == 1, $"{_host.Idp.RefreshCalls - 1} refresh calls on the cached path");
        _host.Dispose();
    }

    /// <summary>The floor: the token and its expiry straight off an already-read session.</summary>
    [Benchmark(Baseline = true)]
    public string? DirectTokenSetRead()
    {
        var tokenSet = _session.TokenSet;
        var now = _host.Time.GetUtcNow().ToUnixTimeSeconds();
        return tokenSet.ExpiresAt > now ? tokenSet.AccessToken : null;
    }

    [Benchmark]
    public Task<AccessTokenResult> LoginAudience() => _host.Tokens.GetAccessTokenAsync(_context);

    // Options allocated per call, as Auth0ApiTokenClient (behind the generated I{Name}ApiTokenClient) does.
    [Benchmark]
    public Task<AccessTokenResult> ApiAudience() =>
        _host.Tokens.GetAccessTokenAsync(_context, new AccessTokenOptions { Audience = BenchHost.OrdersAudience, Scope = BenchHost.OrdersScope });

    /// <summary>What a new request costs before any token work: a fresh context carrying the cookie header.</summary>
    [Benchmark]
    public HttpContext NewRequestContextOnly() => _host.NewContext(_cookieHeader);

    /// <summary>The first call of a request: the cookie is parsed, decrypted and deserialized, then the token returned.</summary>
    [Benchmark]
    public Task<AccessTokenResult> FirstCallInRequest() => _host.Tokens.GetAccessTokenAsync(_host.NewContext(_cookieHeader));

    private static void Check(bool condition, string message)
    {
        if (!condition) throw new InvalidOperationException(message);
    }
}
