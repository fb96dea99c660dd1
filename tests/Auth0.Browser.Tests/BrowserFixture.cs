using System.Diagnostics;
using Microsoft.Playwright;

namespace Auth0.Minimal.Tests.Browser;

/// <summary>One headless Chromium (Debian's, never a downloaded one) and one sample process for the whole run.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;
    public Support.SampleProcess Sample { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await EnsureChromiumAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        });
        Sample = await Support.SampleProcess.StartAsync(native: false);
    }

    public async Task DisposeAsync()
    {
        if (Sample is not null) await Sample.DisposeAsync();
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    // As with redis-server: installed through apt-get when missing and the tests run as root on Debian.
    private static async Task EnsureChromiumAsync()
    {
        if (File.Exists(ChromiumPath)) return;
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
            throw new InvalidOperationException($"Chromium is needed at {ChromiumPath}: apt-get install -y chromium");
        foreach (var args in (string[])["update -qq", "install -y -qq chromium"])
        {
            using var apt = Process.Start(new ProcessStartInfo("apt-get", args) { Environment = { ["DEBIAN_FRONTEND"] = "noninteractive" } })!;
            await apt.WaitForExitAsync();
        }
        if (!File.Exists(ChromiumPath)) throw new InvalidOperationException("apt-get install chromium did not provide " + ChromiumPath);
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
