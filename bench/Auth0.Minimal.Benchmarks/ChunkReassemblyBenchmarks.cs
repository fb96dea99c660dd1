using Auth0.Minimal.Bench;
using Auth0.Minimal.Benchmarks.Support;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// Reassembling a session cookie sent in two chunks: ours (<c>__session__0</c>, <c>__session__1</c>) against ASP.NET
/// Core's <c>ChunkingCookieManager</c> (<c>.AspNetCore.Cookies=chunks-2</c>, <c>C1</c>, <c>C2</c>), for the same value.
/// </summary>
[MemoryDiagnoser]
public class ChunkReassemblyBenchmarks
{
    private const string AspNetCookie = ".AspNetCore.Cookies";
    private BenchHost _host = null!;
    private HttpContext _ours = null!;
    private HttpContext _theirs = null!;
    private string _oursHeader = null!;
    private string _theirsHeader = null!;
    private readonly ChunkingCookieManager _manager = new();

    [GlobalSetup]
    public void Setup()
    {
        _host = BenchHost.Create();
        var session = BenchIdentity.Auth0Session(_host.Time.GetUtcNow().ToUnixTimeSeconds());
        _oursHeader = _host.CookieHeader(session);
        _ours = _host.NewContext(_oursHeader);
        var value = _host.Store.ReadRaw(_ours.Request.Cookies) ?? throw new InvalidOperationException("No session cookie.");

        // The same value through ASP.NET Core's own chunked writer, with a chunk size that also gives two chunks.
        var response = new DefaultHttpContext();
        new ChunkingCookieManager { ChunkSize = 3500 + AspNetCookie.Length + 3 }
            .AppendResponseCookie(response, AspNetCookie, value, new CookieOptions { Path = "/", HttpOnly = true });
        _theirsHeader = string.Join("; ", response.Response.Headers.SetCookie.Select(h => h!.Split(';', 2)[0]));
        _theirs = _host.NewContext(_theirsHeader);

        if (_oursHeader.Split(';').Length != 2 || _theirsHeader.Split(';').Length != 3)
            throw new InvalidOperationException($"Expected two chunks each: {_oursHeader.Split(';').Length} / {_theirsHeader.Split(';').Length - 1}.");
        if (_manager.GetRequestCookie(_theirs, AspNetCookie) != value) throw new InvalidOperationException("ASP.NET Core reassembled another value.");
        Console.WriteLine($"// value {value.Length} chars; Cookie header {_oursHeader.Length} (ours) / {_theirsHeader.Length} (ASP.NET Core) chars");
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    /// <summary>Cookie header already parsed (as after the first look at <c>Request.Cookies</c>).</summary>
    [Benchmark(Baseline = true)]
    public string? AspNetReassemble() => _manager.GetRequestCookie(_theirs, AspNetCookie);

    [Benchmark]
    public string? Reassemble() => _host.Store.ReadRaw(_ours.Request.Cookies);

    /// <summary>A new request each time: ASP.NET Core's parse of the Cookie header plus the reassembly.</summary>
    [Benchmark]
    public string? AspNetParseAndReassemble() => _manager.GetRequestCookie(_host.NewContext(_theirsHeader), AspNetCookie);

    [Benchmark]
    public string? ParseAndReassemble() => _host.Store.ReadRaw(_host.NewContext(_oursHeader).Request.Cookies);
}
