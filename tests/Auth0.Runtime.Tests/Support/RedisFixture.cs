using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Auth0.Minimal.Tests.Support;

/// <summary>
/// A real redis-server on a free loopback port, started for the test run and stopped after. When the binary is missing
/// and the tests run as root with apt-get available (CI, fresh Debian machines), it is installed first.
/// </summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private Process? _process;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var binary = await EnsureInstalledAsync();
        var port = FreePort();
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no", "--protected-mode", "yes"])
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                ConnectionString = $"127.0.0.1:{port},abortConnect=false,connectTimeout=2000";
                return;
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        throw new InvalidOperationException("redis-server did not start.");
    }

    private static async Task<string> EnsureInstalledAsync()
    {
        foreach (var path in (string[])["/usr/bin/redis-server", "/usr/local/bin/redis-server"])
            if (File.Exists(path)) return path;
        if (Environment.UserName == "root" && File.Exists("/usr/bin/apt-get"))
        {
            await Run("apt-get", "update -qq");
            await Run("apt-get", "install -y -qq redis-server");
            if (File.Exists("/usr/bin/redis-server")) return "/usr/bin/redis-server";
        }
        throw new InvalidOperationException("The session store tests need redis-server: apt-get install -y redis-server");
    }

    private static async Task Run(string file, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public Task DisposeAsync()
    {
        try { if (_process is { HasExited: false }) _process.Kill(); } catch (InvalidOperationException) { }
        _process?.Dispose();
        return Task.CompletedTask;
    }
}
