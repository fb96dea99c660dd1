using System.Net;
using System.Security.Claims;
using System.Text.Json;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Flows;

/// <summary>
/// A verified cookie's session is shared by every request that sends it: what one request changes (its own copy) must
/// never reach the next, and a re-issued cookie is remembered so the old one is not re-issued again at once.
/// </summary>
[Collection(IdpCollection.Name)]
public class SharedSessionTests(IdpFixture idp)
{
    private static string Describe(HttpContext context, Auth0Session session) => string.Join("|",
        session.User.Sub, session.User.Name, session.TokenSet.AccessToken, session.TokenSet.RefreshToken, session.Internal.Sid,
        session.GetField("planted")?.GetRawText() ?? "-", session.AccessTokens?.Count ?? 0,
        context.User.FindFirst("name")?.Value ?? "-", context.User.FindFirst("planted")?.Value ?? "-");

    private static void Vandalise(HttpContext context, Auth0Session session)
    {
        session.User.Claims["name"] = JsonSerializer.SerializeToElement("Mallory");
        session.User.Claims.Remove("sub");
        session.TokenSet.AccessToken = "changed";
        session.TokenSet.RefreshToken = null;
        session.Internal.Sid = "changed";
        session.SetField("planted", JsonSerializer.SerializeToElement(true));
        (session.AccessTokens ??= []).Add(new AccessTokenSet { AccessToken = "planted", Audience = "https://planted.example" });
        var identity = (ClaimsIdentity)context.User.Identity!;
        identity.AddClaim(new Claim("planted", "yes"));
        identity.RemoveClaim(identity.FindFirst("name"));
    }

    private static void MapEndpoints(WebApplication app)
    {
        app.MapGet("/shared/read", (HttpContext context) => Results.Text(Describe(context, context.GetAuth0Session()!))).RequireAuth0Session();
        app.MapGet("/shared/mutate-sync", (HttpContext context) =>
        {
            Vandalise(context, context.GetAuth0Session()!);
            return Results.Text(Describe(context, context.GetAuth0Session()!));
        }).RequireAuth0Session();
        app.MapGet("/shared/mutate-async", async (HttpContext context) =>
        {
            Vandalise(context, (await context.GetAuth0SessionAsync())!);
            return Results.Text(Describe(context, (await context.GetAuth0SessionAsync())!));
        }).RequireAuth0Session();
        // Not behind the gate: the session was loaded by the authentication middleware alone.
        app.MapGet("/shared/mutate-plain", (HttpContext context) =>
        {
            Vandalise(context, context.GetAuth0Session()!);
            return Results.Text("mutated");
        });
        app.MapGet("/shared/mutate-then-throw", IResult (HttpContext context) =>
        {
            Vandalise(context, context.GetAuth0Session()!);
            throw new AccessTokenException(Auth0ErrorCodes.FailedToRefreshToken, "The access token could not be refreshed.");
        }).RequireAuth0Session();
        app.MapPost("/shared/update", async (HttpContext context) =>
        {
            await context.UpdateAuth0SessionAsync(s => s.User.Claims["name"] = JsonSerializer.SerializeToElement("Updated"));
            return Results.Text("updated");
        }).RequireAuth0Session();
    }

    private static string CookieFor(TestApp app)
    {
        var jar = new ResponseCookieJar();
        app.Services.GetRequiredService<SessionCookieStore>().Write(TestSessions.Session(), new TestCookies(), jar);
        return "__session=" + TestCookies.FromJar(jar)["__session"];
    }

