using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Auth0.Minimal.Tests.Browser;

/// <summary>The sample as a person uses it, in a real Chromium: the provider's login form, script calls, logout.</summary>
[Collection(BrowserCollection.Name)]
public partial class SampleInTheBrowserTests(BrowserFixture fixture)
{
    private string BaseUrl => fixture.Sample.BaseUrl;

    // Each test gets its own browser profile (cookies), and a screenshot when it fails.
    private async Task InContextAsync(string name, Func<IBrowserContext, Task> test)
    {
        await using var context = await fixture.Browser.NewContextAsync();
        context.SetDefaultTimeout(15_000);
        try
        {
            await test(context);
        }
        catch
        {
            var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(folder);
            for (var i = 0; i < context.Pages.Count; i++)
                await context.Pages[i].ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, $"{name}-{i}.png"), FullPage = true });
            throw;
        }
    }

    private static async Task SignInOnTheProviderAsync(IPage page, string user, string password)
    {
        await page.WaitForURLAsync(new Regex("/interaction/"));
        await page.FillAsync("input[name=login]", user);
        await page.FillAsync("input[name=password]", password);
        await page.ClickAsync("button[type=submit]");
    }

    [Fact]
    public Task A_user_logs_in_sees_their_name_and_orders_gets_a_token_and_logs_out() => InContextAsync(nameof(A_user_logs_in_sees_their_name_and_orders_gets_a_token_and_logs_out), async context =>
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(BaseUrl + "/app");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed out");

        await page.ClickAsync("#login");
        await SignInOnTheProviderAsync(page, "alice", "alice-password");
        await page.WaitForURLAsync(BaseUrl + "/app");
        await Assertions.Expect(page.Locator("#user-name")).ToHaveTextAsync("Alice Example");
        await Assertions.Expect(page.Locator("#user-email")).ToHaveTextAsync("alice@example.com");

        await page.ClickAsync("#load-orders");
        await Assertions.Expect(page.Locator("#orders .order")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#orders .order").First).ToHaveTextAsync("2 × Coffee beans");

        await page.ClickAsync("#get-token");
        await Assertions.Expect(page.Locator("#token")).ToHaveTextAsync(new Regex(@"^Token of \d+ characters, expires in \d+ s$"));

        // Logout goes through the provider's end-session page (which submits itself) and back to the app.
        await page.ClickAsync("#logout");
        await page.WaitForURLAsync(BaseUrl + "/app");
        await Assertions.Expect(page.Locator("#status")).ToHaveTextAsync("Signed out");
        Assert.DoesNotContain(await context.CookiesAsync([BaseUrl]), c => c.Name.StartsWith("__session", StringComparison.Ordinal));
    });

    [Fact]
    public Task Two_tabs_logging_in_at_once_both_end_signed_in() => InContextAsync(nameof(Two_tabs_logging_in_at_once_both_end_signed_in), async context =>
    {
        var first = await context.NewPageAsync();
        var second = await context.NewPageAsync();
        await first.GotoAsync(BaseUrl + "/auth/login?returnTo=%2Faccount%2Ffirst");
        await second.GotoAsync(BaseUrl + "/auth/login?returnTo=%2Faccount%2Fsecond");
        Assert.Equal(2, (await context.CookiesAsync([BaseUrl])).Count(c => c.Name.StartsWith("__txn_", StringComparison.Ordinal)));

        await SignInOnTheProviderAsync(second, "alice", "alice-password");
        await second.WaitForURLAsync(BaseUrl + "/account/second");
        await SignInOnTheProviderAsync(first, "alice", "alice-password");
        await first.WaitForURLAsync(BaseUrl + "/account/first");
        await Assertions.Expect(first.Locator("#user-name")).ToHaveTextAsync("Alice Example");
        await Assertions.Expect(second.Locator("#section")).ToHaveTextAsync("second");
        Assert.DoesNotContain(await context.CookiesAsync([BaseUrl]), c => c.Name.StartsWith("__txn_", StringComparison.Ordinal));
    });

    [Fact]
    public Task A_deep_link_comes_back_to_the_same_page_after_login() => InContextAsync(nameof(A_deep_link_comes_back_to_the_same_page_after_login), async context =>
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(BaseUrl + "/account/orders?view=compact&audience=https%3A%2F%2Fevil.example");
        await SignInOnTheProviderAsync(page, "bob", "bob-password");
        await page.WaitForURLAsync(BaseUrl + "/account/orders?view=compact&audience=https%3A%2F%2Fevil.example");
        await Assertions.Expect(page.Locator("#section")).ToHaveTextAsync("orders");
        await Assertions.Expect(page.Locator("#view")).ToHaveTextAsync("compact");
        await Assertions.Expect(page.Locator("#user-name")).ToHaveTextAsync("Bob Builder");
    });

    [Fact]
    public Task A_session_too_big_for_one_cookie_is_split_into_chunks_and_still_works() => InContextAsync(nameof(A_session_too_big_for_one_cookie_is_split_into_chunks_and_still_works), async context =>
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync(BaseUrl + "/auth/login?returnTo=%2Fapp");
        await SignInOnTheProviderAsync(page, "big", "big-password");
        await page.WaitForURLAsync(BaseUrl + "/app");
        await Assertions.Expect(page.Locator("#user-name")).ToHaveTextAsync("Big Claims");

        var chunks = (await context.CookiesAsync([BaseUrl])).Where(c => c.Name.StartsWith("__session__", StringComparison.Ordinal)).ToList();
        Assert.True(chunks.Count >= 2, "expected a chunked session, got: " + string.Join(", ", chunks.Select(c => c.Name)));
        Assert.All(chunks, c => Assert.True(c.HttpOnly));
        await page.ClickAsync("#load-orders");
        await Assertions.Expect(page.Locator("#orders .order")).ToHaveCountAsync(2);
    });
}
