namespace Auth0.Generators.Tests;

/// <summary>User code shared by several tests.</summary>
internal static class Sources
{
    public const string DefaultConfig = """
        using Auth0.Minimal;

        namespace MyApp;

        /// <summary>Auth0 settings.</summary>
        [Auth0Config]
        public partial class Auth0Setup
        {
        }
        """;

    // Uses both generated extension methods the way an application would.
    public const string Program = """
        using Microsoft.AspNetCore.Builder;
        using Microsoft.Extensions.DependencyInjection;

        namespace MyApp;

        internal static class Startup
        {
            public static void Configure(WebApplicationBuilder builder)
            {
                builder.Services.AddAuth0Generated(builder.Configuration, options => { });
                var app = builder.Build();
                app.MapAuth0Generated().RequireCors("default");
            }

            public static int Compute(int value)
            {
                return value + 1;
            }
        }
        """;

    public static string Config(string arguments, string declaration = "internal partial class Auth0Setup") => $$"""
        using Auth0.Minimal;

        namespace MyApp;

        [Auth0Config({{arguments}})]
        {{declaration}}
        {
        }
        """;

    /// <summary>The two-API example: Orders has a base address (so an HttpClient), Billing has not.</summary>
    public const string TwoApisConfig = """
        using Auth0.Minimal;

        namespace MyApp;

        /// <summary>Auth0 settings.</summary>
        [Auth0Config]
        [Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders write:orders", BaseAddress = "https://orders.example.com/")]
        [Auth0Api("Billing", Audience = "https://billing.example.com")]
        public partial class Auth0Setup
        {
        }
        """;

    // Uses the generated API types the way an application would, from public API surface.
    public const string ApiConsumer = """
        namespace MyApp;

        /// <summary>Calls the Orders API.</summary>
        public sealed class OrdersService(IOrdersApiTokenClient tokens, OrdersApiHttpClient http, IBillingApiTokenClient billing)
        {
            /// <summary>The token client.</summary>
            public IOrdersApiTokenClient Tokens { get; } = tokens;

            /// <summary>Reads the orders.</summary>
            public System.Threading.Tasks.Task<string> ReadAsync() => http.Client.GetStringAsync("orders");

            /// <summary>The billing audience.</summary>
            public string BillingAudience => billing.Audience;
        }
        """;

    /// <summary>A config whose [Auth0Api] attributes are given as argument lists.</summary>
    public static string ApiConfig(params string[] apiArguments) =>
        "using Auth0.Minimal;\n\nnamespace MyApp;\n\n[Auth0Config]\n"
        + string.Concat(apiArguments.Select(a => "[Auth0Api(" + a + ")]\n"))
        + "internal partial class Auth0Setup\n{\n}\n";

    /// <summary>Like <see cref="ApiConfig"/>, with DPoP turned on by [Auth0Config(UseDPoP = true)].</summary>
    public static string DPoPApiConfig(params string[] apiArguments) =>
        ApiConfig(apiArguments).Replace("[Auth0Config]", "[Auth0Config(UseDPoP = true)]", StringComparison.Ordinal);

    /// <summary>The two-claim example: roles as a string array (derived name), an admin flag as a bool (explicit name).</summary>
    public const string TwoClaimsConfig = """
        using Auth0.Minimal;

        namespace MyApp;

        /// <summary>Auth0 settings.</summary>
        [Auth0Config]
        [Auth0Claim("https://example.com/roles", typeof(string[]))]
        [Auth0Claim("https://example.com/is_admin", typeof(bool), Name = "IsAdmin")]
        public partial class Auth0Setup
        {
        }
        """;

    // Uses the generated claim accessors the way an application would.
    public const string ClaimsConsumer = """
        using Auth0.Minimal;

        namespace MyApp;

        /// <summary>Reads the custom claims.</summary>
        public static class Permissions
        {
            /// <summary>Whether the user may edit.</summary>
            public static bool CanEdit(Auth0User user) =>
                user.GetIsAdmin() == true || System.Array.IndexOf(user.GetRoles() ?? [], "editor") >= 0;

            /// <summary>The claim names.</summary>
            public static string[] Names => [Auth0SetupClaims.RolesClaim, Auth0SetupClaims.IsAdminClaim];
        }
        """;

    /// <summary>A config whose [Auth0Claim] attributes are given as argument lists.</summary>
    public static string ClaimConfig(params string[] claimArguments) =>
        "using Auth0.Minimal;\n\nnamespace MyApp;\n\n[Auth0Config]\n"
        + string.Concat(claimArguments.Select(a => "[Auth0Claim(" + a + ")]\n"))
        + "internal partial class Auth0Setup\n{\n}\n";
}
