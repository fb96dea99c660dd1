using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;
using Auth0.Minimal;
using Auth0.Minimal.AspNetCore;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Generators.Tests;

/// <summary>Compiles user code plus generated code, loads it and checks what it does.</summary>
public class RuntimeTests
{
    private const string Config = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config(LoginPath = "/signin", ProfilePath = "/me", EnableBackchannelLogout = false)]
        internal partial class Auth0Setup
        {
        }
        """;

    [Fact]
    public void Routes_HoldTheConfiguredValues()
    {
        WithLoadedAssembly(Config, assembly =>
        {
            var property = assembly.GetType("MyApp.Auth0Setup", throwOnError: true)!
                .GetProperty("Routes", BindingFlags.NonPublic | BindingFlags.Static)!;
            var routes = Assert.IsType<Auth0Routes>(property.GetValue(null));

            Assert.Equal("/signin", routes.Login);
            Assert.Equal(Auth0Routes.DefaultCallback, routes.Callback);
            Assert.Equal(Auth0Routes.DefaultLogout, routes.Logout);
            Assert.Equal("/me", routes.Profile);
            Assert.Equal(Auth0Routes.DefaultAccessToken, routes.AccessToken);
            Assert.Equal(Auth0Routes.DefaultBackchannelLogout, routes.BackchannelLogout);
            Assert.True(routes.EnableAccessTokenEndpoint);
            Assert.False(routes.EnableBackchannelLogout);
            Assert.Same(routes, property.GetValue(null));
        });
    }

    [Fact]
    public async Task MapAuth0Generated_RegistersTheEnabledEndpoints()
    {
        await WithLoadedAssemblyAsync(Config, async assembly =>
        {
            await using var app = WebApplication.CreateSlimBuilder().Build();
            var map = assembly.GetType("Microsoft.AspNetCore.Builder.Auth0GeneratedEndpointRouteBuilderExtensions", throwOnError: true)!
                .GetMethod("MapAuth0Generated")!;

            Assert.IsType<RouteGroupBuilder>(map.Invoke(null, [app]));

            var endpoints = ((IEndpointRouteBuilder)app).DataSources
                .SelectMany(d => d.Endpoints)
                .OfType<RouteEndpoint>()
                .Select(e => (
                    Path: e.RoutePattern.RawText,
                    Method: Assert.Single(e.Metadata.GetRequiredMetadata<HttpMethodMetadata>().HttpMethods),
                    Name: e.Metadata.GetRequiredMetadata<IEndpointNameMetadata>().EndpointName))
                .OrderBy(e => e.Name, StringComparer.Ordinal)
                .ToArray();

            Assert.Equal(
                [
                    ("/auth/access-token", "GET", "Auth0AccessToken"),
                    ("/auth/callback", "GET", "Auth0Callback"),
                    ("/signin", "GET", "Auth0Login"),
                    ("/auth/logout", "GET", "Auth0Logout"),
                    ("/me", "GET", "Auth0Profile"),
                ],
                endpoints);
        });
    }

    [Fact]
    public async Task MapAuth0Generated_MarksEveryRoute_AndKeepsOnlyTheJsonRoutesInTheApiDescription()
    {
        await WithLoadedAssemblyAsync(Sources.Config("EnableConnectAccountEndpoint = true"), async assembly =>
        {
            await using var app = WebApplication.CreateSlimBuilder().Build();
            MapAuth0Generated(assembly, app);

            var endpoints = ((IEndpointRouteBuilder)app).DataSources
                .SelectMany(d => d.Endpoints)
                .Select(e => (
                    Name: e.Metadata.GetRequiredMetadata<IEndpointNameMetadata>().EndpointName,
                    e.Metadata.GetRequiredMetadata<Auth0RouteMetadata>().Kind,
                    Described: e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true }))
                .OrderBy(e => e.Name, StringComparer.Ordinal)
                .ToArray();

            Assert.Equal(
                [
                    ("Auth0AccessToken", Auth0RouteKind.AccessToken, true),
                    ("Auth0BackchannelLogout", Auth0RouteKind.BackchannelLogout, false),
                    ("Auth0Callback", Auth0RouteKind.Callback, false),
                    ("Auth0ConnectAccount", Auth0RouteKind.ConnectAccount, false),
                    ("Auth0Login", Auth0RouteKind.Login, false),
                    ("Auth0Logout", Auth0RouteKind.Logout, false),
                    ("Auth0Profile", Auth0RouteKind.Profile, true),
                ],
                endpoints);
        });
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OpenApiDocument_DescribesTheJsonRoutesAtTheConfiguredPaths_WhenMapped(bool accessToken)
    {
        var config = Sources.Config(
            $"""LoginPath = "/signin", ProfilePath = "/me", AccessTokenPath = "/token", EnableAccessTokenEndpoint = {(accessToken ? "true" : "false")}""");
        await WithLoadedAssemblyAsync(config, async assembly =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["AUTH0_DOMAIN"] = "tenant.example.com",
                ["AUTH0_CLIENT_ID"] = "c",
                ["AUTH0_CLIENT_SECRET"] = "s",
                ["AUTH0_SECRET"] = "0123456789abcdef0123456789abcdef",
                ["APP_BASE_URL"] = "https://app.example.com",
            });
            assembly.GetType("Microsoft.Extensions.DependencyInjection.Auth0GeneratedServiceCollectionExtensions", throwOnError: true)!
                .GetMethod("AddAuth0Generated")!.Invoke(null, [builder.Services, builder.Configuration, null]);
            builder.Services.AddOpenApi(options => options.AddAuth0());
            await using var app = builder.Build();
            MapAuth0Generated(assembly, app);
            app.MapOpenApi();
            await app.StartAsync();

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            using var http = new HttpClient();
            using var document = JsonDocument.Parse(await http.GetStringAsync(address + "/openapi/v1.json"));
            var paths = document.RootElement.GetProperty("paths").EnumerateObject()
                .Select(p => (p.Name, Operation: p.Value.GetProperty("get").GetProperty("operationId").GetString()))
                .ToArray();

            Assert.Equal(accessToken ? [("/me", "Auth0Profile"), ("/token", "Auth0AccessToken")] : [("/me", "Auth0Profile")], paths);
            await app.StopAsync();
        });
    }

    private static void MapAuth0Generated(Assembly assembly, WebApplication app) =>
        assembly.GetType("Microsoft.AspNetCore.Builder.Auth0GeneratedEndpointRouteBuilderExtensions", throwOnError: true)!
            .GetMethod("MapAuth0Generated")!.Invoke(null, [app]);

    private static void WithLoadedAssembly(string source, Action<Assembly> test) =>
        WithLoadedAssemblyAsync(source, a =>
        {
            test(a);
            return Task.CompletedTask;
        }).GetAwaiter().GetResult();

    internal static async Task WithLoadedAssemblyAsync(string source, Func<Assembly, Task> test, params string[] otherSources)
    {
        var run = GeneratorHarness.Run([source, Sources.Program, .. otherSources]);
        Assert.Empty(run.GeneratorDiagnostics);

        using var image = new MemoryStream();
        var emit = run.OutputCompilation.Emit(image);
        Assert.True(emit.Success, string.Join(Environment.NewLine, emit.Diagnostics));
        image.Position = 0;

        // Collectible, and resolving the runtime from the default context so Auth0Routes is the test's own type.
        var context = new AssemblyLoadContext("Auth0.Generators.Tests.Generated", isCollectible: true);
        try
        {
            await test(context.LoadFromStream(image));
        }
        finally
        {
            context.Unload();
        }
    }
}
