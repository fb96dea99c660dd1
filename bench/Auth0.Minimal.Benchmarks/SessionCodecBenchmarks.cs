using System.Text.Json;
using Auth0.Minimal.Bench;
using Auth0.Minimal.Benchmarks.Support;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Auth0.Minimal.Sessions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Benchmarks;

/// <summary>
/// One session cookie value in and out: ours (JWE through <c>SessionCookieStore</c>/<c>CookieCrypto</c>) against
/// ASP.NET Core's cookie handler format (<c>TicketDataFormat</c> over DataProtection) for the same user and tokens.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class SessionCodecBenchmarks
{
    private BenchHost _host = null!;
    private SessionCookieStore _store = null!;
    private Auth0Settings _settings = null!;
    private Auth0Session _session = null!;
    private string _ours = null!;
    private long _expiresAt;
    private IRequestCookieCollection _noCookies = null!;
    private TicketDataFormat _ticketFormat = null!;
    private AuthenticationTicket _ticket = null!;
    private string _theirs = null!;

    /// <summary>Small: the profile and a short access token. Tokens: ID (~900), access (~700) and refresh (~100 chars) tokens.</summary>
    [Params("Small", "Tokens")]
    public string Session { get; set; } = "Tokens";

    [GlobalSetup]
    public void Setup()
    {
        _host = BenchHost.Create();
        _store = _host.Store;
        _settings = _host.Services.GetRequiredService<Auth0Settings>();
        var now = _host.Time.GetUtcNow();
        var withTokens = Session == "Tokens";
        _session = BenchIdentity.Auth0Session(now.ToUnixTimeSeconds(), withTokens);
        _expiresAt = now.ToUnixTimeSeconds() + 86400;
        _ours = Encode();
        _noCookies = new DefaultHttpContext().Request.Cookies;

        // What AddCookie() sets up: the handler's purpose chain over the app's DataProtection provider.
        var protector = new EphemeralDataProtectionProvider()
            .CreateProtector("Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationMiddleware", "Cookies", "v2");
        _ticketFormat = new TicketDataFormat(protector);
        _ticket = BenchIdentity.Ticket("Cookies", now, withTokens);
        _theirs = _ticketFormat.Protect(_ticket);

        if (Decode() is null || AspNetDecode() is null) throw new InvalidOperationException("A cookie did not round-trip.");
        Console.WriteLine($"// {Session}: Auth0.Minimal value {_ours.Length} chars, ASP.NET Core ticket {_theirs.Length} chars");
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    [Benchmark(Baseline = true), BenchmarkCategory("Decode")]
    public AuthenticationTicket? AspNetDecode() => _ticketFormat.Unprotect(_theirs);

    /// <summary>Decrypt, check exp, deserialise and check the session: what the first request with a new value pays.</summary>
    [Benchmark, BenchmarkCategory("Decode")]
    public Auth0Session? Decode() => _store.DecodeUncached(_ours, _host.Time.GetUtcNow().ToUnixTimeSeconds(), out _);

    /// <summary>The same value again: the verified-session cache's lookup and the caller's own copy.</summary>
    [Benchmark, BenchmarkCategory("Decode")]
    public Auth0Session? DecodeAgain() => _store.Decode(_ours);

    [Benchmark(Baseline = true), BenchmarkCategory("Encode")]
    public string AspNetEncode() => _ticketFormat.Protect(_ticket);

    /// <summary>The serialise-and-encrypt step of <c>SessionCookieStore.Write</c>.</summary>
    [Benchmark, BenchmarkCategory("Encode")]
    public string Encode() =>
        _settings.Crypto.Encrypt(JsonSerializer.SerializeToUtf8Bytes(_session, Auth0JsonContext.Default.Auth0Session), _expiresAt);

    /// <summary>All of <c>SessionCookieStore.Write</c>, as a rolling request pays it: size check, encode, chunking, Set-Cookie text.</summary>
    [Benchmark, BenchmarkCategory("Encode")]
    public object StoreWrite()
    {
        var jar = new ResponseCookieJar();
        _store.Write(_session, _noCookies, jar);
        return jar;
    }
}