    private static async Task<HttpResponseMessage> SendAsync(TestApp app, HttpMethod method, string path, string cookies)
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        using var request = new HttpRequestMessage(method, app.BaseUrl + path);
        request.Headers.Add("Cookie", cookies);
        return await http.SendAsync(request);
    }

    private static async Task<string> ReadAsync(TestApp app, string cookies)
    {
        var response = await SendAsync(app, HttpMethod.Get, "/shared/read", cookies);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private static string? SessionCookieSet(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var headers)
            ? headers.FirstOrDefault(h => h.StartsWith("__session=", StringComparison.Ordinal))
            : null;

    [Fact]
    public async Task Changing_the_session_in_one_request_changes_nothing_for_the_next_request_with_the_same_cookie()
    {
        // A clock that stands still: no request re-issues the cookie, so every one of them sends the very same value.
        var clock = new FakeTime();
        await using var app = await TestApp.StartAsync(idp, services: s => s.AddSingleton<TimeProvider>(clock), endpoints: MapEndpoints);
        var cookie = CookieFor(app);
        var original = await ReadAsync(app, cookie);
        Assert.Equal("auth0|alice|Alice Example|at|rt|sid-1|-|0|Alice Example|-", original);
        Assert.Equal(original, await ReadAsync(app, cookie)); // now from the verified cache

        foreach (var path in (string[])["/shared/mutate-sync", "/shared/mutate-async", "/shared/mutate-plain", "/shared/mutate-sync"])
        {
            var mutated = await SendAsync(app, HttpMethod.Get, path, cookie);
            Assert.Equal(HttpStatusCode.OK, mutated.StatusCode);
            if (path != "/shared/mutate-plain")
                Assert.Equal("|Mallory|changed||changed|true|1|-|yes", await mutated.Content.ReadAsStringAsync()); // the request sees its change
            Assert.Null(SessionCookieSet(mutated)); // never saved
            Assert.True(original == await ReadAsync(app, cookie), "after " + path);
        }

        var failed = await SendAsync(app, HttpMethod.Get, "/shared/mutate-then-throw", cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        Assert.Equal(original, await ReadAsync(app, cookie));
    }

    [Fact]
    public async Task A_saved_change_goes_into_the_new_cookie_and_leaves_the_old_cookie_as_it_was()
    {
        var clock = new FakeTime();
        await using var app = await TestApp.StartAsync(idp, services: s => s.AddSingleton<TimeProvider>(clock), endpoints: MapEndpoints);
        var cookie = CookieFor(app);
        var original = await ReadAsync(app, cookie);

        var update = await SendAsync(app, HttpMethod.Post, "/shared/update", cookie);
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        var written = SessionCookieSet(update);
        Assert.NotNull(written);
        var updated = written.Split(';')[0];

        Assert.Equal(original.Replace("Alice Example", "Updated"), await ReadAsync(app, updated));
        Assert.Equal(original, await ReadAsync(app, cookie));
        Assert.Equal(original.Replace("Alice Example", "Updated"), await ReadAsync(app, updated));
    }

    [Theory]
    [InlineData(86400, 60)] // a day of inactivity: re-issued at most once a minute
    [InlineData(300, 30)] // five minutes: a tenth of that
    public async Task An_old_cookie_sent_again_just_after_it_was_reissued_is_not_reissued_again_until_the_throttle_passes(int inactivitySeconds, int throttleSeconds)
    {
        var clock = new FakeTime();
        await using var app = await TestApp.StartAsync(idp,
            options: o => o.Session.InactivityDuration = TimeSpan.FromSeconds(inactivitySeconds),
            services: s => s.AddSingleton<TimeProvider>(clock), endpoints: MapEndpoints);
        var old = CookieFor(app);

        async Task<string?> Reissued(string cookies, string when)
        {
            var response = await SendAsync(app, HttpMethod.Get, "/api/me", cookies);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{when}: {(int)response.StatusCode}");
            Assert.Contains("no-store", response.Headers.CacheControl!.ToString());
            return SessionCookieSet(response);
        }

        Assert.Null(await Reissued(old, "at once"));
        clock.Advance(TimeSpan.FromSeconds(throttleSeconds + 1));
        var reissued = await Reissued(old, "past the throttle");
        Assert.NotNull(reissued);
        Assert.Contains($"Max-Age={inactivitySeconds}", reissued);
        var fresh = reissued.Split(';')[0];

        // Requests that were in flight with the old cookie (or a client that ignored the Set-Cookie) do not re-issue it again.
        clock.Advance(TimeSpan.FromSeconds(throttleSeconds / 2));
        Assert.Null(await Reissued(old, "old cookie, just after the re-issue"));
        Assert.Null(await Reissued(fresh, "new cookie, just after the re-issue"));
        Assert.Null(await Reissued(old, "old cookie again"));

        // Once the throttle has passed since the re-issue, either cookie is re-issued again.
        clock.Advance(TimeSpan.FromSeconds(throttleSeconds - throttleSeconds / 2 + 1));
        var again = await Reissued(old, "old cookie, past the throttle since the re-issue");
        Assert.NotNull(again);
        Assert.Contains($"Max-Age={inactivitySeconds}", again);
        Assert.NotNull(await Reissued(fresh, "new cookie, past the throttle"));
        Assert.Null(await Reissued(again.Split(';')[0], "the latest cookie"));
    }
}
