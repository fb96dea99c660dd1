using System.Collections.Immutable;
using Auth0.Generators;
using Basic.Reference.Assemblies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Auth0.Generators.Tests;

/// <summary>Builds compilations against .NET, ASP.NET Core and the Auth0 runtime, and runs the generator.</summary>
internal static class GeneratorHarness
{
    // Diagnose mode makes malformed XML docs in generated code show up as warnings.
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    public static readonly ImmutableArray<MetadataReference> References =
    [
        .. Net100.References.All,
        .. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "aspnet-refs.txt"))
            .Where(p => p.Length > 0)
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(Auth0.Minimal.Auth0ConfigAttribute).Assembly.Location),
    ];

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    public static CSharpCompilation CreateCompilation(params string[] sources) =>
        CreateCompilation(sources.Select((s, i) => Parse(s, $"/src/File{i}.cs")).ToArray());

    public static CSharpCompilation CreateCompilation(params SyntaxTree[] trees) =>
        CSharpCompilation.Create(
            "Auth0.Generators.TestApp",
            trees,
            References,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                warningLevel: 9999));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            [new Auth0Generator().AsSourceGenerator()],
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(CreateCompilation(sources));

    public static GeneratorRun Run(Compilation compilation) => Run(CreateDriver(), compilation);

    public static GeneratorRun Run(GeneratorDriver driver, Compilation compilation)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratorRun(driver, driver.GetRunResult().Results.Single(), compilation, output, diagnostics);
    }

    /// <summary>Warnings and errors only; hidden and info diagnostics (such as unused usings) are noise here.</summary>
    public static ImmutableArray<Diagnostic> WarningsAndErrors(this Compilation compilation) =>
        [.. compilation.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning)];
}

internal sealed record GeneratorRun(
    GeneratorDriver Driver,
    GeneratorRunResult Result,
    Compilation InputCompilation,
    Compilation OutputCompilation,
    ImmutableArray<Diagnostic> DriverDiagnostics)
{
    public ImmutableArray<Diagnostic> GeneratorDiagnostics => Result.Diagnostics;

    public string[] HintNames => [.. Result.GeneratedSources.Select(s => s.HintName).Order(StringComparer.Ordinal)];

    public string Source(string hintName) =>
        Result.GeneratedSources.Single(s => s.HintName == hintName).SourceText.ToString();

    public SyntaxTree Tree(string hintName) =>
        Result.GeneratedSources.Single(s => s.HintName == hintName).SyntaxTree;
}
