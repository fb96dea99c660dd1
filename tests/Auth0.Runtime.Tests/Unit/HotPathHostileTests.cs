using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Testing;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>
/// Hostile input against the authenticated hot path: the Cookie-header scan in front of the full parse, the
/// verified-session cache, the shared read-only session, and the RequireAuth0Session/RequireAuth0Login gate.
/// </summary>
public class HotPathHostileTests
{
    private const string Secret = "hotpath-hostile-secret-0123456789abcdefghijkl";

    // ---------------------------------------------------------------- helpers (no server)

    private static HttpRequest Request(params string[] cookieHeaders)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = new StringValues(cookieHeaders);
        return context.Request;
    }

    private static Auth0Session SessionFor(string sub, int bioLength = 0)
    {
        var session = TestSessions.Session(bioLength);
        session.User.Claims["sub"] = JsonSerializer.SerializeToElement(sub);
        session.User.Claims["name"] = JsonSerializer.SerializeToElement("name of " + sub);
        return session;
    }

    /// <summary>The cookies a browser holds after the store wrote <paramref name="session"/> (one value, or chunks).</summary>
    private static Dictionary<string, string> Written(SessionCookieStore store, Auth0Session session)
    {
        var jar = new ResponseCookieJar();
        store.Write(session, new TestCookies(), jar);
        return TestCookies.FromJar(jar);
    }

    private static string Single(SessionCookieStore store, string sub) => Written(store, SessionFor(sub))["__session"];

    private static (string? Sub, bool Had) Outcome(SessionCookieStore store, HttpRequest request)
    {
        var session = store.Read(request, out var had);
        return (session?.User.Sub, had);
    }

    // ---------------------------------------------------------------- the Cookie-header scan against the full parse

    /// <summary>
    /// The fast scan must read a header exactly as the full parse does. The full parse is forced by sending the same
    /// header plus an empty second Cookie line (the scan only runs for one line); the scan runs on the single line,
    /// after the value has been verified once (so a cache hit is possible).
    /// </summary>
    [Theory]
    [InlineData("__session={V}")]
    [InlineData(" __session={V} ")]
    [InlineData("a=b; __session={V}; c=d")]
    [InlineData("a=b;__session={V}")]
    [InlineData("__session={V};")]
    [InlineData(";;__session={V};;")]
    [InlineData("__session={V}; __session=junk")]
    [InlineData("__session=junk; __session={V}")]
    [InlineData("__SESSION={V}")]
    [InlineData("__Session=junk; __session={V}")]
    [InlineData("__session=\"{V}\"")]
    [InlineData("__session_x={V}")]
    [InlineData("__session__={V}")]
    [InlineData("__session__0={V}")]
    [InlineData("__session__00={V}")]
    [InlineData("__session__8={V}")]
    [InlineData("__session__0={V}; __session__1=")]
    [InlineData("__session__0={V}; __session__2=x")]
    [InlineData("__session={V}; __session__0=junk")]
    [InlineData("__session__0=junk; __session={V}")]
    [InlineData("x=__session={V}")]
    [InlineData("__session=")]
    [InlineData("__session")]
    [InlineData("__session; __session={V}")]
    [InlineData("__session={V}\t")]
    [InlineData("a=b;\t__session={V}")]
    [InlineData("\t__session={V}")]
    [InlineData("a=b,__session={V}")]
    [InlineData("__session={V},a=b")]
    [InlineData("__session ={V}")]
    [InlineData("__session= {V}")]
    public void The_header_scan_reads_a_single_cookie_header_as_the_full_parse_does(string template)
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        Assert.Equal("auth0|victim", store.Read(Request("__session=" + value), out _)!.User.Sub); // now cached
        var header = template.Replace("{V}", value, StringComparison.Ordinal);

        var full = Outcome(store, Request(header, ""));
        var fast = Outcome(store, Request(header));
        Assert.Equal(full, fast);
    }

    /// <summary>
    /// "__session ={V}" and "__session= {V}" are not cookies to ASP.NET's parser (Request.Cookies has no __session), yet
    /// the header scan trims the spaces (Locate: <c>pair[..eq].Trim(' ')</c>, <c>value.Trim(' ')</c>) and, once the value
    /// is cached, authenticates the request with it.
    /// </summary>
    [Theory]
    [InlineData("__session ={V}")]
    [InlineData("__session= {V}")]
    [InlineData("a=b; __session =  {V}")]
    public void The_header_scan_does_not_accept_a_session_cookie_the_full_parse_rejects(string template)
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        Assert.NotNull(store.Read(Request("__session=" + value), out _)); // cached
        var request = Request(template.Replace("{V}", value, StringComparison.Ordinal));
        Assert.False(request.Cookies.ContainsKey("__session"));
        Assert.Null(store.Read(request, out _));
    }

    /// <summary>
    /// ASP.NET's parser skips a tab before a cookie name as it does a space; the header scan only trims spaces, so a
    /// "\t__session" pair is no session cookie to it and it answers "no session cookie at all" (Located.None) without
    /// ever reaching the full parse: a valid session is ignored, and a bad one is never cleared.
    /// </summary>
    [Theory]
    [InlineData("a=b;\t__session={V}")]
    [InlineData("\t__session={V}")]
    public void The_header_scan_does_not_miss_a_session_cookie_after_a_tab(string template)
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        var request = Request(template.Replace("{V}", value, StringComparison.Ordinal));
        Assert.True(request.Cookies.ContainsKey("__session"));
        var session = store.Read(request, out var had);
        Assert.True(had);
        Assert.Equal("auth0|victim", session?.User.Sub);
    }

    [Theory]
    [InlineData("__session__0={A}; __session__1={B}")]
    [InlineData("__session__1={B}; __session__0={A}")]
    [InlineData("__session__1={B}; x=y; __session__0={A}")]
    [InlineData("__session__0={A}; __session__1={B}; __session__2=")]
    [InlineData("__session__0={A}; __session__1={B}; __session__3=x")]
    [InlineData("__session__0={A}; __session__1={B}; __session__10=x")]
    [InlineData("__session__0={A}; __session__1={B}; __session__01=x")]
    [InlineData("__session__0={A}; __session__1={B}; __session__1=x")]
    [InlineData("__session__0={A}; __session__1={B}; __SESSION__2=x")]
    [InlineData("__session__0={A}; __session__1={B}x")]
    [InlineData("__session__0={A}x; __session__1={B}")]
    [InlineData("__session__0={B}; __session__1={A}")]
    [InlineData("__session__0={A}")]
    [InlineData("__session__1={B}")]
    public void The_header_scan_reads_chunked_sessions_as_the_full_parse_does(string template)
    {
        var store = TestSessions.Store(Secret);
        var cookies = Written(store, SessionFor("auth0|victim", bioLength: 4000));
        Assert.Equal(2, cookies.Count);
        var (a, b) = (cookies["__session__0"], cookies["__session__1"]);
        Assert.Equal("auth0|victim", store.Read(Request($"__session__0={a}; __session__1={b}"), out _)!.User.Sub); // cached
        var header = template.Replace("{A}", a, StringComparison.Ordinal).Replace("{B}", b, StringComparison.Ordinal);

        var full = Outcome(store, Request(header, ""));
        var fast = Outcome(store, Request(header));
        Assert.Equal(full, fast);
    }

    [Fact]
    public void A_chunk_boundary_inside_the_tag_still_reads_the_session()
    {
        // The last chunk shorter than the 22-character key: the scan cannot index it and the full parse joins the chunks.
        var store = TestSessions.Store(Secret);
        var cookies = Written(store, SessionFor("auth0|victim", bioLength: 4000));
        var whole = cookies["__session__0"] + cookies["__session__1"];
        var split = whole.Length - 5;
        var header = $"__session__0={whole[..split]}; __session__1={whole[split..]}";
        Assert.Equal("auth0|victim", store.Read(Request(header), out _)!.User.Sub);
        Assert.Equal("auth0|victim", store.Read(Request(header), out _)!.User.Sub);
    }

    // ---------------------------------------------------------------- the verified-session cache

    [Fact]
    public void A_value_that_differs_from_a_cached_one_only_outside_the_key_is_not_that_session()
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        var key = value[^Sessions.VerifiedSessionCache.KeyLength..];
        foreach (var at in new[] { 0, 5, value.IndexOf('.') + 1, value.Length / 2, value.Length - Sessions.VerifiedSessionCache.KeyLength - 1 })
        {
            var forged = value[..at] + (value[at] == 'A' ? 'B' : 'A') + value[(at + 1)..];
            Assert.EndsWith(key, forged, StringComparison.Ordinal);
            Assert.Null(store.Read(Request("__session=" + forged), out var had));
            Assert.True(had);
            Assert.Null(store.Read(Request("__session=" + forged), out _)); // and not cached as valid afterwards
        }
        // Shorter and longer values with the same last 22 characters.
        Assert.Null(store.Read(Request("__session=" + value[1..]), out _));
        Assert.Null(store.Read(Request("__session=x" + value), out _));
        Assert.Null(store.Read(Request("__session=" + key), out _));
        // As chunks: the same characters, split so the key sits in the last chunk.
        Assert.Null(store.Read(Request($"__session__0=x{value[..40]}; __session__1={value[40..]}"), out _));
        Assert.Equal("auth0|victim", store.Read(Request($"__session__0={value[..40]}; __session__1={value[40..]}"), out _)!.User.Sub);
    }

    [Fact]
    public void A_value_with_a_different_tag_is_not_the_cached_session()
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        var other = value[..^1] + (value[^1] == 'A' ? 'Q' : 'A');
        Assert.Null(store.Read(Request("__session=" + other), out _));
    }

    [Fact]
    public void A_cached_cookie_stops_working_the_second_its_exp_passes()
    {
        var time = new FakeTime();
        var store = TestSessions.Store(Secret, time);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var json = JsonSerializer.SerializeToUtf8Bytes(SessionFor("auth0|victim"), Json.Auth0JsonContext.Default.Auth0Session);
        var value = new Crypto.CookieCrypto(Secret).Encrypt(json, now + 100);
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        time.Advance(TimeSpan.FromSeconds(99));
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(store.Read(Request("__session=" + value), out var had));
        Assert.True(had);
        Assert.Null(store.Read(Request("__session=" + value), out _));
    }

    [Fact]
    public void A_cached_cookie_stops_working_when_the_absolute_lifetime_ends_before_its_exp()
    {
        var time = new FakeTime();
        var settings = TestSessions.Settings(Secret, o => o.Session.AbsoluteDuration = TimeSpan.FromHours(1));
        var store = new SessionCookieStore(settings, time, TestSessions.Telemetry);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var session = SessionFor("auth0|victim");
        session.Internal.CreatedAt = now - 3500; // 100 s of absolute lifetime left
        // A cookie written with a longer lifetime (older settings, or another instance): exp a day away.
        var value = new Crypto.CookieCrypto(Secret).Encrypt(JsonSerializer.SerializeToUtf8Bytes(session, Json.Auth0JsonContext.Default.Auth0Session), now + 86400);
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        Assert.NotNull(store.Read(Request("__session=" + value), out _));
        time.Advance(TimeSpan.FromSeconds(100));
        Assert.Null(store.Read(Request("__session=" + value), out _));
        Assert.Null(store.Decode(value));
    }

    [Fact]
    public void Flooding_the_cache_with_distinct_sessions_never_mixes_users_up()
    {
        var store = TestSessions.Store(Secret);
        var values = Enumerable.Range(0, 2600).Select(i => Single(store, "auth0|u" + i)).ToArray();
        Parallel.For(0, values.Length * 3, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            var i = (int)((n * 7919L) % values.Length);
            var session = store.Read(Request("a=b; __session=" + values[i]), out var had);
            Assert.True(had);
            Assert.Equal("auth0|u" + i, session?.User.Sub);
        });
        // The first ones were evicted long ago: still read (decrypted again), as their own user.
        Assert.Equal("auth0|u0", store.Read(Request("__session=" + values[0]), out _)!.User.Sub);
        Assert.Equal("auth0|u1", store.Read(Request("__session=" + values[1]), out _)!.User.Sub);
    }

    [Fact]
    public void Read_and_Decode_hand_out_copies_that_cannot_change_the_cached_session()
    {
        var store = TestSessions.Store(Secret);
        var value = Single(store, "auth0|victim");
        var header = "__session=" + value;
        foreach (var get in new Func<Auth0Session>[] { () => store.Read(Request(header), out _)!, () => store.Decode(value)! })
        {
            var mine = get();
            mine.User.Claims["sub"] = JsonSerializer.SerializeToElement("auth0|attacker");
            mine.User.Claims.Remove("name");
            mine.TokenSet.AccessToken = "stolen";
            mine.TokenSet.RefreshToken = "stolen";
            (mine.TokenSet.Extra ??= [])["x"] = JsonSerializer.SerializeToElement(1);
            mine.Internal.Sid = "other-sid";
            mine.Internal.CreatedAt = 0;
            (mine.Internal.Extra ??= [])["x"] = JsonSerializer.SerializeToElement(1);
            mine.SetField("planted", JsonSerializer.SerializeToElement(true));
            mine.AccessTokens = [new AccessTokenSet { AccessToken = "planted" }];
            store.TryFit(mine);

            var again = store.Read(Request(header), out _)!;
            Assert.Equal("auth0|victim", again.User.Sub);
            Assert.Equal("name of auth0|victim", again.User.Name);
            Assert.Equal("at", again.TokenSet.AccessToken);
            Assert.Equal("rt", again.TokenSet.RefreshToken);
            Assert.Null(again.TokenSet.Extra);
            Assert.Equal("sid-1", again.Internal.Sid);
            Assert.NotEqual(0, again.Internal.CreatedAt);
            Assert.Null(again.Internal.Extra);
            Assert.Null(again.GetField("planted"));
            Assert.Null(again.AccessTokens);
            Assert.NotSame(mine, again);
        }
    }

    // ---------------------------------------------------------------- through an app

    internal sealed class App(WebApplication app, string baseUrl) : IAsyncDisposable
    {
        public WebApplication Web { get; } = app;
        public string BaseUrl { get; } = baseUrl;
        public HttpClient Http { get; } = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };

        public async Task<string> CookieAsync(string sub, Action<Auth0Session>? change = null)
        {
            var session = Auth0TestSessions.CreateSession(sub, name: "name of " + sub);
            session.Internal = new SessionInternal { Sid = "sid-" + sub, CreatedAt = Web.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds() };
            session.TokenSet.RefreshToken = "rt-" + sub;
            change?.Invoke(session);
            return "__session=" + await Auth0TestSessions.GenerateSessionCookieAsync(Web.Services, session);
        }

        public async Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)> GetAsync(string path, string? cookie = null, Action<HttpRequestMessage>? change = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (cookie is not null) request.Headers.TryAddWithoutValidation("Cookie", cookie);
            change?.Invoke(request);
            var response = await Http.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(), response);
        }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Web.StopAsync();
            await Web.DisposeAsync();
        }
    }

    /// <summary>A real Kestrel app with a tenant nobody calls: a session cookie is all its protected endpoints need.</summary>
    internal static async Task<App> StartAsync(Action<WebApplication> map, Action<IServiceCollection>? services = null,
        Action<WebApplication>? pipeline = null, TimeProvider? time = null, Action<Auth0Options>? options = null,
        Action<IServiceCollection>? servicesAfterAuth0 = null)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var baseUrl = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = "tenant.example.com",
            ["AUTH0_CLIENT_ID"] = "client",
            ["AUTH0_CLIENT_SECRET"] = "client-secret",
            ["AUTH0_SECRET"] = Secret,
            ["APP_BASE_URL"] = baseUrl,
            ["AUTH0_ALLOW_INSECURE_REQUESTS"] = "true",
        });
        builder.WebHost.UseUrls(baseUrl);
        if (time is not null) builder.Services.AddSingleton(time);
        services?.Invoke(builder.Services);
        builder.Services.AddAuth0Generated(builder.Configuration, options);
        servicesAfterAuth0?.Invoke(builder.Services);
        var app = builder.Build();
        if (pipeline is null)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        else pipeline(app);
        app.MapAuth0Generated();
        map(app);
        await app.StartAsync();
        return new App(app, baseUrl);
    }

    internal static string Who(HttpContext context) =>
        (context.User.Identity?.Name ?? "(none)") + "|" + (context.User.FindFirst("sub")?.Value ?? "(none)");

    /// <summary>A scheme that signs in its own user and (as code that copies an identity does) labels it "Auth0".</summary>
    private sealed class ForeignHandler : IAuthenticationHandler
    {
        private HttpContext _context = null!;
        public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context) { _context = context; return Task.CompletedTask; }

        public Task<AuthenticateResult> AuthenticateAsync()
        {
            if (!_context.Request.Headers.TryGetValue("X-Api-User", out var user)) return Task.FromResult(AuthenticateResult.NoResult());
            var type = _context.Request.Headers["X-Api-Type"].ToString() is { Length: > 0 } t ? t : "Other";
            var identity = new ClaimsIdentity([new Claim("name", user.ToString()), new Claim("sub", "api|" + user)], type, "name", "role");
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), "Other")));
        }

        public Task ChallengeAsync(AuthenticationProperties? properties) { _context.Response.StatusCode = 401; return Task.CompletedTask; }
        public Task ForbidAsync(AuthenticationProperties? properties) { _context.Response.StatusCode = 403; return Task.CompletedTask; }
    }

    // After AddAuth0Generated, which makes Auth0 the default: the app's own scheme becomes the default.
    private static void ForeignDefaultScheme(IServiceCollection services) =>
        services.PostConfigure<AuthenticationOptions>(o =>
        {
            o.AddScheme<ForeignHandler>("Other", null);
            o.DefaultScheme = "Other";
            o.DefaultAuthenticateScheme = "Other";
            o.DefaultChallengeScheme = "Other";
        });

    /// <summary>
    /// With another default scheme, RequireAuth0Session must show the endpoint the Auth0 user, as
    /// RequireAuthorization with the Auth0 scheme did (the policy evaluator replaces HttpContext.User). The gate's
    /// shortcut instead accepts whatever HttpContext.User holds once the Auth0 session has been loaded (here by app
    /// middleware before authentication, as UseAuth0 or any GetAuth0SessionAsync does), as long as one of its
    /// identities is labelled "Auth0": the endpoint then runs as the other scheme's user.
    /// </summary>
    [Theory]
    [InlineData("app-middleware")]
    [InlineData("UseAuth0")]
    public async Task RequireAuth0Session_shows_the_Auth0_user_even_when_the_default_schemes_identity_is_labelled_Auth0(string loader)
    {
        await using var app = await StartAsync(
            a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session(),
            ForeignDefaultScheme,
            pipeline: a =>
            {
                if (loader == "UseAuth0") a.UseAuth0();
                else a.Use(async (c, next) => { await c.GetAuth0SessionAsync(); await next(c); });
                a.UseAuthentication();
                a.UseAuthorization();
            });
        var cookie = await app.CookieAsync("auth0|alice");

        // The plain case works: another scheme's user is replaced by the Auth0 one.
        var plain = await app.GetAsync("/who", cookie, r => r.Headers.Add("X-Api-User", "mallory"));
        Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), (plain.Status, plain.Body));

        var labelled = await app.GetAsync("/who", cookie, r => { r.Headers.Add("X-Api-User", "mallory"); r.Headers.Add("X-Api-Type", "Auth0"); });
        Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), (labelled.Status, labelled.Body));
    }

    [Fact]
    public async Task An_identity_labelled_Auth0_without_an_Auth0_session_does_not_pass_the_gate()
    {
        await using var app = await StartAsync(
            a =>
            {
                a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session();
                a.MapGet("/page", (HttpContext c) => Who(c)).RequireAuth0Login();
            },
            ForeignDefaultScheme,
            pipeline: a => { a.UseAuth0(); a.UseAuthentication(); a.UseAuthorization(); });
        var labelled = (Action<HttpRequestMessage>)(r => { r.Headers.Add("X-Api-User", "mallory"); r.Headers.Add("X-Api-Type", "Auth0"); });
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", null, labelled)).Status);
        Assert.Equal(HttpStatusCode.Found, (await app.GetAsync("/page", null, labelled)).Status);
        // A cookie that does not verify does not load a session either.
        var forged = await app.CookieAsync("auth0|alice");
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", forged[..^3] + "AAA", labelled)).Status);
    }

    [Fact]
    public async Task The_gate_holds_for_delegate_RequestDelegate_group_and_nested_group_endpoints()
    {
        await using var app = await StartAsync(a =>
        {
            a.MapGet("/delegate", (HttpContext c) => Who(c)).RequireAuth0Session();
            a.Map("/request-delegate", (RequestDelegate)(c => c.Response.WriteAsync(Who(c)))).RequireAuth0Session();
            var group = a.MapGroup("/group").RequireAuth0Session();
            group.MapGet("/x", (HttpContext c) => Who(c));
            group.MapPost("/x", (HttpContext c) => Who(c));
            group.MapGroup("/nested").MapGet("/y", (HttpContext c) => Who(c)).RequireAuth0Login();
            group.MapFallback((HttpContext c) => Who(c));
            var twice = a.MapGroup("/twice").RequireAuth0Session().RequireAuth0Login();
            twice.MapGet("/z", (HttpContext c) => Who(c)).RequireAuth0Session();
            a.MapMethods("/methods", ["GET", "PUT"], (HttpContext c) => Who(c)).RequireAuth0Session();
        });
        var cookie = await app.CookieAsync("auth0|alice");
        foreach (var path in new[] { "/delegate", "/request-delegate", "/group/x", "/group/nested/y", "/group/anything/else", "/twice/z", "/methods" })
        {
            var anonymous = await app.GetAsync(path);
            Assert.True(anonymous.Status is HttpStatusCode.Unauthorized or HttpStatusCode.Found, path + " answered " + anonymous.Status);
            Assert.DoesNotContain("(none)", anonymous.Body);
            var signedIn = await app.GetAsync(path, cookie);
            Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), (signedIn.Status, signedIn.Body));
        }
        using var post = await app.Http.PostAsync("/group/x", null);
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public async Task AllowAnonymous_opens_a_gated_endpoint_wherever_it_is_declared_and_nothing_else()
    {
        await using var app = await StartAsync(a =>
        {
            var group = a.MapGroup("/g").RequireAuth0Session();
            group.MapGet("/open", (HttpContext c) => Who(c)).AllowAnonymous();
            group.MapGet("/closed", (HttpContext c) => Who(c));
            var open = a.MapGroup("/o").AllowAnonymous();
            open.MapGet("/x", (HttpContext c) => Who(c)).RequireAuth0Session();
            a.MapGet("/before", (HttpContext c) => Who(c)).AllowAnonymous().RequireAuth0Session();
            a.MapGet("/after", (HttpContext c) => Who(c)).RequireAuth0Session().AllowAnonymous();
        });
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/g/open")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/g/closed")).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/o/x")).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/before")).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/after")).Status);
    }

    [Fact]
    public async Task The_gate_holds_without_the_authentication_middleware()
    {
        await using var app = await StartAsync(
            a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session(),
            pipeline: _ => { });
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who")).Status);
        var cookie = await app.CookieAsync("auth0|alice");
        Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), ((await app.GetAsync("/who", cookie)).Status, (await app.GetAsync("/who", cookie)).Body));
    }

    [Fact]
    public async Task The_gate_holds_for_controller_endpoints()
    {
        await using var app = await StartAsync(
            a => a.MapControllers().RequireAuth0Session(),
            s => s.AddControllers().AddApplicationPart(typeof(HotPathGatedController).Assembly));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/mvc/who")).Status);
        var cookie = await app.CookieAsync("auth0|alice");
        var signedIn = await app.GetAsync("/mvc/who", cookie);
        Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), (signedIn.Status, signedIn.Body));
    }

    [Fact]
    public async Task A_cached_session_ends_with_a_back_channel_logout_by_sid_and_by_sub()
    {
        var time = new FakeTime();
        await using var app = await StartAsync(a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session(), time: time);
        var alice = await app.CookieAsync("auth0|alice");
        var bob = await app.CookieAsync("auth0|bob");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", alice)).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", bob)).Status);

        var registry = app.Web.Services.GetRequiredService<LogoutRegistry>();
        await registry.RecordAsync(new LogoutTokenClaims("sid-auth0|alice", "auth0|alice", "https://tenant.example.com/"),
            app.Web.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds(), default);
        var after = await app.GetAsync("/who", alice);
        Assert.Equal(HttpStatusCode.Unauthorized, after.Status);
        Assert.Contains(after.Response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("__session=;", StringComparison.Ordinal) || c.Contains("Max-Age=0", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", bob)).Status);

        time.Advance(TimeSpan.FromSeconds(5)); // a sub logout ends sessions that began before it
        await registry.RecordAsync(new LogoutTokenClaims(null, "auth0|bob", "https://tenant.example.com/"), time.GetUtcNow().ToUnixTimeSeconds(), default);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", bob)).Status);
    }

    [Fact]
    public async Task A_cached_session_ends_at_its_inactivity_deadline_session_expiry_and_absolute_lifetime()
    {
        var time = new FakeTime();
        await using var app = await StartAsync(a =>
        {
            a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session();
            a.MapGet("/page", (HttpContext c) => Who(c)).RequireAuth0Login();
        }, time: time, options: o =>
        {
            o.Session.InactivityDuration = TimeSpan.FromMinutes(10);
            o.Session.AbsoluteDuration = TimeSpan.FromMinutes(30);
        });
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var plain = await app.CookieAsync("auth0|plain");
        var ceiling = await app.CookieAsync("auth0|ceiling", s => s.Internal.SessionExpiresAt = now + 120);
        var old = await app.CookieAsync("auth0|old", s => s.Internal.CreatedAt = now - 29 * 60);
        foreach (var cookie in new[] { plain, ceiling, old })
            for (var i = 0; i < 2; i++) Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", cookie)).Status);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", plain)).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", ceiling)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", old)).Status);
        Assert.Equal(HttpStatusCode.Found, (await app.GetAsync("/page", old)).Status);

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", plain)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", ceiling)).Status);

        time.Advance(TimeSpan.FromSeconds(8 * 60)); // the old cookie's exp (10 minutes of inactivity) has passed
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", plain)).Status);
        Assert.Equal(HttpStatusCode.Found, (await app.GetAsync("/page", plain)).Status);
    }

    /// <summary>
    /// Requests with the same cookie, all served from one cached session: one changes everything it can reach (its
    /// session object, the claims of HttpContext.User, a saved update), the others must keep seeing the original.
    /// </summary>
    [Fact]
    public async Task Concurrent_requests_with_one_cookie_cannot_change_each_others_session()
    {
        await using var app = await StartAsync(a =>
        {
            a.MapGet("/read", async (HttpContext c) =>
            {
                var s = await c.GetAuth0SessionAsync();
                return $"{Who(c)}|{s!.User.Sub}|{s.User.Name}|{s.TokenSet.AccessToken}|{s.TokenSet.RefreshToken}|{s.Internal.Sid}|{s.GetField("f")?.GetRawText() ?? "-"}|{c.User.IsInRole("admin")}|{c.User.Claims.Count()}";
            }).RequireAuth0Session();
            a.MapGet("/mutate", async (HttpContext c) =>
            {
                var identity = (ClaimsIdentity)c.User.Identity!;
                identity.AddClaim(new Claim("role", "admin"));
                identity.RemoveClaim(identity.FindFirst("name"));
                if (c.User.FindFirst("sub") is { } sub) identity.TryRemoveClaim(sub);
                var s = c.GetAuth0Session()!;
                s.User.Claims["sub"] = JsonSerializer.SerializeToElement("auth0|attacker");
                s.User.Claims["name"] = JsonSerializer.SerializeToElement("attacker");
                s.TokenSet.AccessToken = "changed";
                s.TokenSet.RefreshToken = "changed";
                s.Internal.Sid = "changed";
                s.SetField("f", JsonSerializer.SerializeToElement(1));
                await Task.Yield();
                return "mutated";
            }).RequireAuth0Session();
            a.MapGet("/update", async (HttpContext c) =>
            {
                await c.UpdateAuth0SessionAsync(s =>
                {
                    s.User.Claims["name"] = JsonSerializer.SerializeToElement("updated");
                    s.SetField("f", JsonSerializer.SerializeToElement(2));
                    s.Internal.Sid = "changed";
                });
                return c.GetAuth0Session()!.User.Name;
            }).RequireAuth0Session();
        });
        var cookie = await app.CookieAsync("auth0|alice");
        var expected = (await app.GetAsync("/read", cookie)).Body;
        Assert.StartsWith("name of auth0|alice|auth0|alice|auth0|alice|name of auth0|alice|test-access-token|rt-auth0|alice|sid-auth0|alice|-|False|", expected);

        var tasks = new List<Task<(HttpStatusCode Status, string Body, HttpResponseMessage Response)>>();
        for (var i = 0; i < 150; i++)
            tasks.Add(app.GetAsync((i % 3) switch { 0 => "/mutate", 1 => "/update", _ => "/read" }, cookie));
        var results = await Task.WhenAll(tasks);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, results[i].Status);
            if (i % 3 == 2) Assert.Equal(expected, results[i].Body);
            if (i % 3 == 1) Assert.Equal("updated", results[i].Body);
        }
        Assert.Equal(expected, (await app.GetAsync("/read", cookie)).Body);
    }

    [Fact]
    public async Task An_update_in_one_request_is_not_seen_by_a_request_with_the_old_cookie_but_is_with_the_new_one()
    {
        await using var app = await StartAsync(a =>
        {
            a.MapGet("/name", (HttpContext c) => c.GetAuth0Session()!.User.Name).RequireAuth0Session();
            a.MapGet("/update", async (HttpContext c) =>
            {
                await c.UpdateAuth0SessionAsync(s => s.User.Claims["name"] = JsonSerializer.SerializeToElement("updated"));
                return "ok";
            }).RequireAuth0Session();
        });
        var cookie = await app.CookieAsync("auth0|alice");
        Assert.Equal("name of auth0|alice", (await app.GetAsync("/name", cookie)).Body);
        var update = await app.GetAsync("/update", cookie);
        var written = update.Response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("__session=", StringComparison.Ordinal)).Split(';')[0];
        Assert.Equal("name of auth0|alice", (await app.GetAsync("/name", cookie)).Body);
        Assert.Equal("updated", (await app.GetAsync("/name", written)).Body);
        Assert.Equal("name of auth0|alice", (await app.GetAsync("/name", cookie)).Body);
    }

    [Fact]
    public async Task Errors_escaping_a_gated_endpoint_keep_their_meaning()
    {
        await using var app = await StartAsync(a =>
        {
            a.MapGet("/sdk-error", (HttpContext c) =>
            {
                throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "no");
#pragma warning disable CS0162
                return "x";
#pragma warning restore CS0162
            }).RequireAuth0Session();
            a.Map("/rd-sdk-error", (RequestDelegate)(_ => throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "no"))).RequireAuth0Session();
            a.Map("/started", (RequestDelegate)(async c =>
            {
                await c.Response.WriteAsync("partial");
                await c.Response.Body.FlushAsync();
                throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "no");
            })).RequireAuth0Session();
            a.Map("/cancelled", (RequestDelegate)(_ => throw new OperationCanceledException())).RequireAuth0Session();
        });
        var cookie = await app.CookieAsync("auth0|alice");
        var sdk = await app.GetAsync("/sdk-error", cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, sdk.Status);
        Assert.Contains("missing_session", sdk.Body);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/rd-sdk-error", cookie)).Status);
        // After the response started nothing more can be said: the body is not followed by an error document.
        try
        {
            var started = await app.GetAsync("/started", cookie);
            Assert.Equal(HttpStatusCode.OK, started.Status);
            Assert.DoesNotContain("missing_session", started.Body);
        }
        catch (HttpRequestException) { } // the server aborts the response
        var cancelled = await app.GetAsync("/cancelled", cookie);
        Assert.NotEqual(HttpStatusCode.OK, cancelled.Status);
        // Anonymous: the endpoint (and its exception) never runs.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/started")).Status);
    }

    [Fact]
    public async Task With_a_session_store_the_gate_and_logouts_hold()
    {
        await using var app = await StartAsync(
            a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session(),
            s => { s.AddDistributedMemoryCache(); s.AddAuth0DistributedSessionStore(); });
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who")).Status);
        var cookie = await app.CookieAsync("auth0|alice");
        Assert.Equal((HttpStatusCode.OK, "name of auth0|alice|auth0|alice"), ((await app.GetAsync("/who", cookie)).Status, (await app.GetAsync("/who", cookie)).Body));
        var registry = app.Web.Services.GetRequiredService<LogoutRegistry>();
        await registry.RecordAsync(new LogoutTokenClaims("sid-auth0|alice", null, "https://tenant.example.com/"),
            app.Web.Services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeSeconds(), default);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.GetAsync("/who", cookie)).Status);
    }

    /// <summary>Through Kestrel: a tab before the cookie name (legal in a header value) signs a valid session out.</summary>
    [Fact]
    public async Task A_session_cookie_after_a_tab_is_read_through_the_server()
    {
        await using var app = await StartAsync(a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session());
        var cookie = await app.CookieAsync("auth0|alice");
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", cookie)).Status);
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", "a=b;\t" + cookie)).Status);
    }

    [Fact]
    public async Task Hostile_cookie_headers_through_the_server_never_authenticate_a_tampered_or_foreign_value()
    {
        await using var app = await StartAsync(a => a.MapGet("/who", (HttpContext c) => Who(c)).RequireAuth0Session());
        var cookie = await app.CookieAsync("auth0|alice");
        var value = cookie["__session=".Length..];
        Assert.Equal(HttpStatusCode.OK, (await app.GetAsync("/who", cookie)).Status);
        var huge = string.Join("; ", Enumerable.Range(0, 400).Select(i => $"__session__{i}=x"));
        foreach (var header in new[]
        {
            "__session=" + value[..^1],
            "__session=" + value + "x",
            "__session=x" + value,
            "__session_x=" + value,
            "__Session=" + value,
            "__session=" + value.Replace('.', '%'),
            "__session__0=" + value[..30] + "; __session__2=" + value[30..],
            "__session__0=" + value + "; __session__1=" + value[^22..],
            huge,
        })
        {
            var result = await app.GetAsync("/who", header);
            Assert.True(result.Status is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest or HttpStatusCode.RequestHeaderFieldsTooLarge,
                header.Length > 80 ? header[..80] : header);
        }
    }
}

[ApiController]
public sealed class HotPathGatedController : ControllerBase
{
    [HttpGet("/mvc/who")]
    public string Get() => HotPathHostileTests.Who(HttpContext);
}
