using System.Reflection;
using Auth0.Generators.Emitting;
using Auth0.Minimal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Generators.Tests;

/// <summary>[Auth0Config(UseDPoP = true)]: DPoP on by default, unless the configuration sets it.</summary>
public class DPoPEmissionTests
{
    private const string DPoPConfig = """
        using Auth0.Minimal;

        namespace MyApp;

        /// <summary>Auth0 settings.</summary>
        [Auth0Config(UseDPoP = true)]
        [Auth0Api("Orders", Audience = "https://orders.example.com", BaseAddress = "https://orders.example.com/", UseDPoP = true)]
        [Auth0Api("Billing", Audience = "https://billing.example.com")]
        public partial class Auth0Setup
        {
        }
        """;

    private const string DPoPOnlyConfig = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config(UseDPoP = true)]
        internal partial class Auth0Setup
        {
        }
        """;

    [Fact]
    public void UseDPoP_CompilesWithoutAnyDiagnostics()
    {
        var run = GeneratorHarness.Run(DPoPConfig, Sources.Program, Sources.ApiConsumer);

        Assert.Empty(run.DriverDiagnostics);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Null(run.Result.Exception);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains(
            "new global::Auth0.Minimal.Auth0ApiDefinition(\"Orders\", \"https://orders.example.com\", null, \"https://orders.example.com/\", true),",
            run.Source(ServicesEmitter.HintName));
    }

    [Fact]
    public void UseDPoP_PassesTheDefaultThroughAWrapperThatDefersToTheConfiguration()
    {
        var run = GeneratorHarness.Run(DPoPOnlyConfig, Sources.Program);
        var services = run.Source(ServicesEmitter.HintName);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains(
            "global::Auth0.Minimal.AspNetCore.Auth0ServiceCollectionExtensions.AddAuth0Core(services, configuration, global::MyApp.Auth0Setup.Routes,\n"
            + "                global::System.Array.Empty<global::Auth0.Minimal.Auth0ApiDefinition>(),\n"
            + "                DefaultToDPoP(configuration, configure));\n",
            services);
        Assert.Contains(
            "        private static global::System.Action<global::Auth0.Minimal.Auth0Options> DefaultToDPoP(\n"
            + "            global::Microsoft.Extensions.Configuration.IConfiguration configuration,\n"
            + "            global::System.Action<global::Auth0.Minimal.Auth0Options>? configure) =>\n"
            + "            options =>\n"
            + "            {\n"
            + "                if (string.IsNullOrEmpty(configuration[\"AUTH0_USE_DPOP\"]) && string.IsNullOrEmpty(configuration[\"Auth0:UseDPoP\"]))\n"
            + "                {\n"
            + "                    options.UseDPoP = true;\n"
            + "                }\n"
            + "\n"
            + "                configure?.Invoke(options);\n"
            + "            };\n",
            services);

        // The option is never set outright, where it would override the configuration.
        Assert.Equal(1, Count(services, "options.UseDPoP = true;"));
        Assert.DoesNotContain("KeepDeclaredClaims", services, StringComparison.Ordinal);
    }

    [Fact]
    public void UseDPoPWithClaims_SetsTheDefaultBeforeKeepingTheClaims()
    {
        var run = GeneratorHarness.Run(
            Sources.TwoClaimsConfig.Replace("[Auth0Config]", "[Auth0Config(UseDPoP = true)]", StringComparison.Ordinal),
            Sources.Program,
            Sources.ClaimsConsumer);
        var services = run.Source(ServicesEmitter.HintName);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Contains("                DefaultToDPoP(configuration, KeepDeclaredClaims(configure)));\n", services);
        Assert.Contains("private static global::System.Action<global::Auth0.Minimal.Auth0Options> KeepDeclaredClaims(", services);
        Assert.Contains("private static global::System.Action<global::Auth0.Minimal.Auth0Options> DefaultToDPoP(", services);
    }

    [Theory]
    [InlineData("[Auth0Config(UseDPoP = false)]")]
    [InlineData("[Auth0Config(UseDPoP = Values.Off)]")]
    public void UseDPoPFalse_LeavesTheServicesAsTheyWere(string config)
    {
        const string values = "\ninternal static class Values\n{\n    public const bool Off = false;\n}\n";
        var expected = GeneratorHarness.Run(Sources.TwoApisConfig + values, Sources.Program);
        var run = GeneratorHarness.Run(Sources.TwoApisConfig.Replace("[Auth0Config]", config, StringComparison.Ordinal) + values, Sources.Program);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
        Assert.Equal(expected.HintNames, run.HintNames);
        Assert.All(expected.HintNames, hint => Assert.Equal(expected.Source(hint), run.Source(hint)));
        Assert.DoesNotContain("DefaultToDPoP", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
        Assert.Contains("                },\n                configure);\n", run.Source(ServicesEmitter.HintName));
    }

    [Fact]
    public void UseDPoP_LeavesTheRoutesAndApiFilesAsTheyWere()
    {
        var expected = GeneratorHarness.Run(Sources.TwoApisConfig, Sources.Program);
        var run = GeneratorHarness.Run(Sources.TwoApisConfig.Replace("[Auth0Config]", "[Auth0Config(UseDPoP = true)]", StringComparison.Ordinal), Sources.Program);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Equal(expected.HintNames, run.HintNames);
        Assert.All(
            expected.HintNames.Where(h => h != ServicesEmitter.HintName),
            hint => Assert.Equal(expected.Source(hint), run.Source(hint)));
    }

    [Fact]
    public void ConfigClassErrors_GiveTheStubWithoutTheWrapper()
    {
        var run = GeneratorHarness.Run(Sources.Config("UseDPoP = true", "internal class Auth0Setup"), Sources.Program);

        Assert.Equal("AUTH0001", Assert.Single(run.GeneratorDiagnostics).Id);
        DiagnosticTests.AssertStubsOnly(run);
        Assert.DoesNotContain("DefaultToDPoP", run.Source(ServicesEmitter.HintName), StringComparison.Ordinal);
        Assert.Empty(run.OutputCompilation.WarningsAndErrors());
    }

    [Fact]
    public async Task AddAuth0Generated_TurnsDPoPOnOnlyWhenTheConfigurationIsSilent()
    {
        // One compilation for all of them: each case is the DPoP setting in the configuration.
        (string Case, Dictionary<string, string?> Settings, bool Expected)[] cases =
        [
            ("silent", [], true),
            ("AUTH0_USE_DPOP=false", new() { ["AUTH0_USE_DPOP"] = "false" }, false),
            ("AUTH0_USE_DPOP=true", new() { ["AUTH0_USE_DPOP"] = "true" }, true),
            ("auth0_use_dpop=FALSE", new() { ["auth0_use_dpop"] = "FALSE" }, false),
            ("Auth0:UseDPoP=false", new() { ["Auth0:UseDPoP"] = "false" }, false),
            ("Auth0:UseDPoP=true", new() { ["Auth0:UseDPoP"] = "true" }, true),
            ("AUTH0_USE_DPOP=false, Auth0:UseDPoP=true", new() { ["AUTH0_USE_DPOP"] = "false", ["Auth0:UseDPoP"] = "true" }, false),
            // Empty values are unset to the runtime too.
            ("AUTH0_USE_DPOP=", new() { ["AUTH0_USE_DPOP"] = "" }, true),
            ("AUTH0_USE_DPOP=, Auth0:UseDPoP=false", new() { ["AUTH0_USE_DPOP"] = "", ["Auth0:UseDPoP"] = "false" }, false),
        ];

        await RuntimeTests.WithLoadedAssemblyAsync(DPoPOnlyConfig, assembly =>
        {
            foreach (var (name, settings, expected) in cases)
            {
                bool? seenByConfigure = null;
                var options = ResolveOptions(assembly, settings, o => seenByConfigure = o.UseDPoP);

                Assert.True(expected == options.UseDPoP, name + ": expected UseDPoP " + expected);
                Assert.True(expected == seenByConfigure, name + ": configure saw UseDPoP " + seenByConfigure);
            }

            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_WithUseDPoP_LetsTheAppsConfigureHaveTheLastWord()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(DPoPOnlyConfig, assembly =>
        {
            Assert.True(ResolveOptions(assembly, [], null).UseDPoP);
            Assert.False(ResolveOptions(assembly, [], o => o.UseDPoP = false).UseDPoP);
            Assert.True(ResolveOptions(assembly, new() { ["AUTH0_USE_DPOP"] = "false" }, o => o.UseDPoP = true).UseDPoP);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_WithoutUseDPoP_LeavesDPoPOff()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Sources.DefaultConfig, assembly =>
        {
            Assert.False(ResolveOptions(assembly, [], null).UseDPoP);
            Assert.True(ResolveOptions(assembly, new() { ["AUTH0_USE_DPOP"] = "true" }, null).UseDPoP);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_WithADPoPApi_UsesDPoPUnlessTheConfigurationTurnsItOff()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(DPoPConfig, assembly =>
        {
            var options = ResolveOptions(assembly, [], null);
            Assert.True(options.UseDPoP);
            Assert.Equal(
                [
                    new Auth0ApiDefinition("Orders", "https://orders.example.com", null, "https://orders.example.com/", true),
                    new Auth0ApiDefinition("Billing", "https://billing.example.com", null, null, false),
                ],
                options.Apis);

            // Turned off at run time, the API that needs DPoP stops the app at start-up with a message that says why.
            var error = Assert.Throws<Auth0ConfigurationException>(() => ResolveOptions(assembly, new() { ["AUTH0_USE_DPOP"] = "false" }, null));
            Assert.Contains(error.Problems, p => p.StartsWith("API 'Orders' uses DPoP but DPoP is off", StringComparison.Ordinal));
            return Task.CompletedTask;
        });
    }

    private static Auth0Options ResolveOptions(Assembly assembly, Dictionary<string, string?> settings, Action<Auth0Options>? configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var values = new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = "tenant.example.com",
            ["AUTH0_CLIENT_ID"] = "c",
            ["AUTH0_CLIENT_SECRET"] = "s",
            ["AUTH0_SECRET"] = "0123456789abcdef0123456789abcdef",
            ["APP_BASE_URL"] = "https://app.example.com",
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var add = assembly.GetType("Microsoft.Extensions.DependencyInjection.Auth0GeneratedServiceCollectionExtensions", throwOnError: true)!
            .GetMethod("AddAuth0Generated")!;
        Assert.Same(services, add.Invoke(null, [services, configuration, configure]));

        // The options are built once, so disposing the provider afterwards leaves them intact.
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<Auth0Options>();
        Assert.Equal("tenant.example.com", options.Domain);
        return options;
    }

    private static int Count(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
