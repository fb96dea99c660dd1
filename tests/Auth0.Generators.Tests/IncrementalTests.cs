using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Auth0.Generators.Tests;

public class IncrementalTests
{
    private const string ConfigWithMethod = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config(LoginPath = "/signin")]
        internal partial class Auth0Setup
        {
            public static int Value() => 1;
        }
        """;

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
            ["Auth0.Endpoints.g.cs", "Auth0.Services.g.cs"],
            result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal));
    }

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
