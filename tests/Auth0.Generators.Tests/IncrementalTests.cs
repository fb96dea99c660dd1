using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Tests;

public class IncrementalTests
{
    private const string ConfigWithMethod = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config(LoginPath = "/signin")]
        [Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders", BaseAddress = "https://orders.example.com/")]
        [Auth0Api("Billing", Audience = "https://billing.example.com", Scope = "read:billing")]
        internal partial class Auth0Setup
        {
            public static int Value() => 1;
        }
        """;

    private const string ConfigWithClaims = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config(LoginPath = "/signin")]
        [Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders", BaseAddress = "https://orders.example.com/")]
        [Auth0Claim("https://example.com/roles", typeof(string[]))]
        [Auth0Claim("https://example.com/is_admin", typeof(bool), Name = "IsAdmin")]
        internal partial class Auth0Setup
        {
            public static int Value() => 1;
        }
        """;

    // ConfigWithMethod with DPoP on by default, and with the Orders API using it.
    private static readonly string ConfigWithDPoP = ConfigWithMethod
        .Replace("[Auth0Config(LoginPath = \"/signin\")]", "[Auth0Config(LoginPath = \"/signin\", UseDPoP = true)]", StringComparison.Ordinal);

    private static readonly string ConfigWithDPoPApi = ConfigWithDPoP
        .Replace("BaseAddress = \"https://orders.example.com/\")]", "BaseAddress = \"https://orders.example.com/\", UseDPoP = true)]", StringComparison.Ordinal);

    [Fact]
    public void FirstRun_TracksEveryStep()
    {
        var run = GeneratorHarness.Run(ConfigWithMethod, Sources.Program);

        Assert.All(TrackingNames.All, name => Assert.True(run.Result.TrackedSteps.ContainsKey(name), name + " was not tracked"));
        Assert.All(
            run.Result.TrackedSteps.Where(s => TrackingNames.All.Contains(s.Key)).SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
    }

    [Fact]
    public void AddingAnUnrelatedFile_KeepsEverythingCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace MyApp; internal static class Other { }", "/src/Other.cs"));
        driver = driver.RunGenerators(next);

        AssertAllCachedOrUnchanged(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void EditingAMethodBodyInAnotherFile_KeepsEverythingCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File1.cs", "return value + 1;", "return value + 2;");
        driver = driver.RunGenerators(next);

        AssertAllCachedOrUnchanged(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void EditingAMethodBodyInTheConfigClass_KeepsEverythingCached()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "=> 1;", "=> 42;");
        driver = driver.RunGenerators(next);

        AssertAllCachedOrUnchanged(driver.GetRunResult().Results.Single());
    }

    [Fact]
    public void MovingTheConfigClass_ReparsesButDoesNotReEmit()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "namespace MyApp;", "namespace MyApp;\n\n\n");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        // The parsed model holds the class location, so it changes; the file inputs hold none.
        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ServicesFile));
        AssertCachedOrUnchanged(OutputStepOutputs(result));
    }

    [Fact]
    public void EditingARoute_ModifiesOnlyTheAffectedOutputs()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "\"/signin\"", "\"/login\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.All(Outputs(result, TrackingNames.RoutesFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.All(Outputs(result, TrackingNames.EndpointsFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ServicesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));

        var outputs = OutputStepOutputs(result);
        Assert.NotEmpty(outputs);
        Assert.Contains(outputs, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("\"/login\"", result.GeneratedSources.Single(s => s.HintName == "Auth0.Endpoints.g.cs").SourceText.ToString());
    }

    [Fact]
    public void IntroducingAnError_ModifiesTheDiagnosticsStep()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "\"/signin\"", "\"signin\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.All(Outputs(result, TrackingNames.Diagnostics), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Equal("AUTH0002", Assert.Single(result.Diagnostics).Id);
        Assert.Equal(
            ["Auth0.Api.Billing.g.cs", "Auth0.Api.Orders.g.cs", "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void EditingOneApisScope_ReEmitsOnlyThatApiAndTheServices()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "\"read:orders\"", "\"read:orders write:orders\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        Assert.All(Outputs(result, TrackingNames.ServicesFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Equal(
            [("Billing", IncrementalStepRunReason.Unchanged), ("Orders", IncrementalStepRunReason.Modified)],
            Outputs(result, TrackingNames.ApiFiles).Select(o => (((ApiFileModel)o.Value).Name, o.Reason)).Order());

        // Only the Orders file and the services file are produced again.
        Assert.Equal([TrackingNames.ApiFiles + "/Orders", TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("\"read:orders write:orders\")", Source(result, "Auth0.Api.Orders.g.cs"));
        Assert.Contains("\"read:orders write:orders\", \"https://orders.example.com/\", false)", Source(result, "Auth0.Services.g.cs"));
    }

    [Fact]
    public void EditingUseDPoP_ReEmitsOnlyTheServices()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithDPoP, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "BaseAddress = \"https://orders.example.com/\"", "BaseAddress = \"https://orders.example.com/\", UseDPoP = true");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        // The API files do not use UseDPoP, so they stay as they are.
        Assert.Empty(result.Diagnostics);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        Assert.Equal([TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("\"read:orders\", \"https://orders.example.com/\", true)", Source(result, "Auth0.Services.g.cs"));
    }

    [Fact]
    public void TurningDPoPOnInAuth0Config_ReEmitsOnlyTheServices()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "LoginPath = \"/signin\"", "LoginPath = \"/signin\", UseDPoP = true");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        // The routes, endpoints and API files do not depend on it.
        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.Diagnostics));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        Assert.All(Outputs(result, TrackingNames.ServicesFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Equal([TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("DefaultToDPoP(configuration, configure));", Source(result, "Auth0.Services.g.cs"));
    }

    [Theory]
    [InlineData("/src/Other.cs")]
    [InlineData("/src/File1.cs")]
    [InlineData("/src/File0.cs")]
    public void UnrelatedEditsWithDPoP_KeepEverythingCached(string path)
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithDPoPApi, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = path switch
        {
            "/src/Other.cs" => compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace MyApp; internal static class Other { }", path)),
            "/src/File1.cs" => Edit(compilation, path, "return value + 1;", "return value + 2;"),
            _ => Edit(compilation, path, "=> 1;", "=> 42;"),
        };
        driver = driver.RunGenerators(next);

        var result = driver.GetRunResult().Results.Single();
        Assert.Empty(result.Diagnostics);
        AssertAllCachedOrUnchanged(result);
        Assert.Empty(ReEmitted(result));
    }

    [Fact]
    public void MovingTheConfigClassWithDPoP_ReparsesButDoesNotReEmit()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithDPoPApi, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "namespace MyApp;", "namespace MyApp;\n\n\n");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ServicesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        Assert.Empty(ReEmitted(result));
    }

    [Fact]
    public void TurningDPoPOffInAuth0Config_ReportsAUTH0020AndRemovesOnlyThatApi()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithDPoPApi, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "LoginPath = \"/signin\", UseDPoP = true", "LoginPath = \"/signin\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Equal("AUTH0020", Assert.Single(result.Diagnostics).Id);
        Assert.All(Outputs(result, TrackingNames.Diagnostics), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        Assert.Equal(
            ["Auth0.Api.Billing.g.cs", "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs", "Auth0Config.Routes.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("DefaultToDPoP", Source(result, "Auth0.Services.g.cs"), StringComparison.Ordinal);
    }

    [Fact]
    public void AddingAnApi_AddsItsFileAndKeepsTheOthers()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(
            compilation,
            "/src/File0.cs",
            "internal partial class Auth0Setup",
            "[Auth0Api(\"Sales\", Audience = \"https://sales.example.com\")]\ninternal partial class Auth0Setup");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Equal(
            [
                ("Billing", IncrementalStepRunReason.Unchanged),
                ("Orders", IncrementalStepRunReason.Unchanged),
                ("Sales", IncrementalStepRunReason.New),
            ],
            Outputs(result, TrackingNames.ApiFiles).Select(o => (((ApiFileModel)o.Value).Name, o.Reason)).Order());
        Assert.Equal([TrackingNames.ApiFiles + "/Sales", TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("IServiceCollection", Source(result, "Auth0.Services.g.cs"));
        Assert.Contains("Auth0.Api.Sales.g.cs", result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void BreakingOneApi_RemovesOnlyItsFile()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "\"https://orders.example.com\"", "\"orders\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Equal("AUTH0010", Assert.Single(result.Diagnostics).Id);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        Assert.Equal(
            ["Auth0.Api.Billing.g.cs", "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs", "Auth0Config.Routes.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FirstRunWithClaims_EmitsTheClaimsFile()
    {
        var run = GeneratorHarness.Run(ConfigWithClaims, Sources.Program);

        var claims = Assert.IsType<ClaimsFileModel>(Assert.Single(Outputs(run.Result, TrackingNames.ClaimsFile)).Value);
        Assert.Equal(
            [new ClaimModel("https://example.com/roles", "Roles", ClaimValueType.StringArray), new ClaimModel("https://example.com/is_admin", "IsAdmin", ClaimValueType.Boolean)],
            claims.Claims);
        Assert.Contains("Auth0.Claims.g.cs", run.HintNames);
    }

    [Theory]
    [InlineData("/src/Other.cs")]
    [InlineData("/src/File1.cs")]
    [InlineData("/src/File0.cs")]
    public void UnrelatedEditsWithClaims_KeepEverythingCached(string path)
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithClaims, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = path switch
        {
            "/src/Other.cs" => compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace MyApp; internal static class Other { }", path)),
            "/src/File1.cs" => Edit(compilation, path, "return value + 1;", "return value + 2;"),
            _ => Edit(compilation, path, "=> 1;", "=> 42;"),
        };
        driver = driver.RunGenerators(next);

        var result = driver.GetRunResult().Results.Single();
        AssertAllCachedOrUnchanged(result);
        Assert.Empty(ReEmitted(result));
    }

    [Fact]
    public void MovingTheConfigClassWithClaims_ReparsesButDoesNotReEmit()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithClaims, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "namespace MyApp;", "namespace MyApp;\n\n\n");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ClaimsFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ServicesFile));
        Assert.Empty(ReEmitted(result));
    }

    [Fact]
    public void EditingAClaim_ReEmitsOnlyTheClaimsAndTheServices()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithClaims, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "\"https://example.com/is_admin\"", "\"https://example.com/admin\"");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Contains(Outputs(result, TrackingNames.ConfigClasses), o => o.Reason == IncrementalStepRunReason.Modified);
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.Diagnostics));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.EndpointsFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        Assert.All(Outputs(result, TrackingNames.ClaimsFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.All(Outputs(result, TrackingNames.ServicesFile), o => Assert.Equal(IncrementalStepRunReason.Modified, o.Reason));
        Assert.Equal([TrackingNames.ClaimsFile, TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("public const string IsAdminClaim = \"https://example.com/admin\";", Source(result, "Auth0.Claims.g.cs"));
        Assert.Contains("options.IdTokenClaimsToKeep.Add(\"https://example.com/admin\");", Source(result, "Auth0.Services.g.cs"));
    }

    [Theory]
    [InlineData("Name = \"IsAdmin\"", "Name = \"Admin\"", "GetAdmin(")]
    [InlineData("typeof(bool)", "typeof(string)", "string? GetIsAdmin(")]
    public void EditingAClaimsNameOrType_ReEmitsOnlyTheClaims(string oldText, string newText, string expected)
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithClaims, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", oldText, newText);
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        // The services file holds only the claim strings, so it stays as it is.
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ServicesFile));
        Assert.Equal([TrackingNames.ClaimsFile], ReEmitted(result));
        Assert.Contains(expected, Source(result, "Auth0.Claims.g.cs"));
    }

    [Fact]
    public void AddingTheFirstClaim_AddsTheClaimsFileAndReEmitsTheServices()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithMethod, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(
            compilation,
            "/src/File0.cs",
            "internal partial class Auth0Setup",
            "[Auth0Claim(\"https://example.com/roles\", typeof(string[]))]\ninternal partial class Auth0Setup");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        Assert.Equal([TrackingNames.ClaimsFile, TrackingNames.ServicesFile], ReEmitted(result));
        Assert.Contains("Auth0.Claims.g.cs", result.GeneratedSources.Select(s => s.HintName));
    }

    [Fact]
    public void BreakingTheOnlyClaim_RemovesTheClaimsFile()
    {
        var compilation = GeneratorHarness.CreateCompilation(ConfigWithClaims, Sources.Program);
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);

        var next = Edit(compilation, "/src/File0.cs", "typeof(string[])", "typeof(float)");
        next = Edit(next, "/src/File0.cs", "typeof(bool)", "typeof(decimal)");
        driver = driver.RunGenerators(next);
        var result = driver.GetRunResult().Results.Single();

        Assert.Equal(["AUTH0015", "AUTH0015"], result.Diagnostics.Select(d => d.Id));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.RoutesFile));
        AssertCachedOrUnchanged(Outputs(result, TrackingNames.ApiFiles));
        Assert.Equal(
            ["Auth0.Api.Orders.g.cs", "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs", "Auth0Config.Routes.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

    /// <summary>The source outputs that ran again, named by their input step (and API), ordered.</summary>
    private static string[] ReEmitted(GeneratorRunResult result) =>
        [
            .. result.TrackedOutputSteps.SelectMany(s => s.Value)
                .Where(step => step.Outputs.Any(o => o.Reason is not (IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged)))
                .Select(step => step.Inputs.Single())
                .Select(input => input.Source.Name == TrackingNames.ApiFilesToEmit
                    ? TrackingNames.ApiFiles + "/" + ((ApiFileModel)input.Source.Outputs[input.OutputIndex].Value).Name
                    : input.Source.Name!)
                .Order(StringComparer.Ordinal),
        ];

    private static string Source(GeneratorRunResult result, string hintName) =>
        result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    private static Compilation Edit(Compilation compilation, string path, string oldText, string newText)
    {
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        var text = tree.GetText().ToString();
        var start = text.IndexOf(oldText, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{oldText}' not found in {path}");
        var newTree = tree.WithChangedText(tree.GetText().WithChanges(new TextChange(new TextSpan(start, oldText.Length), newText)));
        return compilation.ReplaceSyntaxTree(tree, newTree);
    }

    private static void AssertAllCachedOrUnchanged(GeneratorRunResult result)
    {
        var steps = result.TrackedSteps.Where(s => TrackingNames.All.Contains(s.Key)).ToArray();
        Assert.Equal(TrackingNames.All.Order(), steps.Select(s => s.Key).Order());
        AssertCachedOrUnchanged([.. steps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)]);
        AssertCachedOrUnchanged(OutputStepOutputs(result));
    }

    private static (object Value, IncrementalStepRunReason Reason)[] Outputs(GeneratorRunResult result, string stepName) =>
        [.. result.TrackedSteps[stepName].SelectMany(s => s.Outputs)];

    private static (object Value, IncrementalStepRunReason Reason)[] OutputStepOutputs(GeneratorRunResult result) =>
        [.. result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs)];

    private static void AssertCachedOrUnchanged((object Value, IncrementalStepRunReason Reason)[] outputs)
    {
        // Assert.All passes on an empty list, which would hide a step that was never tracked.
        Assert.NotEmpty(outputs);
        Assert.All(outputs, o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"{o.Value} was {o.Reason}"));
    }
}
