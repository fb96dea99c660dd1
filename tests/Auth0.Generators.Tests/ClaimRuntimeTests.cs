using System.Reflection;
using System.Text.Json;
using Auth0.Minimal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Generators.Tests;

/// <summary>Compiles claims of every supported type, loads the result and reads users through the generated accessors.</summary>
public class ClaimRuntimeTests
{
    private const string Config = """
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config]
        [Auth0Claim("https://example.com/roles", typeof(string[]))]
        [Auth0Claim("https://example.com/favorite_color", typeof(string))]
        [Auth0Claim("https://example.com/is_admin", typeof(bool), Name = "IsAdmin")]
        [Auth0Claim("https://example.com/level", typeof(int))]
        [Auth0Claim("https://example.com/quota", typeof(long))]
        [Auth0Claim("https://example.com/score", typeof(double))]
        internal partial class Auth0Setup
        {
        }
        """;

    private static readonly string[] AllClaims =
    [
        "https://example.com/roles", "https://example.com/favorite_color", "https://example.com/is_admin",
        "https://example.com/level", "https://example.com/quota", "https://example.com/score",
    ];

    // One compilation for all of them: each case is a user with just that claim (and an unrelated one).
    private static readonly (string Accessor, string Claim, string Json, object? Expected)[] Cases =
    [
        ("GetRoles", "https://example.com/roles", """["admin","editor"]""", new[] { "admin", "editor" }),
        ("GetRoles", "https://example.com/roles", """[]""", Array.Empty<string>()),
        ("GetRoles", "https://example.com/roles", "\"admin\"", new[] { "admin" }),
        ("GetRoles", "https://example.com/roles", """["admin",1]""", null),
        ("GetRoles", "https://example.com/roles", """["admin",null]""", null),
        ("GetRoles", "https://example.com/roles", """[["admin"]]""", null),
        ("GetRoles", "https://example.com/roles", """{"admin":true}""", null),
        ("GetRoles", "https://example.com/roles", "null", null),
        ("GetRoles", "https://example.com/roles", "7", null),
        ("GetFavoriteColor", "https://example.com/favorite_color", "\"blue\"", "blue"),
        ("GetFavoriteColor", "https://example.com/favorite_color", "\"\"", ""),
        ("GetFavoriteColor", "https://example.com/favorite_color", "42", null),
        ("GetFavoriteColor", "https://example.com/favorite_color", """["blue"]""", null),
        ("GetFavoriteColor", "https://example.com/favorite_color", "null", null),
        ("GetIsAdmin", "https://example.com/is_admin", "true", true),
        ("GetIsAdmin", "https://example.com/is_admin", "false", false),
        ("GetIsAdmin", "https://example.com/is_admin", "\"true\"", null),
        ("GetIsAdmin", "https://example.com/is_admin", "1", null),
        ("GetIsAdmin", "https://example.com/is_admin", "null", null),
        ("GetLevel", "https://example.com/level", "42", 42),
        ("GetLevel", "https://example.com/level", "-7", -7),
        ("GetLevel", "https://example.com/level", "42.5", null),
        ("GetLevel", "https://example.com/level", "2147483648", null),
        ("GetLevel", "https://example.com/level", "\"42\"", null),
        ("GetLevel", "https://example.com/level", "true", null),
        ("GetQuota", "https://example.com/quota", "2147483648", 2147483648L),
        ("GetQuota", "https://example.com/quota", "-1", -1L),
        ("GetQuota", "https://example.com/quota", "9223372036854775808", null),
        ("GetQuota", "https://example.com/quota", "1.5", null),
        ("GetQuota", "https://example.com/quota", "\"1\"", null),
        ("GetScore", "https://example.com/score", "0.5", 0.5),
        ("GetScore", "https://example.com/score", "42", 42.0),
        ("GetScore", "https://example.com/score", "-1e3", -1000.0),
        ("GetScore", "https://example.com/score", "\"0.5\"", null),
        ("GetScore", "https://example.com/score", "[0.5]", null),
    ];

