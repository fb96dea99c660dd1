using Auth0.Minimal.Benchmarks;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

if (args is ["refresh-race", ..])
    return await RefreshRaceCheck.RunAsync(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2000);

// Results go next to this project (git-ignored) rather than into whatever directory the command ran from.
var config = DefaultConfig.Instance.WithArtifactsPath(ArtifactsPath());
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return 0;

static string ArtifactsPath()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Auth0.Minimal.Benchmarks.csproj")))
            return Path.Combine(dir.FullName, "BenchmarkDotNet.Artifacts");
    return Path.Combine(Directory.GetCurrentDirectory(), "BenchmarkDotNet.Artifacts");
}
