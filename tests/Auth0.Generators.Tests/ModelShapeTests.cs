using System.Reflection;
using Auth0.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Auth0.Generators.Tests;

public class ModelShapeTests
{
    // Holding any of these in a pipeline model breaks caching and keeps whole compilations alive.
    private static readonly Type[] Forbidden =
    [
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Location), typeof(Compilation), typeof(SemanticModel),
        typeof(AttributeData),
    ];

    public static TheoryData<string> ModelTypes()
    {
        var data = new TheoryData<string>();
        foreach (var type in ModelAssemblyTypes())
        {
            data.Add(type.FullName!);
        }

        return data;
    }

    [Fact]
    public void ModelNamespace_HasTheExpectedRecords()
    {
        var names = ModelAssemblyTypes().Select(t => t.Name).ToArray();
        Assert.Contains(nameof(ConfigClassModel), names);
        Assert.Contains(nameof(RoutesModel), names);
        Assert.Contains(nameof(ApiModel), names);
        Assert.Contains(nameof(ClaimModel), names);
        Assert.Contains(nameof(ClaimsFileModel), names);
        Assert.Contains(nameof(LocationInfo), names);
        Assert.Contains(nameof(DiagnosticInfo), names);
        Assert.Contains("EquatableArray`1", names);
    }

    [Theory]
    [MemberData(nameof(ModelTypes))]
    public void ModelType_HoldsOnlyPlainData(string typeName)
    {
        var type = typeof(ConfigClassModel).Assembly.GetType(typeName, throwOnError: true)!;
        AssertPlainData(type, [], typeName);
    }

    [Fact]
    public void PipelineOutputs_HoldOnlyPlainData()
    {
        var run = GeneratorHarness.Run(
            """
            using Auth0.Minimal;
            namespace MyApp;
            [Auth0Config(LoginPath = "bad", UseDPoP = true)]
            [Auth0Api("Orders", Audience = "https://orders", Scope = "read:orders", BaseAddress = "https://orders.example", UseDPoP = true)]
            internal partial class Auth0Setup { }
            """,
            Sources.DefaultConfig.Replace("Auth0Setup", "OtherSetup"));

        var values = run.Result.TrackedSteps
            .Where(s => TrackingNames.All.Contains(s.Key))
            .SelectMany(s => s.Value)
            .SelectMany(s => s.Outputs)
            .Select(o => o.Value)
            .Where(v => v is not null)
            .ToArray();

        Assert.NotEmpty(values);
        var seen = new HashSet<Type>();
        foreach (var value in values)
        {
            AssertPlainData(value.GetType(), seen, value.GetType().Name);
        }
    }

    [Fact]
    public void ApiAttributes_AreParsedIntoTheModel()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            """
            using Auth0.Minimal;
            namespace MyApp;
            [Auth0Config(UseDPoP = true)]
            [Auth0Api("Orders", Audience = "https://orders", Scope = "read:orders", BaseAddress = "https://orders.example", UseDPoP = true)]
            internal partial class Auth0Setup { }

            [Auth0Api(name: "Billing", Audience = "urn:billing")]
            internal partial class Auth0Setup { }
            """);
        var run = GeneratorHarness.Run(compilation);

        var parsed = run.Result.TrackedSteps[TrackingNames.ConfigClasses]
            .SelectMany(s => s.Outputs)
            .Select(o => Assert.IsType<ConfigParseResult>(o.Value))
            .Single();

        Assert.Equal(
            [
                new ApiModel("Orders", "https://orders", "read:orders", "https://orders.example", true),
                new ApiModel("Billing", "urn:billing", null, null, false),
            ],
            parsed.Config.Apis);
        Assert.True(parsed.Config.UseDPoP);
        Assert.Equal("internal", parsed.Config.Accessibility);
        Assert.Equal("internal", parsed.Config.ApiAccessibility);
        Assert.True(parsed.Config.IsPartial);
        Assert.Equal("MyApp", parsed.Config.Namespace);
        Assert.Empty(parsed.ApiDiagnostics);
        Assert.Empty(run.GeneratorDiagnostics);
    }

    [Fact]
    public void InvalidApis_AreLeftOutOfTheModel()
    {
        var run = GeneratorHarness.Run(
            """
            using Auth0.Minimal;
            namespace MyApp;
            [Auth0Config]
            [Auth0Api("Orders", Audience = "orders")]
            [Auth0Api("Billing", Audience = "https://billing")]
            internal partial class Auth0Setup { }
            """);

        var parsed = run.Result.TrackedSteps[TrackingNames.ConfigClasses]
            .SelectMany(s => s.Outputs)
            .Select(o => Assert.IsType<ConfigParseResult>(o.Value))
            .Single();

        Assert.Equal([new ApiModel("Billing", "https://billing", null, null, false)], parsed.Config.Apis);
        Assert.False(parsed.Config.UseDPoP);
        Assert.Empty(parsed.Diagnostics);
        Assert.Equal("AUTH0010", Assert.Single(parsed.ApiDiagnostics).Id);
    }

    [Fact]
    public void ClaimAttributes_AreParsedIntoTheModelAsPlainData()
    {
        var run = GeneratorHarness.Run(
            """
            using Auth0.Minimal;
            namespace MyApp;
            [Auth0Config]
            [Auth0Claim("https://example.com/roles", typeof(string[]))]
            [Auth0Claim("https://example.com/level", typeof(float))]
            internal partial class Auth0Setup { }

            [Auth0Claim(claim: "https://example.com/is_admin", type: typeof(bool), Name = "Admin")]
            internal partial class Auth0Setup { }
            """);

        var parsed = run.Result.TrackedSteps[TrackingNames.ConfigClasses]
            .SelectMany(s => s.Outputs)
            .Select(o => Assert.IsType<ConfigParseResult>(o.Value))
            .Single();

        Assert.Equal(
            [
                new ClaimModel("https://example.com/roles", "Roles", ClaimValueType.StringArray),
                new ClaimModel("https://example.com/is_admin", "Admin", ClaimValueType.Boolean),
            ],
            parsed.Config.Claims);
        Assert.Empty(parsed.Diagnostics);
        Assert.Empty(parsed.ApiDiagnostics);
        Assert.Equal("AUTH0015", Assert.Single(parsed.ClaimDiagnostics).Id);

        var seen = new HashSet<Type>();
        foreach (var value in run.Result.TrackedSteps[TrackingNames.ClaimsFile].SelectMany(s => s.Outputs).Select(o => o.Value))
        {
            AssertPlainData(Assert.IsType<ClaimsFileModel>(value).GetType(), seen, nameof(ClaimsFileModel));
        }
    }

    private static IEnumerable<Type> ModelAssemblyTypes() =>
        typeof(ConfigClassModel).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(ConfigClassModel).Namespace)
            .Where(t => !(t.IsAbstract && t.IsSealed))
            .Where(t => t.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null);

    private static void AssertPlainData(Type type, HashSet<Type> seen, string path)
    {
        if (!seen.Add(type))
        {
            return;
        }

        foreach (var forbidden in Forbidden)
        {
            Assert.False(forbidden.IsAssignableFrom(type), $"{path} is a {forbidden.Name}");
        }

        if (type.IsPrimitive || type.IsEnum || type == typeof(string))
        {
            return;
        }

        if (type.IsArray)
        {
            AssertPlainData(type.GetElementType()!, seen, path + "[]");
            return;
        }

        foreach (var argument in type.IsGenericType ? type.GetGenericArguments() : [])
        {
            AssertPlainData(argument, seen, $"{path}<{argument.Name}>");
        }

        // Look inside our own types and Roslyn's plain text structs; framework collections are covered by their type arguments.
        if (type.Assembly != typeof(ConfigClassModel).Assembly && type.Namespace != "Microsoft.CodeAnalysis.Text")
        {
            return;
        }

        const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        foreach (var property in type.GetProperties(Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
        {
            AssertPlainData(property.PropertyType, seen, path + "." + property.Name);
        }

        foreach (var field in type.GetFields(Instance))
        {
            AssertPlainData(field.FieldType, seen, path + "." + field.Name);
        }
    }
}
