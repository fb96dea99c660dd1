namespace Auth0.Minimal.Tests.Support;

internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Interop => Path.Combine(Root, "tests", "interop");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Auth0.Minimal.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("Auth0.Minimal.sln not found above the test directory.");
    }
}
