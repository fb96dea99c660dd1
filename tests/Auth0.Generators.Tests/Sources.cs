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
}
