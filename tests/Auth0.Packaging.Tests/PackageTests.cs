using System.Diagnostics;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace Auth0.Packaging.Tests;

/// <summary>
/// Packs Auth0.Minimal and Auth0.Minimal.Testing into a local feed and builds and tests a fresh app that uses only
/// those packages, so the generator is proven to run from the package rather than from a project reference.
/// </summary>
public sealed class PackageTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task PackagesBuildAndRunAFreshApp()
    {
        // A version no NuGet cache can hold yet, so every run restores the packages it has just made.
        var version = $"0.0.0-pkgtest.{DateTime.UtcNow:yyyyMMddHHmmss}.{RandomNumberGenerator.GetInt32(1_000_000)}";
        var root = Directory.CreateTempSubdirectory("auth0-packaging-").FullName;
        var feed = Path.Combine(root, "feed");
        var succeeded = false;
        try
        {
            await PackAsync(root, feed, version);
            CheckPackages(feed, version);

            CopyDirectory(Path.Combine(Metadata("RepoRoot"), "tests", "Auth0.Packaging.Tests", "Consumer"), root);
            WriteConsumerSettings(root, version);
            await DotNetAsync(root, "test", Path.Combine("App.Tests", "PackagedApp.Tests.csproj"), "-c", "Debug");

            Assert.True(Directory.Exists(Path.Combine(root, "packages", "auth0.minimal", version)), "Auth0.Minimal was not restored from the local feed.");
            var generated = Path.Combine(root, "App", "obj", "Debug", "net10.0", "generated", "Auth0.Generators", "Auth0.Generators.Auth0Generator");
            Assert.True(File.Exists(Path.Combine(generated, "Auth0.Api.Orders.g.cs")), "The packaged generator did not emit the Orders API client.");
            succeeded = true;
        }
        finally
        {
            // A failed run keeps its folder for a look at what was built.
            if (succeeded) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Packs the outputs this project's build already produced (the project references build them first), in one
    /// dotnet process for both packages: a rebuild here would only redo that work.
    /// </summary>
    private static async Task PackAsync(string root, string feed, string version)
    {
        var repo = Metadata("RepoRoot");
        var solution = Path.Combine(root, "pack.slnx");
        File.WriteAllText(solution, $"""
            <Solution>
              <Project Path="{Path.Combine(repo, "src", "Auth0.Runtime", "Auth0.Runtime.csproj")}" />
              <Project Path="{Path.Combine(repo, "src", "Auth0.Testing", "Auth0.Testing.csproj")}" />
            </Solution>
            """);
        await DotNetAsync(root, "pack", solution, "--no-build", "-c", Metadata("Configuration"), "-o", feed,
            "-p:Version=" + version, "-p:NuspecOutputPath=" + Path.Combine(root, "nuspec") + Path.DirectorySeparatorChar);
    }

    private static void CheckPackages(string feed, string version)
    {
        var runtime = Entries(Path.Combine(feed, $"Auth0.Minimal.{version}.nupkg"));
        Assert.Contains("lib/net10.0/Auth0.Minimal.dll", runtime.Keys);
        Assert.Contains("analyzers/dotnet/cs/Auth0.Generators.dll", runtime.Keys);
        Assert.Contains("buildTransitive/Auth0.Minimal.props", runtime.Keys);
        // The generator project is in the graph only to be built, never a dependency of the package.
        Assert.DoesNotContain("Auth0.Generators\"", runtime["Auth0.Minimal.nuspec"], StringComparison.Ordinal);
        // The generator runs inside the compiler, which brings its own Roslyn.
        Assert.DoesNotContain(runtime.Keys, e => e.Contains("Microsoft.CodeAnalysis", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(runtime.Keys, e => e.Contains("Testing", StringComparison.Ordinal));
        Assert.DoesNotContain("PublicApiAnalyzers", runtime["Auth0.Minimal.nuspec"], StringComparison.Ordinal);

        var testing = Entries(Path.Combine(feed, $"Auth0.Minimal.Testing.{version}.nupkg"));
        Assert.Contains("lib/net10.0/Auth0.Minimal.Testing.dll", testing.Keys);
        // It uses the runtime's internals, so only the exact runtime version it was built with will do.
        Assert.Contains($"<dependency id=\"Auth0.Minimal\" version=\"[{version}]\"", testing["Auth0.Minimal.Testing.nuspec"], StringComparison.Ordinal);
    }

    /// <summary>Entry names of a package, with the text of its nuspec.</summary>
    private static Dictionary<string, string> Entries(string package)
    {
        Assert.True(File.Exists(package), "Missing package " + package);
        using var zip = ZipFile.OpenRead(package);
        return zip.Entries.ToDictionary(e => e.FullName, e =>
        {
            if (!e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)) return "";
            using var reader = new StreamReader(e.Open());
            return reader.ReadToEnd();
        });
    }

    /// <summary>
    /// The consumer's own NuGet and MSBuild settings: our packages from the local feed only, everything else from
    /// nuget.org, a fresh packages folder for the new version, and the machine's packages folder as a read-only
    /// fallback so dependencies it already holds are not downloaded again. The empty Directory.Build.targets and
    /// this Directory.Build.props stop MSBuild from picking up files from the folders above.
    /// </summary>
    private static void WriteConsumerSettings(string root, string version)
    {
        File.WriteAllText(Path.Combine(root, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config>
                <add key="globalPackagesFolder" value="packages" />
              </config>
              <packageSources>
                <clear />
                <add key="local" value="feed" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local">
                  <package pattern="Auth0.Minimal" />
                  <package pattern="Auth0.Minimal.Testing" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
              <fallbackPackageFolders>
                <clear />
                <add key="machine" value="{Metadata("NuGetPackageRoot")}" />
              </fallbackPackageFolders>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(root, "Directory.Build.props"), $"""
            <Project>
              <PropertyGroup>
                <Auth0MinimalVersion>{version}</Auth0MinimalVersion>
                <AspNetPackageVersion>{Metadata("AspNetPackageVersion")}</AspNetPackageVersion>
                <!-- The repo's own restore audits these dependencies; here it would only add a network round trip. -->
                <NuGetAudit>false</NuGetAudit>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(root, "Directory.Build.targets"), "<Project />\n");
    }

    /// <summary>Runs dotnet; a failure or a timeout fails the test with the command's whole output.</summary>
    private static async Task DotNetAsync(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // What the outer dotnet test hands its test host would steer these builds, and the NuGet variables would win
        // over the consumer's nuget.config.
        foreach (var name in start.Environment.Keys.ToArray())
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("NUGET_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase))
                start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1"; // leave no build nodes running after the test
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        var watch = Stopwatch.StartNew();
        process.Start();
        // Other test projects run at the same time; this one yields the CPU to them.
        try { process.PriorityClass = ProcessPriorityClass.BelowNormal; } catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(CommandTimeout);
        var timedOut = false;
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        await process.WaitForExitAsync(); // flushes the redirected output

        if (timedOut || process.ExitCode != 0)
        {
            string text;
            lock (output) text = output.ToString();
            Assert.Fail($"dotnet {string.Join(' ', args)} (in {workingDirectory}) "
                + (timedOut ? $"did not finish in {CommandTimeout}" : $"exited with {process.ExitCode} after {watch.Elapsed.TotalSeconds:F0} s")
                + ":\n" + text);
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj")) continue;
            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    private static string Metadata(string key) =>
        typeof(PackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException("No assembly metadata " + key);
}
