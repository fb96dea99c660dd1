using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Auth0.Minimal.Tests.Support;

/// <summary>
/// The sample app as a user runs it: its own process (under `dotnet` or as the Native AOT binary), starting the
/// bundled identity provider by itself.
/// </summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;

    private SampleProcess(Process process, StringBuilder output, string baseUrl)
    {
        _process = process;
        _output = output;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string Output { get { lock (_output) return _output.ToString(); } }

    public static string NativeBinary => Path.Combine(RepoPaths.Root, "artifacts", "aot", "Auth0.Minimal.Sample");

    public static async Task<SampleProcess> StartAsync(bool native)
    {
        var port = FreePort();
        var baseUrl = $"http://127.0.0.1:{port}";
        var start = native ? new ProcessStartInfo(await EnsureNativeBinaryAsync()) : new ProcessStartInfo("dotnet") { ArgumentList = { JitAssembly() } };
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseUrl);
        start.Environment["APP_BASE_URL"] = baseUrl;
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var name in (string[])["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_SECRET", "ORDERS_API_URL"]) start.Environment.Remove(name);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;

        var output = new StringBuilder();
        var process = Process.Start(start) ?? throw new InvalidOperationException("the sample did not start");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var sample = new SampleProcess(process, output, baseUrl);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90); // the first run may install the provider's npm packages
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) break;
            try
            {
                if ((await http.GetAsync(baseUrl + "/")).StatusCode == HttpStatusCode.OK) return sample;
            }
            catch (HttpRequestException) { }
            await Task.Delay(200);
        }
        var log = sample.Output;
        await sample.DisposeAsync();
        throw new InvalidOperationException("the sample never answered GET /:\n" + log);
    }

    private static string JitAssembly()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = Path.Combine(RepoPaths.Root, "samples", "Auth0.Minimal.Sample", "bin", configuration, "net10.0", "Auth0.Minimal.Sample.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build the sample first (dotnet build Auth0.Minimal.sln)", path);
    }

    private static readonly SemaphoreSlim PublishGate = new(1, 1);

    // CI publishes the binary before the tests run (with warnings as errors); a local run publishes it once here.
    private static async Task<string> EnsureNativeBinaryAsync()
    {
        await PublishGate.WaitAsync();
        try
        {
            if (File.Exists(NativeBinary) && !SourcesNewerThan(File.GetLastWriteTimeUtc(NativeBinary))) return NativeBinary;
            var publish = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    "publish", Path.Combine(RepoPaths.Root, "samples", "Auth0.Minimal.Sample"), "-c", "Release", "-r", "linux-x64",
                    "-o", Path.GetDirectoryName(NativeBinary)!, "-p:TreatWarningsAsErrors=true", "-p:CppCompilerAndLinker=gcc", "-nologo",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(publish)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0 || !File.Exists(NativeBinary))
                throw new InvalidOperationException("the Native AOT publish failed:\n" + await stdout + await stderr);
            return NativeBinary;
        }
        finally
        {
            PublishGate.Release();
        }
    }

    // A binary older than the code it was built from would test yesterday's app.
    private static bool SourcesNewerThan(DateTime builtAt) =>
        new[] { "src", "samples" }.SelectMany(folder => Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, folder), "*.*", SearchOption.AllDirectories))
            .Where(path => (path.EndsWith(".cs", StringComparison.Ordinal) || path.EndsWith(".csproj", StringComparison.Ordinal))
                && !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Any(path => File.GetLastWriteTimeUtc(path) > builtAt);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
