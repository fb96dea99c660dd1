using System.Diagnostics;
using System.Text.Json;

namespace Auth0.Minimal.Sample;

/// <summary>
/// Starts the bundled OpenID provider (tools/local-idp, built on oidc-provider) on a free loopback port, so the
/// sample and the tests need no Auth0 tenant. Installs its npm packages on first use.
/// </summary>
public sealed class LocalIdentityProvider : IAsyncDisposable
{
    public const string ClientId = "auth0-minimal-sample";
    public const string ClientSecret = "local-dev-client-secret-0123456789abcdef";
    private const string ReadyPrefix = "LOCAL_IDP_READY ";

    private readonly Process _process;

    private LocalIdentityProvider(Process process, string issuer, int port)
    {
        _process = process;
        Issuer = issuer;
        Port = port;
    }

    /// <summary>For example <c>http://127.0.0.1:43123/</c>.</summary>
    public string Issuer { get; }
    public int Port { get; }

    public static async Task<LocalIdentityProvider> StartAsync(bool testControls = false, TextWriter? log = null, CancellationToken ct = default)
    {
        var directory = FindDirectory();
        await EnsureNpmPackagesAsync(directory, "oidc-provider", log, ct).ConfigureAwait(false);

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["server.mjs", "--port", "0", "--exit-on-stdin-close", "--client-id", ClientId, "--client-secret", ClientSecret])
            start.ArgumentList.Add(arg);
        if (testControls) start.ArgumentList.Add("--test-controls");

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start node.");
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { ready.TrySetException(new InvalidOperationException("The local identity provider exited.\n" + stderr)); return; }
            if (e.Data.StartsWith(ReadyPrefix, StringComparison.Ordinal)) ready.TrySetResult(e.Data[ReadyPrefix.Length..]);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            log?.WriteLine(e.Data);
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            var line = await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
            using var json = JsonDocument.Parse(line);
            var issuer = json.RootElement.GetProperty("issuer").GetString()!;
            var port = json.RootElement.GetProperty("port").GetInt32();
            return new LocalIdentityProvider(process, issuer, port);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>tools/local-idp, found by walking up from the current and the application directory.</summary>
    public static string FindDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tools", "local-idp");
                if (File.Exists(Path.Combine(candidate, "server.mjs"))) return candidate;
            }
        }
        throw new DirectoryNotFoundException("tools/local-idp was not found above the current directory; run from the repository.");
    }

    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>Runs <c>npm ci</c> in <paramref name="directory"/> unless <paramref name="markerPackage"/> is installed.</summary>
    public static async Task EnsureNpmPackagesAsync(string directory, string markerPackage, TextWriter? log, CancellationToken ct)
    {
        await InstallGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Directory.Exists(Path.Combine(directory, "node_modules", markerPackage))) return;
            log?.WriteLine($"Installing npm packages in {directory} ...");
            var npm = new ProcessStartInfo("npm") { WorkingDirectory = directory, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["ci", "--no-audit", "--no-fund", "--loglevel=error"]) npm.ArgumentList.Add(arg);
            using var process = Process.Start(npm) ?? throw new InvalidOperationException("Could not start npm.");
            var output = process.StandardOutput.ReadToEndAsync(ct);
            var errors = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"npm ci failed in {directory}:\n{await output}\n{await errors}");
        }
        finally { InstallGate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        Kill(_process);
        try { await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); } catch (TimeoutException) { }
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    }
}