    [Fact]
    public async Task Accessors_ReadEachKindAndReturnNullForAnyOther()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Config, assembly =>
        {
            var claims = assembly.GetType("MyApp.Auth0SetupClaims", throwOnError: true)!;
            Assert.Equal(
                AllClaims,
                new[] { "RolesClaim", "FavoriteColorClaim", "IsAdminClaim", "LevelClaim", "QuotaClaim", "ScoreClaim" }
                    .Select(name => (string)claims.GetField(name)!.GetValue(null)!));

            foreach (var (accessor, claim, json, expected) in Cases)
            {
                var actual = Read(claims, accessor, User((claim, json), ("https://example.com/other", "\"x\"")));
                Assert.True(SameValue(expected, actual), $"{accessor} of {json}: expected {Show(expected)}, got {Show(actual)}");
            }

            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Accessors_ReturnNullForAMissingClaimAndThrowForANullUser()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Config, assembly =>
        {
            var claims = assembly.GetType("MyApp.Auth0SetupClaims", throwOnError: true)!;
            var accessors = new[] { "GetRoles", "GetFavoriteColor", "GetIsAdmin", "GetLevel", "GetQuota", "GetScore" };

            foreach (var accessor in accessors)
            {
                Assert.Null(Read(claims, accessor, new Auth0User()));
                Assert.Null(Read(claims, accessor, User(("sub", "\"auth0|1\""), ("email", "\"a@example.com\""))));
                var error = Assert.Throws<TargetInvocationException>(() => Read(claims, accessor, null));
                Assert.Equal("user", Assert.IsType<ArgumentNullException>(error.InnerException).ParamName);
            }

            // The return types are the nullable forms of the declared types.
            Assert.Equal(
                [typeof(string[]), typeof(string), typeof(bool?), typeof(int?), typeof(long?), typeof(double?)],
                accessors.Select(a => claims.GetMethod(a)!.ReturnType));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task Accessors_ReadAUserRestoredFromTheSession()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Config, assembly =>
        {
            var claims = assembly.GetType("MyApp.Auth0SetupClaims", throwOnError: true)!;
            using var document = JsonDocument.Parse("""{"sub":"auth0|1","https://example.com/roles":["admin"],"https://example.com/level":3}""");
            var user = new Auth0User(document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal));

            Assert.Equal(new[] { "admin" }, Read(claims, "GetRoles", user));
            Assert.Equal(3, Read(claims, "GetLevel", user));
            Assert.Null(Read(claims, "GetIsAdmin", user));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_KeepsTheClaimsThenRunsConfigure()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Config, assembly =>
        {
            string[]? seenByConfigure = null;
            var options = ResolveOptions(assembly, o =>
            {
                seenByConfigure = [.. o.IdTokenClaimsToKeep.Order(StringComparer.Ordinal)];
                o.IdTokenClaimsToKeep.Remove("https://example.com/score");
                o.IdTokenClaimsToKeep.Add("https://example.com/custom");
            });

            // The claims were there when the app's configure ran, and what it changed stays changed.
            Assert.Equal(AllClaims.Order(StringComparer.Ordinal), seenByConfigure);
            Assert.Equal(
                AllClaims.Where(c => c != "https://example.com/score").Append("https://example.com/custom").Order(StringComparer.Ordinal),
                options.IdTokenClaimsToKeep.Order(StringComparer.Ordinal));
            Assert.Equal("tenant.example.com", options.Domain);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_KeepsTheClaimsWithoutConfigure()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Config, assembly =>
        {
            var options = ResolveOptions(assembly, null);

            Assert.Equal(AllClaims.Order(StringComparer.Ordinal), options.IdTokenClaimsToKeep.Order(StringComparer.Ordinal));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task AddAuth0Generated_WithoutClaims_KeepsNone()
    {
        await RuntimeTests.WithLoadedAssemblyAsync(Sources.DefaultConfig, assembly =>
        {
            var ran = false;
            var options = ResolveOptions(assembly, _ => ran = true);

            Assert.True(ran);
            Assert.Empty(options.IdTokenClaimsToKeep);
            return Task.CompletedTask;
        });
    }

    private static Auth0Options ResolveOptions(Assembly assembly, Action<Auth0Options>? configure)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AUTH0_DOMAIN"] = "tenant.example.com",
            ["AUTH0_CLIENT_ID"] = "c",
            ["AUTH0_CLIENT_SECRET"] = "s",
            ["AUTH0_SECRET"] = "0123456789abcdef0123456789abcdef",
            ["APP_BASE_URL"] = "https://app.example.com",
        }).Build();
        var add = assembly.GetType("Microsoft.Extensions.DependencyInjection.Auth0GeneratedServiceCollectionExtensions", throwOnError: true)!
            .GetMethod("AddAuth0Generated")!;
        Assert.Same(services, add.Invoke(null, [services, configuration, configure]));

        // The options are built once, so disposing the provider afterwards leaves them intact.
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<Auth0Options>();
    }

    private static Auth0User User(params (string Claim, string Json)[] claims)
    {
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (claim, json) in claims)
        {
            using var document = JsonDocument.Parse(json);
            values[claim] = document.RootElement.Clone();
        }

        return new Auth0User(values);
    }

    private static object? Read(Type claims, string accessor, Auth0User? user) =>
        claims.GetMethod(accessor, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [user]);

    private static bool SameValue(object? expected, object? actual) =>
        expected is string[] items ? actual is string[] other && items.SequenceEqual(other) : object.Equals(expected, actual);

    private static string Show(object? value) => value switch
    {
        null => "null",
        string[] items => "[" + string.Join(",", items) + "]",
        _ => value.ToString() ?? string.Empty,
    };
}
