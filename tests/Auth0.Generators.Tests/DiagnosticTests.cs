using System.Reflection;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators.Tests;

public class DiagnosticTests
{
    private const string Path0 = "/src/File0.cs";

    [Fact]
    public void ValidConfig_ReportsNothing()
    {
        var run = GeneratorHarness.Run(
            Sources.Config("LoginPath = \"/signin\", AccessTokenPath = \"/auth/login\", EnableAccessTokenEndpoint = false"),
            Sources.Program);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void AUTH0001_ClassNotPartial()
    {
        var source = Sources.Config(string.Empty, "internal class Auth0Setup");
        var run = GeneratorHarness.Run(source, Sources.Program);

        var diagnostic = AssertSingle(run, "AUTH0001", source, "Auth0Setup");
        Assert.StartsWith("Make 'MyApp.Auth0Setup' partial:", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Fact]
    public void AUTH0001_ContainingTypeNotPartial()
    {
        const string source = """
            using Auth0.Minimal;

            namespace MyApp;

            internal class Outer
            {
                [Auth0Config]
                internal partial class Auth0Setup { }
            }
            """;
        var run = GeneratorHarness.Run(source, Sources.Program);

        var diagnostic = AssertSingle(run, "AUTH0001", source, "Outer");
        Assert.StartsWith("Make 'Outer' partial:", diagnostic.GetMessage());
        Assert.Contains("'MyApp.Outer.Auth0Setup'", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Theory]
    [InlineData("auth/login")]
    [InlineData("")]
    [InlineData("/auth login")]
    [InlineData("/auth/login\t")]
    [InlineData("/auth/login?x=1")]
    [InlineData("/auth#login")]
    [InlineData("/auth/{id}")]
    [InlineData("/auth/id}")]
    public void AUTH0002_InvalidPath(string path)
    {
        var literal = Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(path, quote: true);
        var source = Sources.Config("CallbackPath = " + literal);
        var run = GeneratorHarness.Run(source, Sources.Program);

        var diagnostic = AssertSingle(run, "AUTH0002", source, literal);
        Assert.Contains("'CallbackPath'", diagnostic.GetMessage());
        Assert.Contains("'" + path + "'", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Theory]
    [InlineData("LoginPath = \"/auth/logout\"", "\"/auth/logout\"", "LoginPath", "LogoutPath")]
    [InlineData("CallbackPath = \"/AUTH/LOGIN\"", "\"/AUTH/LOGIN\"", "LoginPath", "CallbackPath")]
    [InlineData("CallbackPath = \"/auth/login/\"", "\"/auth/login/\"", "LoginPath", "CallbackPath")]
    [InlineData("LoginPath = \"/x\", ProfilePath = \"/x\"", "\"/x\"", "LoginPath", "ProfilePath")]
    [InlineData("BackchannelLogoutPath = \"/auth/profile\"", "\"/auth/profile\"", "ProfilePath", "BackchannelLogoutPath")]
    [InlineData("EnableConnectAccountEndpoint = true, ConnectAccountPath = \"/auth/callback\"", "\"/auth/callback\"", "CallbackPath", "ConnectAccountPath")]
    public void AUTH0003_DuplicatePaths(string arguments, string locatedText, string first, string second)
    {
        var source = Sources.Config(arguments);
        var run = GeneratorHarness.Run(source, Sources.Program);

        // Locate on the last explicit argument, the one that introduced the clash.
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("AUTH0003", diagnostic.Id);
        var expectedStart = source.LastIndexOf(locatedText, StringComparison.Ordinal);
        Assert.Equal(expectedStart, diagnostic.Location.SourceSpan.Start);
        Assert.Equal(locatedText, Text(source, diagnostic));
        Assert.Contains($"'{first}' and '{second}'", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Fact]
    public void AUTH0003_IgnoresDisabledRoutes()
    {
        var run = GeneratorHarness.Run(Sources.Config(
            "AccessTokenPath = \"/auth/login\", EnableAccessTokenEndpoint = false, BackchannelLogoutPath = \"/auth/logout\", EnableBackchannelLogout = false, ConnectAccountPath = \"/auth/profile\""),
            Sources.Program);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(3, run.HintNames.Length);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void AUTH0004_SecondConfigClass_IsReportedAndOnlyTheFirstIsGenerated()
    {
        var first = Sources.Config("LoginPath = \"/first\"", "internal partial class FirstSetup");
        var second = Sources.Config("LoginPath = \"/second\"", "internal partial class SecondSetup");
        var third = Sources.Config(string.Empty, "internal partial class ThirdSetup");
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(third, "/src/C.cs"),
            GeneratorHarness.Parse(first, "/src/A.cs"),
            GeneratorHarness.Parse(second, "/src/B.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"));
        var run = GeneratorHarness.Run(compilation);

        Assert.Equal(2, run.GeneratorDiagnostics.Length);
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("AUTH0004", d.Id));
        var onSecond = run.GeneratorDiagnostics.Single(d => d.Location.GetLineSpan().Path == "/src/B.cs");
        Assert.Equal("SecondSetup", Text(second, onSecond));
        Assert.Contains("'MyApp.SecondSetup'", onSecond.GetMessage());
        Assert.Contains("'MyApp.FirstSetup'", onSecond.GetMessage());
        var onThird = run.GeneratorDiagnostics.Single(d => d.Location.GetLineSpan().Path == "/src/C.cs");
        Assert.Equal("ThirdSetup", Text(third, onThird));

        // The first class by file path still gets its code, so the app compiles apart from AUTH0004.
        Assert.Contains("global::MyApp.FirstSetup.Routes", run.Source("Auth0.Services.g.cs"));
        Assert.Contains("\"/first\"", run.Source("Auth0.Endpoints.g.cs"));
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void AUTH0004_WhenTheFirstClassIsInvalid_OnlyStubsAreGenerated()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.Config(string.Empty, "internal class FirstSetup"), "/src/A.cs"),
            GeneratorHarness.Parse(Sources.Config(string.Empty, "internal partial class SecondSetup"), "/src/B.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"));
        var run = GeneratorHarness.Run(compilation);

        Assert.Equal(["AUTH0001", "AUTH0004"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        AssertStubsOnly(run);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void AUTH0004_IsNotReportedForTwoAttributedPartsOfOneClass()
    {
        var run = GeneratorHarness.Run(
            Sources.Config(string.Empty),
            "namespace MyApp;\n[Auth0.Minimal.Auth0Config]\ninternal partial class Auth0Setup { }");

        // The compiler's duplicate attribute error (CS0579) already explains it.
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(["CS0579"], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
    }

    [Fact]
    public void AUTH0005_NullPath()
    {
        var source = Sources.Config("LogoutPath = null");
        var run = GeneratorHarness.Run(source, Sources.Program);

        var diagnostic = AssertSingle(run, "AUTH0005", source, "null", allowCompilerErrors: ["CS8625"]);
        Assert.Contains("'LogoutPath'", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Fact]
    public void AUTH0005_NonConstantPath()
    {
        var source = Sources.Config("ProfilePath = Paths.Profile") + """

            internal static class Paths
            {
                public static readonly string Profile = "/me";
            }
            """;
        var run = GeneratorHarness.Run(source, Sources.Program);

        var diagnostic = AssertSingle(run, "AUTH0005", source, "Paths.Profile", allowCompilerErrors: ["CS0182"]);
        Assert.Contains("'ProfilePath'", diagnostic.GetMessage());
        AssertStubsOnly(run);
    }

    [Fact]
    public void AUTH0006_GenericClass()
    {
        var source = Sources.Config(string.Empty, "internal partial class Auth0Setup<T>");
        var run = GeneratorHarness.Run(source, Sources.Program);

        AssertSingle(run, "AUTH0006", source, "Auth0Setup");
        AssertStubsOnly(run);
    }

    [Theory]
    [InlineData("private")]
    [InlineData("protected")]
    [InlineData("private protected")]
    public void AUTH0007_InaccessibleNestedClass(string accessibility)
    {
        var source = $$"""
            using Auth0.Minimal;

            namespace MyApp;

            internal partial class Outer
            {
                [Auth0Config]
                {{accessibility}} partial class Auth0Setup { }
            }
            """;
        var run = GeneratorHarness.Run(source, Sources.Program);

        AssertSingle(run, "AUTH0007", source, "Auth0Setup");
        AssertStubsOnly(run);
    }

    [Fact]
    public void AUTH0007_FileLocalClass()
    {
        var source = Sources.Config(string.Empty, "file partial class Auth0Setup");
        var run = GeneratorHarness.Run(source, Sources.Program);

        AssertSingle(run, "AUTH0007", source, "Auth0Setup");
        AssertStubsOnly(run);
    }

    [Fact]
    public void SeveralProblems_AreAllReported()
    {
        var source = Sources.Config("LoginPath = \"login\", LogoutPath = null", "internal class Auth0Setup");
        var run = GeneratorHarness.Run(source, Sources.Program);

        Assert.Equal(["AUTH0001", "AUTH0002", "AUTH0005"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        AssertStubsOnly(run);
    }

    [Fact]
    public void Descriptors_AreErrorsWithCategoryHelpLinkAndReleaseEntry()
    {
        var descriptors = typeof(Diagnostics)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
            .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
            .ToArray();
        var unshipped = File.ReadAllText(FindRepoFile("src/Auth0.Generators/AnalyzerReleases.Unshipped.md"));

        Assert.Equal(
            [
                "AUTH0001", "AUTH0002", "AUTH0003", "AUTH0004", "AUTH0005", "AUTH0006", "AUTH0007",
                "AUTH0008", "AUTH0009", "AUTH0010", "AUTH0011", "AUTH0012", "AUTH0013", "AUTH0014",
                "AUTH0015", "AUTH0016", "AUTH0017", "AUTH0018", "AUTH0019", "AUTH0020",
            ],
            descriptors.Select(d => d.Id).Order());
        Assert.All(descriptors, d =>
        {
            Assert.Equal(DiagnosticSeverity.Error, d.DefaultSeverity);
            Assert.True(d.IsEnabledByDefault);
            Assert.Equal("Auth0.Minimal", d.Category);
            Assert.Equal($"https://github.com/auth0-minimal/auth0-minimal/blob/main/docs/diagnostics/{d.Id}.md", d.HelpLinkUri);
            Assert.Same(d, Diagnostics.GetById(d.Id));
            Assert.Contains($"{d.Id} | Auth0.Minimal | Error | {d.Title}", unshipped);

            // The help link points at a page that exists and is about this diagnostic.
            var page = File.ReadAllText(FindRepoFile($"docs/diagnostics/{d.Id}.md"));
            Assert.StartsWith($"# {d.Id}: ", page);
            Assert.Contains("## Example", page);
            Assert.Contains("## Fix", page);
        });
    }

    internal static Diagnostic AssertSingle(
        GeneratorRun run, string id, string source, string locatedText, string[]? allowCompilerErrors = null)
    {
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal(id, diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(Path0, diagnostic.Location.GetLineSpan().Path);
        Assert.Equal(locatedText, Text(source, diagnostic));

        // The line span must agree with the text span, or IDEs squiggle the wrong place.
        var tree = run.InputCompilation.SyntaxTrees.Single(t => t.FilePath == Path0);
        Assert.Equal(tree.GetLineSpan(diagnostic.Location.SourceSpan).Span, diagnostic.Location.GetLineSpan().Span);

        // Nothing but the generator's diagnostic (and any the compiler itself raises) should show up.
        var allowed = allowCompilerErrors ?? [];
        Assert.Empty(run.OutputCompilation.WarningsAndErrors().Where(d => !allowed.Contains(d.Id)));
        return diagnostic;
    }

    // A broken config still gets throwing extension methods, so call sites compile and only AUTH errors show.
    internal static void AssertStubsOnly(GeneratorRun run)
    {
        Assert.Equal(["Auth0.Endpoints.g.cs", "Auth0.Services.g.cs"], run.HintNames);
        Assert.All(run.Result.GeneratedSources, s =>
        {
            Assert.Contains("throw new global::System.InvalidOperationException(", s.SourceText.ToString());
            Assert.DoesNotContain("Auth0Handlers", s.SourceText.ToString());
            Assert.DoesNotContain("AddAuth0Core", s.SourceText.ToString());
        });
    }

    internal static string Text(string source, Diagnostic diagnostic) =>
        source.Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length);

    internal static string FindRepoFile(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("Could not find " + relativePath + " above " + AppContext.BaseDirectory);
    }
}
