using Auth0.Generators.Emitting;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators.Tests;

/// <summary>
/// AUTH0015..AUTH0018. Every config here also declares a valid roles claim that user code uses, to show that an
/// [Auth0Claim] error leaves out only the claim at fault and adds no compiler errors.
/// </summary>
public class ClaimDiagnosticTests
{
    private const string Roles = "\"https://example.com/roles\", typeof(string[])";

    private const string RolesConsumer = """
        namespace MyApp;

        internal static class RolesReader
        {
            public static string[]? Read(Auth0.Minimal.Auth0User user) => user.GetRoles() ?? [Auth0SetupClaims.RolesClaim];
        }
        """;

    private const string Constants = """

        internal static class Values
        {
            public const string Claim = "https://example.com/level";
            public const string Name = "Level";
            public static readonly string ClaimField = "https://example.com/level";
            public static readonly string NameField = "Level";
            public static readonly System.Type TypeField = typeof(int);
        }
        """;

    [Fact]
    public void ValidClaims_ReportNothing()
    {
        var run = Run(Sources.ClaimConfig(Roles, "Values.Claim, typeof(int), Name = Values.Name + \"2\"", "Values.Claim + \"/x\", typeof(long)") + Constants);

        Assert.Empty(run.GeneratorDiagnostics);
        var claims = run.Source(ClaimsEmitter.HintName);
        Assert.Contains("public static int? GetLevel2(", claims);
        Assert.Contains("public const string XClaim = \"https://example.com/level/x\";", claims);
    }

    [Theory]
    [InlineData("typeof(float)", "float")]
    [InlineData("typeof(decimal)", "decimal")]
    [InlineData("typeof(object)", "object")]
    [InlineData("typeof(int?)", "int?")]
    [InlineData("typeof(System.Guid)", "System.Guid")]
    [InlineData("typeof(System.DateTimeOffset)", "System.DateTimeOffset")]
    [InlineData("typeof(int[])", "int[]")]
    [InlineData("typeof(string[][])", "string[][]")]
    [InlineData("typeof(string[,])", "string[*,*]")]
    [InlineData("typeof(System.Collections.Generic.List<string>)", "System.Collections.Generic.List<string>")]
    [InlineData("typeof(System.Collections.Generic.List<>)", "System.Collections.Generic.List<>")]
    [InlineData("typeof(System.Text.Json.JsonElement)", "System.Text.Json.JsonElement")]
    [InlineData("null", "null", "CS8625")]
    public void AUTH0015_UnsupportedType(string type, string display, string? compilerWarning = null)
    {
        var source = Sources.ClaimConfig("\"https://example.com/level\", " + type, Roles);
        string[] allowed = compilerWarning is null ? [] : [compilerWarning];
        var run = Run(source, allowed);

        var diagnostic = AssertClaimError(run, "AUTH0015", source, type, allowCompilerErrors: allowed);
        Assert.Equal(
            $"The claim 'https://example.com/level' is declared as '{display}', which has no typed accessor; use string, bool, int, long, double or string[]",
            diagnostic.GetMessage());
        AssertOnlyRoles(run);
    }

    [Theory]
    [InlineData("typeof(string)", "string")]
    [InlineData("typeof(System.String)", "string")]
    [InlineData("typeof(bool)", "bool")]
    [InlineData("typeof(int)", "int")]
    [InlineData("typeof(long)", "long")]
    [InlineData("typeof(double)", "double")]
    [InlineData("typeof(string[])", "string[]")]
    public void AUTH0015_SupportedTypes_AreFine(string type, string typeName)
    {
        var run = Run(Sources.ClaimConfig("\"https://example.com/level\", " + type, Roles));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("public static " + typeName + "? GetLevel(", run.Source(ClaimsEmitter.HintName));
    }

