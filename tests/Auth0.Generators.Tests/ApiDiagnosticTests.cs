using Auth0.Generators.Emitting;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Auth0.Generators.Tests;

/// <summary>
/// AUTH0008..AUTH0014, AUTH0019 and AUTH0020. Every config here also declares a valid Billing API that user code uses, to show that an
/// [Auth0Api] error leaves out only the API at fault and adds no compiler errors.
/// </summary>
public class ApiDiagnosticTests
{
    private const string Billing = "\"Billing\", Audience = \"https://billing.example.com\"";

    private const string BillingConsumer = """
        namespace MyApp;

        internal sealed class BillingService(IBillingApiTokenClient tokens)
        {
            public string Audience => tokens.Audience;
        }
        """;

    private const string Constants = """

        internal static class Values
        {
            public const string Name = "Orders";
            public const string Audience = "https://orders.example.com";
            public const string Scope = "read:orders";
            public const string Url = "https://orders.example.com/";
            public const bool DPoP = true;
            public static readonly string NameField = "Orders";
            public static readonly string AudienceField = "https://orders.example.com";
            public static readonly string ScopeField = "read:orders";
            public static readonly string UrlField = "https://orders.example.com/";
            public static readonly bool DPoPField = true;
        }
        """;

    [Fact]
    public void ValidApis_ReportNothing()
    {
        var source = Sources.DPoPApiConfig(
            "\"Orders\", Audience = Values.Audience, Scope = Values.Scope + \" write:orders\", BaseAddress = Values.Url, UseDPoP = Values.DPoP",
            "Values.Name + \"2\", Audience = \"urn:orders-2\"",
            Billing) + Constants;
        var run = Run(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains("Auth0.Api.Orders.g.cs", run.HintNames);
        Assert.Contains("Auth0.Api.Orders2.g.cs", run.HintNames);
    }

    [Theory]
    [InlineData("\"Orders\"", "\"orders\"")]
    [InlineData("\"Orders\"", "\"Orders\"")]
    [InlineData("\"Orders\"", "\"ORDERS\"")]
    public void AUTH0008_DuplicateName(string first, string second)
    {
        var source = Sources.ApiConfig(
            first + ", Audience = \"https://orders.example.com\"",
            second + ", Audience = \"https://orders2.example.com\"",
            Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0008", source, second, last: true);
        Assert.Contains("named 'Orders'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("case-insensitively", diagnostic.GetMessage(), StringComparison.Ordinal);

        // The first declaration keeps its name and is generated; the duplicate is left out.
        Assert.Equal(["Auth0.Api.Billing.g.cs", "Auth0.Api.Orders.g.cs"], ApiFiles(run));
        Assert.Contains("\"https://orders.example.com\"", run.Source("Auth0.Api.Orders.g.cs"), StringComparison.Ordinal);
        Assert.DoesNotContain("orders2", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Fact]
    public void AUTH0008_NamesThatDifferOtherwise_AreFine()
    {
        var run = Run(Sources.ApiConfig(
            "\"Orders\", Audience = \"https://orders.example.com\"",
            "\"OrdersApi\", Audience = \"https://orders2.example.com\"",
            "\"Orders2\", Audience = \"https://orders3.example.com\"",
            Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Equal(4, ApiFiles(run).Length);
    }

    [Fact]
    public void AUTH0009_DuplicateAudience()
    {
        const string audience = "\"https://orders.example.com\"";
        var source = Sources.ApiConfig("\"Orders\", Audience = " + audience, "\"Sales\", Audience = " + audience, Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0009", source, audience, last: true);
        Assert.Contains("'Orders' and 'Sales'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("'https://orders.example.com'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs", "Auth0.Api.Orders.g.cs"], ApiFiles(run));
    }

    [Fact]
    public void AUTH0009_DistinctAudiences_AreFine()
    {
        // Audiences are exact identifiers: these are three different APIs to Auth0.
        var run = Run(Sources.ApiConfig(
            "\"Orders\", Audience = \"https://orders.example.com\"",
            "\"Orders2\", Audience = \"https://orders.example.com/\"",
            "\"Orders3\", Audience = \"https://orders.example.com/v2\"",
            Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void AUTH0010_MissingAudience_IsReportedOnTheAttribute()
    {
        var source = Sources.ApiConfig("\"Orders\", Scope = \"read:orders\"", Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0010", source, "Auth0Api(\"Orders\", Scope = \"read:orders\")");
        Assert.Contains("The Audience of the API 'Orders' is not set", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"orders\"")]
    [InlineData("\"\"")]
    [InlineData("\"/orders\"")]
    [InlineData("\"https://\"")]
    [InlineData("\"C:\\\\orders\"")]
    [InlineData("\" https://orders.example.com\"")]
    [InlineData("\"https://orders.example.com/a b\"")]
    [InlineData("\"https://orders.example.com/\\n\"")]
    [InlineData("\"1http://orders.example.com\"")]
    public void AUTH0010_InvalidAudience(string audience)
    {
        var source = Sources.ApiConfig("\"Orders\", Audience = " + audience, Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0010", source, audience);
        Assert.StartsWith("The Audience of the API 'Orders' is " + audience, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("https://orders.example.com")]
    [InlineData("https://orders.example.com/api/v2/")]
    [InlineData("urn:orders-api")]
    [InlineData("api://orders")]
    [InlineData("http://localhost:5001")]
    public void AUTH0010_AbsoluteUris_AreFine(string audience)
    {
        var run = Run(Sources.ApiConfig("\"Orders\", Audience = \"" + audience + "\"", Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Theory]
    [InlineData("", "it is empty")]
    [InlineData(" ", "it has no scope token")]
    [InlineData("read\torders", "it contains U+0009")]
    [InlineData("read\norders", "it contains U+000A")]
    [InlineData("read:\"orders\"", "it contains '\"'")]
    [InlineData("read\\orders", "it contains '\\'")]
    [InlineData("read:zamówienia", "it contains U+00F3")]
    [InlineData("read:\u007f", "it contains U+007F")]
    [InlineData("read:\U0001F600", "it contains U+1F600")]
    public void AUTH0011_InvalidScope(string scope, string problem)
    {
        var literal = SymbolDisplay.FormatLiteral(scope, quote: true);
        var source = Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", Scope = " + literal, Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0011", source, literal);
        Assert.StartsWith($"The Scope of the API 'Orders' is {literal}, which is not an OAuth scope: {problem};", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"read:orders\"")]
    [InlineData("\"read:orders write:orders\"")]
    [InlineData("\"read:orders  write:orders\"")]
    [InlineData("\"!#$%&'()*+,-./:;<=>?@[]^_`{|}~\"")]
    public void AUTH0011_ValidScopes_AreFine(string scope)
    {
        var run = Run(Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", Scope = " + scope, Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Theory]
    [InlineData("\"my-api\"")]
    [InlineData("\"1Orders\"")]
    [InlineData("\"class\"")]
    [InlineData("\"\"")]
    [InlineData("\"@Orders\"")]
    [InlineData("\"Orders Api\"")]
    [InlineData("\"Orders.Api\"")]
    [InlineData("null")]
    public void AUTH0012_InvalidName(string name)
    {
        var source = Sources.ApiConfig(name + ", Audience = \"https://orders.example.com\"", Billing);
        var run = Run(source, allowCompilerErrors: ["CS8625"]);

        var diagnostic = AssertApiError(run, "AUTH0012", source, name, allowCompilerErrors: ["CS8625"]);
        Assert.StartsWith("The API name " + name + " is not a C# identifier", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("Orders")]
    [InlineData("_orders")]
    [InlineData("record")]
    [InlineData("Zamówienia")]
    public void AUTH0012_Identifiers_AreFine(string name)
    {
        var run = Run(Sources.ApiConfig("\"" + name + "\", Audience = \"https://orders.example.com\"", Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains("Auth0.Api." + name + ".g.cs", run.HintNames);
        Assert.NotNull(run.OutputCompilation.GetTypeByMetadataName("MyApp.I" + name + "ApiTokenClient"));
    }

    [Theory]
    [InlineData("\"orders.example.com\"")]
    [InlineData("\"ftp://orders.example.com/\"")]
    [InlineData("\"file:///srv/orders\"")]
    [InlineData("\"/orders\"")]
    [InlineData("\"\"")]
    [InlineData("\"https://\"")]
    [InlineData("\"https://orders.example.com/?tenant=1\"")]
    [InlineData("\"https://orders.example.com/#top\"")]
    [InlineData("\"https://user:secret@orders.example.com/\"")]
    [InlineData("\"https://orders.example.com/a b/\"")]
    public void AUTH0013_InvalidBaseAddress(string baseAddress)
    {
        var source = Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = " + baseAddress, Billing);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0013", source, baseAddress);
        Assert.StartsWith("The BaseAddress of the API 'Orders' is " + baseAddress, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
        Assert.DoesNotContain("OrdersApiHttpClient", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("\"https://orders.example.com/\"")]
    [InlineData("\"https://orders.example.com/api/v1/\"")]
    [InlineData("\"http://localhost:5001\"")]
    [InlineData("\"HTTPS://ORDERS.EXAMPLE.COM\"")]
    public void AUTH0013_WebUrls_AreFine(string baseAddress)
    {
        var run = Run(Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = " + baseAddress, Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Equal(baseAddress != "null", run.Source("Auth0.Api.Orders.g.cs").Contains("OrdersApiHttpClient", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Values.NameField, Audience = Values.Audience", "Values.NameField", "name")]
    [InlineData("name: Values.NameField, Audience = Values.Audience", "Values.NameField", "name")]
    [InlineData("Values.Name, Audience = Values.AudienceField", "Values.AudienceField", "Audience")]
    [InlineData("Values.Name, Audience = Values.Audience, Scope = Values.ScopeField", "Values.ScopeField", "Scope")]
    [InlineData("Values.Name, Audience = Values.Audience, BaseAddress = Values.UrlField", "Values.UrlField", "BaseAddress")]
    [InlineData("Values.Name, Audience = Values.Audience, UseDPoP = Values.DPoPField", "Values.DPoPField", "UseDPoP")]
    [InlineData("Values.Name, Audience = $\"https://{Values.NameField}.example.com\"", "$\"https://{Values.NameField}.example.com\"", "Audience")]
    public void AUTH0014_NonConstantArgument(string arguments, string locatedText, string argumentName)
    {
        var source = Sources.ApiConfig(arguments, Billing) + Constants;
        var run = Run(source, allowCompilerErrors: ["CS0182"]);

        var diagnostic = AssertApiError(run, "AUTH0014", source, locatedText, allowCompilerErrors: ["CS0182"]);
        Assert.StartsWith($"The value of '{argumentName}' in [Auth0Api] is not a compile-time constant", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Fact]
    public void AUTH0014_IsNotReportedForAnExpressionThatDoesNotBind()
    {
        var source = Sources.ApiConfig("\"Orders\", Audience = Missing.Audience", Billing);
        var run = GeneratorHarness.Run(source, Sources.Program, BillingConsumer);

        // The compiler's own error says more than a second one would.
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(["CS0103"], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Fact]
    public void ArgumentsOfTheWrongType_LeaveOutTheApiWithoutAnotherError()
    {
        var source = Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", UseDPoP = 1", Billing);
        var run = GeneratorHarness.Run(source, Sources.Program, BillingConsumer);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(["CS0029"], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("\"Orders\", Audience = \"https://orders.example.com\", UseDPoP = true", "true")]
    [InlineData("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = null, UseDPoP = true", "true")]
    [InlineData("\"Orders\", UseDPoP = Values.DPoP, Audience = \"https://orders.example.com\"", "Values.DPoP")]
    public void AUTH0019_DPoPWithoutBaseAddress_IsReportedOnUseDPoP(string arguments, string locatedText)
    {
        var source = Sources.DPoPApiConfig(arguments, Billing) + (arguments.Contains("Values.", StringComparison.Ordinal) ? Constants : string.Empty);
        var run = Run(source);

        // The last occurrence: [Auth0Config(UseDPoP = true)] comes first.
        var diagnostic = AssertApiError(run, "AUTH0019", source, locatedText, last: true);
        Assert.StartsWith("The API 'Orders' sets UseDPoP = true but has no BaseAddress;", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
        Assert.DoesNotContain("Orders", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = \"https://orders.example.com/\", UseDPoP = true")]
    [InlineData("\"Orders\", Audience = \"https://orders.example.com\", UseDPoP = false")]
    [InlineData("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = null, UseDPoP = false")]
    public void AUTH0019_DPoPWithABaseAddressOrNoDPoP_IsFine(string arguments)
    {
        var run = Run(Sources.DPoPApiConfig(arguments, Billing));

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains("Auth0.Api.Orders.g.cs", run.HintNames);
    }

    [Theory]
    [InlineData("\"orders\"", "AUTH0013")]
    [InlineData("Values.UrlField", "AUTH0014")]
    public void AUTH0019_IsNotReportedForABaseAddressWithAnErrorOfItsOwn(string baseAddress, string id)
    {
        var source = Sources.DPoPApiConfig("\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = " + baseAddress + ", UseDPoP = true", Billing)
            + Constants;
        var run = Run(source, allowCompilerErrors: ["CS0182"]);

        AssertApiError(run, id, source, baseAddress, allowCompilerErrors: ["CS0182"]);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Theory]
    [InlineData("[Auth0Config]")]
    [InlineData("[Auth0Config(UseDPoP = false)]")]
    [InlineData("[Auth0Config(LoginPath = \"/signin\")]")]
    public void AUTH0020_DPoPWhileDPoPIsOff_IsReportedOnUseDPoP(string config)
    {
        var source = Sources.ApiConfig(
                "\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = \"https://orders.example.com/\", UseDPoP = true", Billing)
            .Replace("[Auth0Config]", config, StringComparison.Ordinal);
        var run = Run(source);

        var diagnostic = AssertApiError(run, "AUTH0020", source, "true", last: true);
        Assert.StartsWith("The API 'Orders' sets UseDPoP = true, but DPoP is globally off:", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("[Auth0Config] of 'MyApp.Auth0Setup'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
        Assert.DoesNotContain("Orders", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[Auth0Config(UseDPoP = true)]", "true")]
    [InlineData("[Auth0Config]", "false")]
    [InlineData("[Auth0Config(UseDPoP = false)]", "false")]
    public void AUTH0020_DPoPOnOrNotUsed_IsFine(string config, string useDPoP)
    {
        var source = Sources.ApiConfig(
                "\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = \"https://orders.example.com/\", UseDPoP = " + useDPoP, Billing)
            .Replace("[Auth0Config]", config, StringComparison.Ordinal);
        var run = Run(source);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains(", \"https://orders.example.com/\", " + useDPoP + "),", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UseDPoP = Values.DPoPField", "CS0182")]
    [InlineData("UseDPoP = 1", "CS0029")]
    public void AUTH0020_IsNotReportedWhenAuth0ConfigsUseDPoPHasACompilerError(string argument, string compilerError)
    {
        // The compiler's error is the real cause; the API is generated as declared, so nothing else breaks.
        var source = Sources.ApiConfig(
                "\"Orders\", Audience = \"https://orders.example.com\", BaseAddress = \"https://orders.example.com/\", UseDPoP = true", Billing)
            .Replace("[Auth0Config]", "[Auth0Config(" + argument + ")]", StringComparison.Ordinal) + Constants;
        var run = Run(source, allowCompilerErrors: [compilerError]);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal([compilerError], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
        Assert.Contains("Auth0.Api.Orders.g.cs", run.HintNames);
    }

    [Fact]
    public void DPoPWithoutBaseAddressWhileDPoPIsOff_ReportsBoth()
    {
        var source = Sources.ApiConfig("\"Orders\", Audience = \"https://orders.example.com\", UseDPoP = true", Billing);
        var run = Run(source);

        Assert.Equal(["AUTH0019", "AUTH0020"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("true", DiagnosticTests.Text(source, d)));
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Fact]
    public void DPoPErrors_AreReportedOnTheDeclarationOfTheApi()
    {
        const string other = "namespace MyApp;\n[Auth0.Minimal.Auth0Api(\"Orders\", Audience = \"https://orders.example.com\", UseDPoP = true)]\ninternal partial class Auth0Setup { }";
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.DPoPApiConfig(Billing), "/src/Config.cs"),
            GeneratorHarness.Parse(other, "/src/Other.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"),
            GeneratorHarness.Parse(BillingConsumer, "/src/Billing.cs"));
        var run = GeneratorHarness.Run(compilation);

        // DPoP is on for the class even though this part of it does not say so.
        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("AUTH0019", diagnostic.Id);
        Assert.Equal("/src/Other.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("true", DiagnosticTests.Text(other, diagnostic));
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void SeveralProblemsInOneApi_AreAllReported()
    {
        var source = Sources.ApiConfig("\"my-api\", Audience = \"orders\", Scope = \"\", BaseAddress = \"orders\"", Billing);
        var run = Run(source);

        Assert.Equal(["AUTH0010", "AUTH0011", "AUTH0012", "AUTH0013"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.Contains("The Audience of the API 'my-api'", run.GeneratorDiagnostics.Single(d => d.Id == "AUTH0010").GetMessage(), StringComparison.Ordinal);
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    [Fact]
    public void ApiErrorOnAnotherPartialDeclaration_IsReportedThere()
    {
        const string other = "namespace MyApp;\n[Auth0.Minimal.Auth0Api(\"Orders\", Audience = \"orders\")]\ninternal partial class Auth0Setup { }";
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.ApiConfig(Billing), "/src/Config.cs"),
            GeneratorHarness.Parse(other, "/src/Other.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"),
            GeneratorHarness.Parse(BillingConsumer, "/src/Billing.cs"));
        var run = GeneratorHarness.Run(compilation);

        var diagnostic = Assert.Single(run.GeneratorDiagnostics);
        Assert.Equal("AUTH0010", diagnostic.Id);
        Assert.Equal("/src/Other.cs", diagnostic.Location.GetLineSpan().Path);
        Assert.Equal("\"orders\"", DiagnosticTests.Text(other, diagnostic));
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void ApiErrors_AreReportedOnceWhenTwoPartsRepeatAuth0Config()
    {
        var run = GeneratorHarness.Run(
            Sources.ApiConfig("\"Orders\", Audience = \"orders\""),
            "namespace MyApp;\n[Auth0.Minimal.Auth0Config]\ninternal partial class Auth0Setup { }");

        Assert.Equal("AUTH0010", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal(["CS0579"], run.OutputCompilation.WarningsAndErrors().Select(d => d.Id));
    }

    [Fact]
    public void ConfigClassErrors_StillGenerateTheApiTypes()
    {
        // Only stubs for the methods, but the API types do not depend on the class, so code using them compiles.
        var source = Sources.ApiConfig(Billing).Replace("internal partial class", "internal class", StringComparison.Ordinal);
        var run = GeneratorHarness.Run(source, Sources.Program, BillingConsumer);

        Assert.Equal("AUTH0001", Assert.Single(run.GeneratorDiagnostics).Id);
        Assert.Equal(["Auth0.Api.Billing.g.cs", "Auth0.Endpoints.g.cs", "Auth0.Services.g.cs"], run.HintNames);
        Assert.Contains(SourceWriter.ThrowInvalidConfig, run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public void ApisOfASecondConfigClass_AreCheckedButNotGenerated()
    {
        var compilation = GeneratorHarness.CreateCompilation(
            GeneratorHarness.Parse(Sources.ApiConfig(Billing), "/src/A.cs"),
            GeneratorHarness.Parse(
                Sources.ApiConfig("\"Orders\", Audience = \"orders\"").Replace("Auth0Setup", "SecondSetup", StringComparison.Ordinal),
                "/src/B.cs"),
            GeneratorHarness.Parse(Sources.Program, "/src/Program.cs"));
        var run = GeneratorHarness.Run(compilation);

        Assert.Equal(["AUTH0004", "AUTH0010"], run.GeneratorDiagnostics.Select(d => d.Id).Order());
        Assert.Equal(["Auth0.Api.Billing.g.cs"], ApiFiles(run));
    }

    private static GeneratorRun Run(string source, string[]? allowCompilerErrors = null)
    {
        var run = GeneratorHarness.Run(source, Sources.Program, BillingConsumer);

        // Whatever else is wrong, the valid API and the real (not stub) registration are generated.
        Assert.Contains("Auth0.Api.Billing.g.cs", run.HintNames);
        Assert.Contains("AddAuth0Core(", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
        Assert.Contains("Auth0Config.Routes.g.cs", run.HintNames);
        var allowed = allowCompilerErrors ?? [];
        Assert.Empty(run.OutputCompilation.WarningsAndErrors().Where(d => !allowed.Contains(d.Id)));
        return run;
    }

    private static Diagnostic AssertApiError(
        GeneratorRun run, string id, string source, string locatedText, bool last = false, string[]? allowCompilerErrors = null)
    {
        var diagnostic = DiagnosticTests.AssertSingle(run, id, source, locatedText, allowCompilerErrors);
        var expectedStart = last ? source.LastIndexOf(locatedText, StringComparison.Ordinal) : source.IndexOf(locatedText, StringComparison.Ordinal);
        Assert.Equal(expectedStart, diagnostic.Location.SourceSpan.Start);
        Assert.Equal($"https://github.com/auth0-minimal/auth0-minimal/blob/main/docs/diagnostics/{id}.md", diagnostic.Descriptor.HelpLinkUri);
        return diagnostic;
    }

    private static string[] ApiFiles(GeneratorRun run) =>
        [.. run.HintNames.Where(h => h.StartsWith("Auth0.Api.", StringComparison.Ordinal))];
}
