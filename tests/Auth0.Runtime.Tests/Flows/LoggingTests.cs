using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Auth0.Minimal.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.Tests.Flows;

[Collection(IdpCollection.Name)]
public class LoggingTests(IdpFixture idp)
{
    [Fact]
    public void Every_log_message_has_its_own_stable_event_id()
    {
        var messages = typeof(Auth0Options).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();
        Assert.True(messages.Count >= 20, "found only " + messages.Count);
        Assert.All(messages, m => Assert.InRange(m.Attribute!.EventId, 1000, 1999));
        var duplicates = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1)
            .Select(g => g.Key + ": " + string.Join(", ", g.Select(m => m.Method.DeclaringType!.Name + "." + m.Method.Name)));
        Assert.Empty(duplicates);
    }

    [Fact]
    public async Task No_token_secret_or_cookie_value_reaches_any_log_line_at_any_level()
    {
        var capture = new CapturingLoggerProvider();
        await idp.SetFaultsAsync(new { accessTokenTtl = 2 });
        try
        {
            await using var app = await TestApp.StartAsync(idp, services: s =>
            {
                s.AddSingleton<ILoggerProvider>(capture);
                s.Configure<LoggerFilterOptions>(o => o.MinLevel = LogLevel.Trace);
            });
            using var browser = new TestBrowser();
            await browser.LoginAsync(app, loginQuery: "audience=" + Uri.EscapeDataString("https://orders.example.com"));
            var secrets = new List<string> { TestApp.Secret, Sample.LocalIdentityProvider.ClientSecret };
            void Remember()
            {
                foreach (var cookie in browser.AppCookies(app.BaseUrl)) secrets.Add(cookie.Value);
                var cookies = browser.AppCookies(app.BaseUrl).ToDictionary(c => c.Name, c => Uri.UnescapeDataString(c.Value));
                var store = TestSessions.Store(TestApp.Secret);
                var session = store.Decode(store.ReadRaw(new TestCookies(cookies)));
                if (session is null) return;
                secrets.AddRange(new[] { session.TokenSet.AccessToken, session.TokenSet.RefreshToken, session.TokenSet.IdToken }.OfType<string>());
                secrets.AddRange(session.AccessTokens?.Select(t => t.AccessToken).OfType<string>() ?? []);
                secrets.AddRange(session.ConnectionTokenSets?.Select(t => t.AccessToken).OfType<string>() ?? []);
            }
            Remember();

            await Task.Delay(TimeSpan.FromSeconds(2.5)); // expired: the next calls refresh
            Assert.Equal(System.Net.HttpStatusCode.OK, (await browser.GetAsync(app.BaseUrl + "/orders")).StatusCode);
            await browser.GetAsync(app.BaseUrl + "/token/analytics");
            await browser.GetAsync(app.BaseUrl + "/connection/google-oauth2");
            await browser.GetAsync(app.BaseUrl + "/auth/access-token?audience=" + Uri.EscapeDataString("https://nope.example.com"));
            await browser.GetAsync(app.BaseUrl + "/auth/callback?code=forged&state=forged");
            Remember();
            await browser.GetAsync(app.BaseUrl + "/auth/logout");

            secrets.RemoveAll(s => s.Length < 16);
            Assert.True(secrets.Count >= 8, "too few secrets collected: " + secrets.Count);
            var lines = capture.Lines.ToArray();
            Assert.Contains(lines, l => l.Contains("Refreshing the access token", StringComparison.Ordinal)); // debug lines were captured
            foreach (var line in lines)
                foreach (var secret in secrets)
                    Assert.False(line.Contains(secret, StringComparison.Ordinal), $"a secret reached the log: {line[..Math.Min(200, line.Length)]}");
        }
        finally
        {
            await idp.SetFaultsAsync(new { accessTokenTtl = (int?)null });
        }
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);
        public void Dispose() { }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The message, every structured value and the whole exception: what any log sink could store.
                var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => p.Key + "=" + p.Value)) : "";
                lines.Enqueue($"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)} {values} {exception}");
            }
        }
    }
}