    [Theory]
    [InlineData("typeof(string)")]
    [InlineData("typeof(string[])")]
    public void AUTH0016_DuplicateClaim(string type)
    {
        var source = Sources.ClaimConfig(Roles, "\"https://example.com/roles\", " + type + ", Name = \"Roles2\"");
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0016", source, "\"https://example.com/roles\"", last: true);
        Assert.StartsWith("The claim 'https://example.com/roles' is already declared;", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Fact]
    public void AUTH0016_DerivedNamesThatClash_AreReportedOnTheClaim()
    {
        var source = Sources.ClaimConfig(Roles, "\"https://other.example.com/roles\", typeof(string)");
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0016", source, "\"https://other.example.com/roles\"");
        Assert.StartsWith(
            "The claim 'https://other.example.com/roles' would generate the member 'GetRoles', which the claim 'https://example.com/roles' already generates;",
            diagnostic.GetMessage(),
            StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Fact]
    public void AUTH0016_ExplicitNamesThatClash_AreReportedOnTheName()
    {
        var source = Sources.ClaimConfig(Roles, "\"https://example.com/groups\", typeof(string[]), Name = \"Roles\"");
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0016", source, "\"Roles\"");
        Assert.Equal(
            "The claim 'https://example.com/groups' would generate the member 'GetRoles', which the claim 'https://example.com/roles' already generates; "
            + "declare each claim once, and give each [Auth0Claim] a Name of its own",
            diagnostic.GetMessage());
        AssertOnlyRoles(run);
    }

    [Fact]
    public void AUTH0016_AnAccessorThatClashesWithAConstant_IsReported()
    {
        // GetFoo gives GetGetFoo and GetFooClaim; FooClaim gives GetFooClaim and FooClaimClaim.
        var source = Sources.ClaimConfig(
            Roles, "\"https://example.com/a\", typeof(int), Name = \"GetFoo\"", "\"https://example.com/b\", typeof(int), Name = \"FooClaim\"");
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0016", source, "\"FooClaim\"");
        Assert.StartsWith(
            "The claim 'https://example.com/b' would generate the member 'GetFooClaim', which the claim 'https://example.com/a' already generates;",
            diagnostic.GetMessage(),
            StringComparison.Ordinal);
        Assert.Contains("public const string GetFooClaim = \"https://example.com/a\";", run.Source(ClaimsEmitter.HintName));
        Assert.DoesNotContain("https://example.com/b", run.Source(ClaimsEmitter.HintName), StringComparison.Ordinal);
    }

    [Fact]
    public void AUTH0016_NamesThatDifferOnlyInCase_AreFine()
    {
        var run = Run(Sources.ClaimConfig(Roles, "\"https://example.com/ROLES\", typeof(string), Name = \"roles\""));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("GetRoles(", run.Source(ClaimsEmitter.HintName));
        Assert.Contains("Getroles(", run.Source(ClaimsEmitter.HintName));
    }

    [Theory]
    [InlineData("\"my-roles\"")]
    [InlineData("\"1st\"")]
    [InlineData("\"\"")]
    [InlineData("\"@Roles\"")]
    [InlineData("\"Roles.All\"")]
    [InlineData("\"Roles All\"")]
    public void AUTH0017_InvalidName(string name)
    {
        var source = Sources.ClaimConfig("\"https://example.com/groups\", typeof(string[]), Name = " + name, Roles);
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0017", source, name);
        Assert.StartsWith(
            $"The claim \"https://example.com/groups\" has the Name {name}, which is not a C# identifier; a claim must not be empty",
            diagnostic.GetMessage(),
            StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Theory]
    [InlineData("https://example.com/2fa", "gives the accessor name \"2fa\", which is not a C# identifier (set Name)")]
    [InlineData("https://example.com/__", "gives no accessor name, as its last segment has no letter or digit (set Name)")]
    [InlineData("https://example.com/-/", "gives no accessor name, as its last segment has no letter or digit (set Name)")]
    [InlineData("/", "gives no accessor name, as its last segment has no letter or digit (set Name)")]
    public void AUTH0017_DerivedNameIsNotAnIdentifier(string claim, string problem)
    {
        var literal = "\"" + claim + "\"";
        var source = Sources.ClaimConfig(literal + ", typeof(bool)", Roles);
        var run = Run(source);

        var diagnostic = AssertClaimError(run, "AUTH0017", source, literal);
        Assert.StartsWith($"The claim {literal} {problem};", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Fact]
    public void AUTH0017_DerivedNameIsNotAnIdentifier_IsFixedBySettingName()
    {
        var run = Run(Sources.ClaimConfig("\"https://example.com/2fa\", typeof(bool), Name = \"TwoFactor\"", Roles));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains("public const string TwoFactorClaim = \"https://example.com/2fa\";", run.Source(ClaimsEmitter.HintName));
    }

    [Theory]
    [InlineData("\"\"", "is empty", new string[0])]
    [InlineData("null", "is null", new[] { "CS8625" })]
    public void AUTH0017_EmptyClaim(string claim, string problem, string[] allowCompilerErrors)
    {
        var source = Sources.ClaimConfig(claim + ", typeof(string), Name = \"Empty\"", Roles);
        var run = Run(source, allowCompilerErrors);

        var diagnostic = AssertClaimError(run, "AUTH0017", source, claim, allowCompilerErrors: allowCompilerErrors);
        Assert.StartsWith($"The claim argument {problem}; a claim must not be empty", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Theory]
    [InlineData("Values.ClaimField, typeof(int)", "Values.ClaimField", "claim")]
    [InlineData("claim: Values.ClaimField, type: typeof(int)", "Values.ClaimField", "claim")]
    [InlineData("$\"https://example.com/{Values.NameField}\", typeof(int)", "$\"https://example.com/{Values.NameField}\"", "claim")]
    [InlineData("Values.Claim, typeof(int), Name = Values.NameField", "Values.NameField", "Name")]
    [InlineData("Values.Claim, Values.TypeField", "Values.TypeField", "type")]
    [InlineData("Values.Claim, type: Values.TypeField", "Values.TypeField", "type")]
    public void AUTH0018_NonConstantArgument(string arguments, string locatedText, string argumentName)
    {
        var source = Sources.ClaimConfig(arguments, Roles) + Constants;
        var run = Run(source, allowCompilerErrors: ["CS0182"]);

        var diagnostic = AssertClaimError(run, "AUTH0018", source, locatedText, allowCompilerErrors: ["CS0182"]);
        Assert.StartsWith($"The value of '{argumentName}' in [Auth0Claim] is not a compile-time constant", diagnostic.GetMessage(), StringComparison.Ordinal);
        AssertOnlyRoles(run);
    }

    [Theory]
    [InlineData("Missing.Claim, typeof(int)", "CS0103")]
    [InlineData("\"https://example.com/level\", typeof(Missing)", "CS0246")]
    [InlineData("\"https://example.com/level\", Missing.Type", "CS0103")]
    [InlineData("\"https://example.com/level\", typeof(int), Name = Missing.Name", "CS0103")]
    public void AUTH0018_IsNotReportedForAnExpressionThatDoesNotBind(string arguments, string compilerError)
    {
        var source = Sources.ClaimConfig(arguments, Roles);
        var run = GeneratorHarness.Run(source, Sources.Program, RolesConsumer);

        // The compiler's own error says more than a second one would.
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal([compilerError], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
        AssertOnlyRoles(run);
    }

    [Theory]
    [InlineData("1, typeof(int)", "CS1503")]
    [InlineData("\"https://example.com/level\", \"int\"", "CS1503")]
    [InlineData("\"https://example.com/level\", typeof(int), Name = 1", "CS0029")]
    [InlineData("\"https://example.com/level\"", "CS7036")]
    [InlineData("\"https://example.com/level\", typeof(int), Claim = \"x\"", "CS0617")]
    public void ArgumentsTheCompilerRejects_LeaveOutTheClaimWithoutAnotherError(string arguments, string compilerError)
    {
        var source = Sources.ClaimConfig(arguments, Roles);
        var run = GeneratorHarness.Run(source, Sources.Program, RolesConsumer);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal([compilerError], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
        AssertOnlyRoles(run);
    }

    [Fact]
    public void SeveralProblemsInOneClaim_AreAllReported()
    {
        var run = Run(Sources.ClaimConfig("\"https://example.com/level\", typeof(float), Name = \"my-level\"", Roles));

        Assert.Equal(["AUTH0015", "AUTH0017"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        AssertOnlyRoles(run);
    }

    [Fact]
    public void ClaimErrors_DoNotTurnTheConfigIntoStubs()
    {
        var run = Run(Sources.ClaimConfig("\"https://example.com/level\", typeof(float)", Roles));

        Assert.Equal("AUTH0015", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal([ClaimsEmitter.HintName, "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs", "Auth0Config.Routes.g.cs"], run.HintNames);
        Assert.DoesNotContain(SourceWriter.ThrowInvalidConfig, run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyInvalidClaims_GenerateNoClaimsFileAndLeaveTheServicesAlone()
    {
        var source = Sources.ClaimConfig("\"https://example.com/level\", typeof(float)");
        var run = GeneratorHarness.Run(source, Sources.Program);

        Assert.Equal("AUTH0015", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.DoesNotContain(ClaimsEmitter.HintName, run.HintNames);
        Assert.Contains("                configure);\n", run.Source(ServicesEmitter.HintName));
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void ClaimErrorOnAnotherPartialDeclaration_IsReportedThere()
    {
        const string other = "namespace MyApp;\n[Auth0.Minimal.Auth0Claim(\"https://example.com/level\", typeof(float))]\ninternal partial class Auth0Setup { }";
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.ClaimConfig(Roles), "/src/Config.cs"),
            GeneratorHarness.Parse(other, "/src/Other.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"),
            GeneratorHarness.Parse(RolesConsumer, "/src/Roles.cs"));
        var run = GeneratorHarness.Run(compilation);

        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("AUTH0015", diagnostic.Id);
        Assert.Equal("/src/Other.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("typeof(float)", DiagnosticTests.Text(other, diagnostic));
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void ClaimErrors_AreReportedOnceWhenTwoPartsRepeatAuth0Config()
    {
        var run = GeneratorHarness.Run(
            Sources.ClaimConfig("\"https://example.com/level\", typeof(float)"),
            "namespace MyApp;\n[Auth0.Minimal.Auth0Config]\ninternal partial class Auth0Setup { }");

        Assert.Equal("AUTH0015", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal(["CS0579"], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
    }

    [Fact]
    public void ClaimsOfASecondConfigClass_AreCheckedButNotGenerated()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.ClaimConfig(Roles), "/src/A.cs"),
            GeneratorHarness.Parse(
                Sources.ClaimConfig("\"https://example.com/level\", typeof(float)", "\"https://example.com/score\", typeof(double)")
                    .Replace("Auth0Setup", "SecondSetup", StringComparison.Ordinal),
                "/src/B.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"));
        var run = GeneratorHarness.Run(compilation);

        Assert.Equal(["AUTH0004", "AUTH0015"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.Null(run.OutputCompilation.GetTypeByMetadataName("MyApp.SecondSetupClaims"));
        Assert.DoesNotContain("score", run.Source(ClaimsEmitter.HintName), StringComparison.Ordinal);
        Assert.DoesNotContain("score", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    private static GeneratorRun Run(string source, string[]? allowCompilerErrors = null)
    {
        var run = GeneratorHarness.Run(source, Sources.Program, RolesConsumer);

        // Whatever else is wrong, the valid claim and the real (not stub) registration are generated.
        Assert.Contains(ClaimsEmitter.HintName, run.HintNames);
        Assert.Contains("AddAuth0Core(", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
        Assert.Contains("Auth0Config.Routes.g.cs", run.HintNames);
        var allowed = allowCompilerErrors ?? [];
        Assert.Empty(run.OutputCompilation.WarningsAndErrors().Where(d => !allowed.Contains(d.Id)));
        return run;
    }

    private static Diagnostic AssertClaimError(
        GeneratorRun run, string id, string source, string locatedText, bool last = false, string[]? allowCompilerErrors = null)
    {
        var diagnostic = DiagnosticTests.AssertSingle(run, id, source, locatedText, allowCompilerErrors);
        var expectedStart = last ? source.LastIndexOf(locatedText, StringComparison.Ordinal) : source.IndexOf(locatedText, StringComparison.Ordinal);
        Assert.Equal(expectedStart, diagnostic.Location.SourceSpan.Start);
        Assert.Equal($"https://github.com/auth0-minimal/auth0-minimal/blob/main/docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        return diagnostic;
    }

    // The claim at fault is left out of both files; the valid roles claim stays in both.
    private static void AssertOnlyRoles(GeneratorRun run)
    {
        var claims = run.Source(ClaimsEmitter.HintName);
        Assert.Single(claims.Split('\n'), l => l.Contains("public const string ", StringComparison.Ordinal));
        Assert.Contains("public const string RolesClaim = \"https://example.com/roles\";", claims);
        var services = run.Source(ServicesEmitter.HintName);
        Assert.Single(services.Split('\n'), l => l.Contains("IdTokenClaimsToKeep.Add(", StringComparison.Ordinal));
        Assert.Contains("options.IdTokenClaimsToKeep.Add(\"https://example.com/roles\");", services);
    }
}
