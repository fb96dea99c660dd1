using Auth0.Minimal.Benchmarks.Support;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Sessions;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// Where the first call of a request spends its time: the whole session read (baseline) against its parts.
/// Whatever the parts do not add up to is the lookup and chunk reassembly inside <c>SessionCookieStore.Read</c>.
/// </summary>
[MemoryDiagnoser]
public class SessionCookieReadBenchmarks
{
    private BenchHost _host = null!;
    private Auth0Settings _settings = null!;
    private string _cookieHeader = null!;
    private string _rawValue = null!;
    private byte[] _plaintext = null!;

    /// <summary>False: login tokens only, one cookie. True: the usual session with an API token, two chunks.</summary>
    [Params(false, true)]
    public bool Chunked { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _host = BenchHost.Create();
        _settings = _host.Services.GetRequiredService<Auth0Settings>();
        var session = _host.NewSession("rt-read-" + Guid.NewGuid().ToString("N"), accessTokenExpired: false);
        if (!Chunked)
        {
            session.TokenSet.IdToken = null;
            session.AccessTokens = null;
        }
        _cookieHeader = _host.CookieHeader(session);
        _rawValue = _host.Store.ReadRaw(_host.NewContext(_cookieHeader).Request.Cookies)
            ?? throw new InvalidOperationException("No session cookie in the header.");
        _plaintext = _settings.Crypto.Decrypt(_rawValue, _host.Time.GetUtcNow().ToUnixTimeSeconds())
            ?? throw new InvalidOperationException("The session cookie did not decrypt.");
        var cookies = _cookieHeader.Split(';').Length;
        if ((cookies > 1) != Chunked) throw new InvalidOperationException($"Expected chunked={Chunked}, got {cookies} cookies.");
        Console.WriteLine($"// cookie header {_cookieHeader.Length} chars in {cookies} cookie(s), plaintext {_plaintext.Length} bytes");
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    /// <summary>What the per-request state does on its first read, on a new request.</summary>
    [Benchmark(Baseline = true)]
    public Auth0Session? ReadSession() => _host.Store.Read(_host.NewContext(_cookieHeader).Request, out _);

    /// <summary>A new request and ASP.NET Core's parse of its Cookie header.</summary>
    [Benchmark]
    public int ParseCookieCollection() => _host.NewContext(_cookieHeader).Request.Cookies.Count;

    [Benchmark]
    public byte[]? Decrypt() => _settings.Crypto.Decrypt(_rawValue, _host.Time.GetUtcNow().ToUnixTimeSeconds());

    [Benchmark]
    public Auth0Session? Deserialize() => SessionCookieStore.Deserialize(_plaintext);
}
