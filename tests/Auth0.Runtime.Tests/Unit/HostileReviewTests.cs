using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Testing;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>Odd input and odd setups against the session reader, the cookie scan, the scheme provider and the policy evaluator.</summary>
public class HostileReviewTests
{
    private const string Secret = "hostile-review-secret-0123456789abcdefghijkl";

    // ---------------------------------------------------------------- session JSON: reader against serializer

    public static TheoryData<string> JsonCases => new()
    {
        "{\"ex\\u0070\":1}",
        "{\"ex\\u0070\":1.0}",
        "{\"exp\":-0}",
        "{\"exp\":1E2}",
        "{\"exp\":1e0}",
        "{\"exp\":9223372036854775807}",
        "{\"exp\":9223372036854775808}",
        "{\"exp\":-9223372036854775808}",
        "{\"exp\":1,\"ex\\u0070\":0}",
        "{\"nbf\":null}",
        "{\"nbf\":true}",
        "{\"exp\":[1]}",
        "{\"exp\":{}}",
        "{\"tokenSet\":{\"expiresAt\":-0}}",
        "{\"tokenSet\":{\"expiresAt\":-0.5}}",
        "{\"tokenSet\":{\"expiresAt\":1.0}}",
        "{\"tokenSet\":{\"expiresAt\":999999999999999.9}}",
        "{\"tokenSet\":{\"expiresAt\":-999999999999999.9}}",
        "{\"tokenSet\":{\"expiresAt\":1e15}}",
        "{\"tokenSet\":{\"expiresAt\":5e-324}}",
        "{\"tokenSet\":{\"expiresAt\":1e-400}}",
        "{\"tokenSet\":{\"expiresAt\":[]}}",
        "{\"tokenSet\":{\"expiresAt\":{}}}",
        "{\"internal\":{\"createdAt\":1e400}}",
        "{\"internal\":{\"createdAt\":\"1\"}}",
        "{\"internal\":{\"sid\":[]}}",
        "{\"internal\":{\"sid\":null,\"sid\":\"b\"}}",
        "{\"internal\":{\"s\\u0069d\":\"escaped\"}}",
        "{\"internal\":{\"Extra\":1}}",
        "{\"Extra\":{\"a\":1}}",
        "{\"extra\":1,\"Extra\":2}",
        "{\"User\":{\"sub\":\"case\"}}",
        "{\"user\":{\"\\u0073ub\":\"escaped claim name\",\"sub\":\"plain\"}}",
        "{\"user\":{\"sub\":\"plain\",\"\\u0073ub\":\"escaped last\"}}",
        "{\"user\":{\"\\ud83d\\ude00\":1}}",
        "{\"\\ud83d\\ude00\":1}",
        "{\"\\ud800\":1}",
        "{\"user\":{\"sub\":1}}",
        "{\"user\":{\"sub\":null}}",
        "{\"user\":{}, \"user\":{\"sub\":\"second\"}}",
        "{\"accessTokens\":[{\"accessToken\":\"a\"},null,{\"scope\":\"b\"}]}",
        "{\"accessTokens\":[[]]}",
        "{\"accessTokens\":[{\"x\":{\"y\":[null]}}]}",
        "{\"accessTokens\":[{\"expiresAt\":\"x\"}]}",
        "{\"accessTokens\":[{\"audience\":\"a\",\"audience\":\"b\"}]}",
        "{\"accessTokens\":[{}],\"accessTokens\":null}",
        "{\"connectionTokenSets\":[{\"connection\":1}]}",
        "{\"connectionTokenSets\":[{\"loginHint\":null,\"x\":1,\"x\":2}]}",
        "{\"connectionTokenSets\":[],\"connectionTokenSets\":[{}]}",
        "{\"tokenSet\":{\"dpop_jkt\":1,\"dpop_jkt\":\"two\"}}",
        "{\"tokenSet\":{}, \"tokenSet\":null}",
        "{\"tokenSet\":null, \"tokenSet\":{}}",
        "{\"internal\":{},\"internal\":{\"sid\":\"b\"}}",
        "\r\n\t {\"user\":{\"sub\":\"ws\"}} \r\n\t",
        " null ",
        "nul",
        "{\"user\":{\"sub\":\"a\"}}\u0000",
        "{\"user\":{\"sub\":\"a\"}}  /",
        "{\"user\":{\"sub\":\"a\"",
        "{\"user\":{\"sub\":\"a\"}}}",
        "{\"a\":\"\\u00e9\\t\\n\\/\\\"\"}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\\u00\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\":-}",
        "{\"a\":1.}",
        "{\"a\":.5}",
        "{\"a\":+1}",
        "{\"a\":0x10}",
        "{\"a\":Infinity}",
        "{\"a\":true,\"a\":false,\"a\":null}",
        "{\"user\":" + new string('[', 62) + new string(']', 62) + "}",
        "{\"user\":{\"x\":" + new string('[', 62) + new string(']', 62) + "}}",
        "{\"user\":{\"x\":" + new string('[', 61) + new string(']', 61) + "}}",
        "{\"accessTokens\":[{\"x\":" + new string('[', 60) + new string(']', 60) + "}]}",
        "{\"accessTokens\":[{\"x\":" + new string('[', 61) + new string(']', 61) + "}]}",
        "{\"accessTokens\":[" + string.Join(",", Enumerable.Repeat("{}", 5000)) + "]}",
        "{\"user\":{" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $"\"c{i % 700}\":{i}")) + "}}",
        "{" + string.Join(",", Enumerable.Range(0, 2000).Select(i => $"\"f{i % 700}\":{i}")) + "}",
    };

    [Theory]
    [MemberData(nameof(JsonCases))]
    public void Odd_payloads_read_as_the_serializer_reads_them(string json) => AssertSameAsSerializer(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_BOM_in_bytes_and_a_trailing_BOM_read_as_the_serializer_reads_them()
    {
        AssertSameAsSerializer([0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}']);
        AssertSameAsSerializer([(byte)'{', (byte)'}', 0xEF, 0xBB, 0xBF]);
        AssertSameAsSerializer([(byte)'{', (byte)'}', 0xC2, 0xA0]); // a no-break space is no JSON whitespace
    }

    private static void AssertSameAsSerializer(byte[] utf8)
    {
        var expected = Outcome(() => JsonSerializer.Deserialize(utf8, Auth0JsonContext.Default.Auth0Session));
        var actual = Outcome(() => SessionJsonReader.Read(utf8));
        Assert.True(expected == actual, $"Serializer: {expected}\nReader:     {actual}");
    }

    private static string Outcome(Func<Auth0Session?> read)
    {
        Auth0Session? session;
        try { session = read(); }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException) { return "refused"; }
        if (session is null) return "null";
        var shape = $"user:{session.User is null} tokenSet:{session.TokenSet is null} internal:{session.Internal is null} "
            + $"claims:{(session.User is null ? "" : string.Join(",", session.User.Claims.Keys))} ";
        try { return shape + JsonSerializer.Serialize(session, Auth0JsonContext.Default.Auth0Session); }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException) { return shape + "unwritable:" + ex.GetType().Name; }
    }

    // ---------------------------------------------------------------- the readability walk that is skipped

    public static TheoryData<byte[]> UnreadableStrings => new()
    {
        // CESU-8 / WTF-8: a surrogate code point written as UTF-8 bytes.
        Bytes("{\"user\":{\"name\":\"", [0xED, 0xA0, 0x80], "\"}}"),
        Bytes("{\"user\":{\"n", [0xED, 0xB0, 0x80], "\":1}}"),
        Bytes("{\"user\":{},\"x\":\"", [0xED, 0xBF, 0xBF], "\"}"),
        // Overlong and out-of-range forms.
        Bytes("{\"user\":{\"name\":\"", [0xC0, 0xAF], "\"}}"),
        Bytes("{\"user\":{\"name\":\"", [0xF4, 0x90, 0x80, 0x80], "\"}}"),
        Bytes("{\"user\":{},\"tokenSet\":{\"x\":\"", [0xE0, 0x80, 0xAF], "\"}}"),
        // A truncated sequence at the very end of a string.
        Bytes("{\"user\":{},\"internal\":{\"x\":[\"ok\",\"", [0xE2, 0x82], "\"]}}"),
        // Surrogate escapes behind escapes that hide the "\u" from a naive scan.
        Bytes("{\"user\":{\"name\":\"\\\\\\ud800\"}}"),
        Bytes("{\"user\":{\"name\":\"\\/\\ud800\"}}"),
        Bytes("{\"user\":{},\"connectionTokenSets\":[{\"x\":\"\\uDfFf\"}]}"),
        Bytes("{\"user\":{},\"accessTokens\":[{\"x\":{\"\\udbff\":1}}]}"),
    };

    private static byte[] Bytes(string before, byte[]? raw = null, string after = "") =>
        [.. Encoding.UTF8.GetBytes(before), .. raw ?? [], .. Encoding.UTF8.GetBytes(after)];

    /// <summary>Whatever comes back must be usable: every claim, field and token readable, or no session at all.</summary>
    [Theory]
    [MemberData(nameof(UnreadableStrings))]
    public void A_session_that_is_accepted_has_only_readable_strings(byte[] payload)
    {
        var session = SessionCookieStore.Deserialize(payload);
        if (session is null) return;
        ReadAll(session.User.Claims);
        ReadAll(session.Extra);
        ReadAll(session.TokenSet.Extra);
        ReadAll(session.Internal.Extra);
        foreach (var entry in session.AccessTokens ?? []) ReadAll(entry.Extra);
        foreach (var entry in session.ConnectionTokenSets ?? []) ReadAll(entry?.Extra);
        _ = AspNetCore.Auth0AuthenticationHandler.ClaimsOf(session);
        _ = JsonSerializer.Serialize(session, Auth0JsonContext.Default.Auth0Session);
    }

    private static void ReadAll(Dictionary<string, JsonElement>? values)
    {
        foreach (var (_, value) in values ?? []) ReadAll(value);
    }

    private static void ReadAll(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String: _ = element.GetString(); break;
            case JsonValueKind.Array: foreach (var item in element.EnumerateArray()) ReadAll(item); break;
            case JsonValueKind.Object: foreach (var p in element.EnumerateObject()) { _ = p.Name; ReadAll(p.Value); } break;
        }
        _ = element.GetRawText();
    }

    // ---------------------------------------------------------------- base64url and the cookie decryption

    [Theory]
    [InlineData("QR")] // non-zero trailing bits
    [InlineData("QUK")]
    [InlineData("QUJDQUJDQUJDQUJDQUJDQUJDQUJD\u0151")] // a char whose low byte is 'Q'
    [InlineData("\u0151UJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD")]
    [InlineData("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD\uFF31UJD")] // fullwidth Q
    [InlineData("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD++++")]
    [InlineData("QUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJDQUJD////")]
    [InlineData("QQ==QUJD")]
    [InlineData("QUJDQQ=")]
    [InlineData("QUJDQQ\u0000")]
    [InlineData("QUJD\u00a0QUJD")]
    [InlineData("QUJDQU\u2028JD")]
    public void Base64url_refuses_what_a_strict_unpadded_decoder_refuses(string text)
    {
        var buffer = new byte[128];
        Assert.False(Base64Url.TryDecode(text, buffer, out var written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void Every_tampered_or_cut_cookie_is_no_session_and_never_an_exception()
    {
        var store = TestSessions.Store(Secret);
        var value = Written(store, SessionFor("auth0|victim"))["__session"];
        var crypto = TestSessions.Settings(Secret).Crypto;
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var random = new Random(4711);
        var variants = new List<string>();
        for (var cut = 0; cut < value.Length; cut += 1 + cut / 8) variants.Add(value[..cut]);
        for (var i = 0; i < 400; i++)
        {
            var chars = value.ToCharArray();
            const string odd = "A_-.=+/ \t%\"\u00e9\u0151";
            chars[random.Next(chars.Length)] = odd[random.Next(odd.Length)];
            variants.Add(new string(chars));
        }
        var parts = value.Split('.');
        variants.Add(string.Join('.', parts[0], parts[1], parts[2], parts[3], parts[4] + "AA"));
        variants.Add(string.Join('.', parts[0], parts[1], parts[2] + "AAAA", parts[3], parts[4]));
        variants.Add(string.Join('.', parts[0], parts[1], parts[2], "", parts[4]));
        variants.Add(string.Join('.', parts[0], "x", parts[2], parts[3], parts[4]));
        variants.Add(string.Join('.', parts[0], parts[1], parts[2], parts[3], parts[4], ""));
        variants.Add(value + "=");
        variants.Add(value.Replace('-', '+').Replace('_', '/'));
        foreach (var variant in variants.Where(v => v != value))
        {
            Assert.Null(store.Decode(variant));
            Assert.Null(crypto.Decrypt(variant, now));
            Assert.Null(store.DecodeUncached(variant, now, out _));
        }
        Assert.Equal("auth0|victim", store.Decode(value)!.User.Sub);
    }

    // ---------------------------------------------------------------- the Cookie-header scan against the full parse

    [Theory]
    [InlineData("%5F%5Fsession={V}")]
    [InlineData("__session%5F%5F0={V}")]
    [InlineData("__session={V}%3D")]
    [InlineData("__session={V}; __session%3D=x")]
    [InlineData("__session={V}; a=%")]
    [InlineData("__session={V}; a=%zz")]
    [InlineData("__session={V}; =x")]
    [InlineData("__session={V}; a")]
    [InlineData("__session={V}; a=\"b\"")]
    [InlineData("__session={V}; a=b=c")]
    [InlineData("__session={V}; a=\u00e9")]
    [InlineData("__session={V};  a=b")]
    [InlineData("__session={V}; ; a=b")]
    [InlineData("__session={V} ; a=b")]
    [InlineData("__session={V}\u0000")]
    [InlineData("__session={V}\u00a0")]
    [InlineData("\u00a0__session={V}")]
    [InlineData("__\u017Fession=junk; __session={V}")] // long s: equal to "s" ignoring case
    [InlineData("__\u017Fession={V}")]
    [InlineData("__session__0={V}; __\u017Fession__0=junk")]
    [InlineData("__session={V}; __session__0=%00")]
    [InlineData("__session={V}; __session__x=1")]
    [InlineData("__session__0={V}; __session__0x=1")]
    [InlineData("__session__0={V}; __session__10=x")]
    [InlineData("__session__0={V}; __session__1000=x")]
    [InlineData("__session__0={V}; __session__-1=x")]
    [InlineData("__session__0={V}; __session__\u0661=x")] // an Arabic-Indic digit
    [InlineData("__session={V}; __session__\u0661=x")]
    [InlineData("__session___0={V}")]
    [InlineData("__session_={V}")]
    [InlineData("__sessio={V}")]
    public void The_header_scan_reads_odd_headers_as_the_full_parse_does(string template)
    {
        var store = TestSessions.Store(Secret);
        var value = Written(store, SessionFor("auth0|victim"))["__session"];
        Assert.Equal("auth0|victim", store.Read(Request("__session=" + value), out _)!.User.Sub); // cached
        var header = template.Replace("{V}", value, StringComparison.Ordinal);
        Assert.Equal(Read(store, Request(header, "")), Read(store, Request(header)));
        // And on a store that has verified nothing yet, then again once it has.
        var fresh = TestSessions.Store(Secret);
        var first = Read(fresh, Request(header));
        Assert.Equal(Read(TestSessions.Store(Secret), Request(header, "")), first);
        Assert.Equal(first, Read(fresh, Request(header)));
    }

    [Fact]
    public void Chunks_that_are_each_valid_only_together_and_a_base_cookie_read_as_the_full_parse_does()
    {
        var store = TestSessions.Store(Secret);
        var big = Written(store, SessionFor("auth0|chunked", 9000));
        var single = Written(store, SessionFor("auth0|single"))["__session"];
        var chunks = Enumerable.Range(0, big.Count).Select(i => big[$"__session__{i}"]).ToList();
        var pairs = chunks.Select((v, i) => $"__session__{i}={v}").ToList();
        Assert.Equal("auth0|chunked", store.Read(Request(string.Join("; ", pairs)), out _)!.User.Sub);
        Assert.Equal("auth0|single", store.Read(Request("__session=" + single), out _)!.User.Sub);
        string[] headers =
        [
            string.Join("; ", pairs.Prepend("__session=" + single)),
            string.Join("; ", pairs.Append("__session=" + single)),
            string.Join("; ", pairs.Prepend("__session=" + string.Concat(chunks))),
            string.Join("; ", pairs.Prepend("__session=junk")),
            string.Join("; ", pairs.Append("__session=")),
            // The joined value split elsewhere, with the tag in the last chunk.
            $"__session__0={string.Concat(chunks)[..5]}; __session__1={string.Concat(chunks)[5..]}",
            // The single cookie split into chunks.
            $"__session__1={single[40..]}; __session__0={single[..40]}",
            $"__session__0={single}; __session__1=",
            $"__session__0=; __session__1={single}",
        ];
        foreach (var header in headers)
        {
            Assert.Equal(Read(store, Request(header, "")), Read(store, Request(header)));
            Assert.Equal(Read(TestSessions.Store(Secret), Request(header, "")), Read(store, Request(header)));
        }
    }

    private static HttpRequest Request(params string[] cookieHeaders)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = new StringValues(cookieHeaders);
        return context.Request;
    }

    private static (string? Sub, bool Had) Read(SessionCookieStore store, HttpRequest request) =>
        (store.Read(request, out var had)?.User.Sub, had);

    private static Auth0Session SessionFor(string sub, int bioLength = 0)
    {
        var session = TestSessions.Session(bioLength);
        session.User.Claims["sub"] = JsonSerializer.SerializeToElement(sub);
        return session;
    }

    private static Dictionary<string, string> Written(SessionCookieStore store, Auth0Session session)
    {
        var jar = new ResponseCookieJar();
        store.Write(session, new TestCookies(), jar);
        return TestCookies.FromJar(jar);
    }

    // ---------------------------------------------------------------- the scheme provider

    private static IServiceProvider Services(Action<IServiceCollection>? after = null)
    {
        var services = new ServiceCollection().AddLogging();
        services.AddAuth0Core(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = "tenant.us.auth0.com",
            ["AUTH0_CLIENT_ID"] = "cid",
            ["AUTH0_CLIENT_SECRET"] = "csecret",
            ["AUTH0_SECRET"] = Secret,
            ["APP_BASE_URL"] = "https://app.example.com",
        }).Build(), new Auth0Routes());
        after?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private sealed class PlainHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
    }

    /// <summary>Scheme names can come from requests (an external-login form's provider): unknown ones must not pile up.</summary>
    [Fact]
    public async Task Looking_up_many_unknown_scheme_names_keeps_nothing_for_them()
    {
        var provider = Services().GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.IsType<Auth0SchemeProvider>(provider);
        for (var i = 0; i < 5000; i++) Assert.Null(await provider.GetSchemeAsync("unknown-" + i));
        Assert.NotNull(await provider.GetSchemeAsync(Auth0Defaults.AuthenticationScheme));
        Assert.InRange(KeptNames(provider), 0, 10);
    }

    private static int KeptNames(IAuthenticationSchemeProvider provider)
    {
        var answers = typeof(Auth0SchemeProvider).GetField("_answers", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(provider)!;
        var byName = answers.GetType().GetField("ByName")!.GetValue(answers)!;
        return (int)byName.GetType().GetProperty("Count")!.GetValue(byName)!;
    }

    /// <summary>The stock provider reads the default schemes from the options on every call; a change there shows at once.</summary>
    [Fact]
    public async Task A_default_scheme_changed_at_run_time_is_followed_as_by_the_stock_provider()
    {
        var services = Services(s => s.PostConfigure<AuthenticationOptions>(o => o.AddScheme<PlainHandler>("Other", null)));
        var provider = services.GetRequiredService<IAuthenticationSchemeProvider>();
        var options = services.GetRequiredService<IOptions<AuthenticationOptions>>().Value;
        var stock = new AuthenticationSchemeProvider(Options.Create(options));

        async Task Same()
        {
            Assert.Equal((await stock.GetDefaultAuthenticateSchemeAsync())?.Name, (await provider.GetDefaultAuthenticateSchemeAsync())?.Name);
            Assert.Equal((await stock.GetDefaultChallengeSchemeAsync())?.Name, (await provider.GetDefaultChallengeSchemeAsync())?.Name);
            Assert.Equal((await stock.GetDefaultForbidSchemeAsync())?.Name, (await provider.GetDefaultForbidSchemeAsync())?.Name);
        }

        await Same();
        Assert.Equal(Auth0Defaults.AuthenticationScheme, (await provider.GetDefaultAuthenticateSchemeAsync())!.Name);
        options.DefaultAuthenticateScheme = "Other";
        await Same();
        options.DefaultAuthenticateScheme = null;
        options.DefaultScheme = "Other";
        await Same();
        options.DefaultScheme = "Missing";
        await Same();
        options.DefaultScheme = Auth0Defaults.AuthenticationScheme;
        await Same();
    }

    [Fact]
    public async Task Schemes_added_and_removed_while_others_look_them_up_are_all_seen_afterwards()
    {
        var provider = Services().GetRequiredService<IAuthenticationSchemeProvider>();
        var stop = false;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (!Volatile.Read(ref stop))
            {
                for (var i = 0; i < 50; i++) await provider.GetSchemeAsync("s" + i);
                await provider.GetRequestHandlerSchemesAsync();
                await provider.GetDefaultAuthenticateSchemeAsync();
            }
        })).ToArray();
        for (var round = 0; round < 20; round++)
        {
            for (var i = 0; i < 50; i++) provider.AddScheme(new AuthenticationScheme("s" + i, null, typeof(PlainHandler)));
            for (var i = 0; i < 50; i++) Assert.Equal("s" + i, (await provider.GetSchemeAsync("s" + i))?.Name);
            for (var i = 0; i < 50; i++) provider.RemoveScheme("s" + i);
            for (var i = 0; i < 50; i++) Assert.Null(await provider.GetSchemeAsync("s" + i));
        }
        Volatile.Write(ref stop, true);
        await Task.WhenAll(readers);
        Assert.Equal(Auth0Defaults.AuthenticationScheme, (await provider.GetDefaultAuthenticateSchemeAsync())?.Name);
    }

    // ---------------------------------------------------------------- the policy evaluator and the app's own authorization

    /// <summary>An app's handler that refuses some users for every requirement (as a ban list or a tenant check does).</summary>
    private sealed class RefuseBanned : IAuthorizationHandler
    {
        public Task HandleAsync(AuthorizationHandlerContext context)
        {
            if (context.User.FindFirst("sub")?.Value == "auth0|banned") context.Fail();
            return Task.CompletedTask;
        }
    }

    /// <summary>An app's authorization service that audits and refuses the same users.</summary>
    private sealed class AuditingService(IAuthorizationPolicyProvider policies, IAuthorizationHandlerProvider handlers, ILogger<DefaultAuthorizationService> logger,
        IAuthorizationHandlerContextFactory contexts, IAuthorizationEvaluator evaluator, IOptions<AuthorizationOptions> options)
        : DefaultAuthorizationService(policies, handlers, logger, contexts, evaluator, options)
    {
        public static int Calls;

        public override Task<AuthorizationResult> AuthorizeAsync(ClaimsPrincipal user, object? resource, IEnumerable<IAuthorizationRequirement> requirements)
        {
            Interlocked.Increment(ref Calls);
            return user.FindFirst("sub")?.Value == "auth0|banned"
                ? Task.FromResult(AuthorizationResult.Failed())
                : base.AuthorizeAsync(user, resource, requirements);
        }
    }

    [Theory]
    [InlineData("handler")]
    [InlineData("handler-registered-first")]
    [InlineData("service")]
    public async Task The_apps_own_authorization_still_decides_for_RequireAuth0Session(string kind)
    {
        await using var app = await HotPathHostileTests.StartAsync(
            a =>
            {
                a.MapGet("/api", (HttpContext c) => c.User.FindFirst("sub")?.Value).RequireAuth0Session();
                a.MapGet("/page", (HttpContext c) => c.User.FindFirst("sub")?.Value).RequireAuth0Login();
                a.MapGet("/policy", (HttpContext c) => c.User.FindFirst("sub")?.Value).RequireAuthorization(Auth0Defaults.SessionPolicy);
            },
            services: kind == "handler-registered-first" ? s => s.AddSingleton<IAuthorizationHandler, RefuseBanned>() : null,
            servicesAfterAuth0: kind switch
            {
                "handler" => s => s.AddSingleton<IAuthorizationHandler, RefuseBanned>(),
                "service" => s => s.AddTransient<IAuthorizationService, AuditingService>(),
                _ => null,
            });
        var allowed = await app.CookieAsync("auth0|alice");
        var banned = await app.CookieAsync("auth0|banned");
        foreach (var path in new[] { "/api", "/page", "/policy" })
        {
            for (var i = 0; i < 2; i++) // the second time from the verified-session cache
            {
                var (status, body, _) = await app.GetAsync(path, allowed);
                Assert.Equal((HttpStatusCode.OK, "auth0|alice"), (status, body));
                Assert.Equal(HttpStatusCode.Forbidden, (await app.GetAsync(path, banned)).Status);
            }
        }
    }
}
