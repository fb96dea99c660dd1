using System.Security.Claims;
using System.Text.Encodings.Web;
using Auth0.Minimal.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>The scheme provider that keeps its answers must still give ASP.NET Core's answers, before and after schemes change.</summary>
public class SchemeProviderTests
{
    private static IConfiguration Configuration() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["AUTH0_DOMAIN"] = "tenant.us.auth0.com",
        ["AUTH0_CLIENT_ID"] = "cid",
        ["AUTH0_CLIENT_SECRET"] = "csecret",
        ["AUTH0_SECRET"] = "0123456789abcdef0123456789abcdef",
        ["APP_BASE_URL"] = "https://app.example.com",
    }).Build();

    private static IAuthenticationSchemeProvider Provider(Action<IServiceCollection>? before = null)
    {
        var services = new ServiceCollection().AddLogging();
        before?.Invoke(services);
        services.AddAuth0Core(Configuration(), new Auth0Routes());
        return services.BuildServiceProvider().GetRequiredService<IAuthenticationSchemeProvider>();
    }

    private sealed class RequestHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder), IAuthenticationRequestHandler
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() => Task.FromResult(AuthenticateResult.NoResult());
        public Task<bool> HandleRequestAsync() => Task.FromResult(false);
    }

    private sealed class PlainHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(), Scheme.Name)));
    }

    [Fact]
    public async Task Answers_are_kept_and_follow_added_and_removed_schemes()
    {
        var provider = Provider();
        Assert.IsType<Auth0SchemeProvider>(provider);
        var auth0 = provider.GetSchemeAsync(Auth0Defaults.AuthenticationScheme);
        Assert.Same(auth0, provider.GetSchemeAsync(Auth0Defaults.AuthenticationScheme));
        Assert.Equal(Auth0Defaults.AuthenticationScheme, (await auth0)!.Name);
        Assert.Equal(Auth0Defaults.AuthenticationScheme, (await provider.GetDefaultAuthenticateSchemeAsync())!.Name);
        Assert.Same(provider.GetDefaultAuthenticateSchemeAsync(), provider.GetDefaultAuthenticateSchemeAsync());
        Assert.Null(await provider.GetSchemeAsync("Late"));
        Assert.Empty(await provider.GetRequestHandlerSchemesAsync());

        provider.AddScheme(new AuthenticationScheme("Late", null, typeof(RequestHandler)));
        Assert.Equal("Late", (await provider.GetSchemeAsync("Late"))!.Name);
        Assert.Equal(["Late"], (await provider.GetRequestHandlerSchemesAsync()).Select(s => s.Name));

        Assert.True(provider.TryAddScheme(new AuthenticationScheme("Later", null, typeof(PlainHandler))));
        Assert.False(provider.TryAddScheme(new AuthenticationScheme("Later", null, typeof(PlainHandler))));
        Assert.NotNull(await provider.GetSchemeAsync("Later"));

        provider.RemoveScheme("Late");
        Assert.Null(await provider.GetSchemeAsync("Late"));
        Assert.Empty(await provider.GetRequestHandlerSchemesAsync());
        provider.RemoveScheme(Auth0Defaults.AuthenticationScheme);
        Assert.Null(await provider.GetSchemeAsync(Auth0Defaults.AuthenticationScheme));
        Assert.Null(await provider.GetDefaultAuthenticateSchemeAsync());
    }

    [Fact]
    public async Task Answers_are_the_stock_providers_for_every_question()
    {
        var ours = Provider();
        var stock = new AuthenticationSchemeProvider(Options.Create(BuildOptions()));
        foreach (var name in new[] { Auth0Defaults.AuthenticationScheme, "auth0", "missing", "" })
            Assert.Equal((await stock.GetSchemeAsync(name))?.Name, (await ours.GetSchemeAsync(name))?.Name);
        Assert.Equal((await stock.GetDefaultAuthenticateSchemeAsync())?.Name, (await ours.GetDefaultAuthenticateSchemeAsync())?.Name);
        Assert.Equal((await stock.GetDefaultChallengeSchemeAsync())?.Name, (await ours.GetDefaultChallengeSchemeAsync())?.Name);
        Assert.Equal((await stock.GetAllSchemesAsync()).Select(s => s.Name), (await ours.GetAllSchemesAsync()).Select(s => s.Name));
    }

    private static AuthenticationOptions BuildOptions()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddAuth0Core(Configuration(), new Auth0Routes());
        return services.BuildServiceProvider().GetRequiredService<IOptions<AuthenticationOptions>>().Value;
    }

    [Fact]
    public void An_apps_own_scheme_provider_is_left_alone()
    {
        var provider = Provider(s => s.AddSingleton<IAuthenticationSchemeProvider, CustomProvider>());
        Assert.IsType<CustomProvider>(provider);
    }

    private sealed class CustomProvider(IOptions<AuthenticationOptions> options) : AuthenticationSchemeProvider(options);

    private static IServiceProvider Services(Action<IServiceCollection>? before = null, Action<IServiceCollection>? after = null)
    {
        var services = new ServiceCollection().AddLogging();
        before?.Invoke(services);
        services.AddAuth0Core(Configuration(), new Auth0Routes());
        after?.Invoke(services);
        return services.BuildServiceProvider().CreateScope().ServiceProvider;
    }

    [Fact]
    public void The_session_policy_shortcut_applies_to_ASP_NET_Cores_own_authorization()
    {
        // Its service is an internal subclass of DefaultAuthorizationService: that still counts as the default.
        Assert.True(Auth0PolicyEvaluator.StockAuthorization(Services()));
        Assert.True(Auth0PolicyEvaluator.StockAuthorization(Services(before: s => s.AddAuthorization())));
    }

    private sealed class DenyHandler : Microsoft.AspNetCore.Authorization.IAuthorizationHandler
    {
        public Task HandleAsync(Microsoft.AspNetCore.Authorization.AuthorizationHandlerContext context) => Task.CompletedTask;
    }

    private sealed class OwnService(Microsoft.AspNetCore.Authorization.IAuthorizationPolicyProvider policies,
        Microsoft.AspNetCore.Authorization.IAuthorizationHandlerProvider handlers, ILogger<Microsoft.AspNetCore.Authorization.DefaultAuthorizationService> logger,
        Microsoft.AspNetCore.Authorization.IAuthorizationHandlerContextFactory contexts, Microsoft.AspNetCore.Authorization.IAuthorizationEvaluator evaluator,
        IOptions<Microsoft.AspNetCore.Authorization.AuthorizationOptions> options)
        : Microsoft.AspNetCore.Authorization.DefaultAuthorizationService(policies, handlers, logger, contexts, evaluator, options);

    [Fact]
    public void An_apps_own_authorization_handler_or_service_turns_the_shortcut_off()
    {
        Assert.False(Auth0PolicyEvaluator.StockAuthorization(Services(after: s => s.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, DenyHandler>())));
        Assert.False(Auth0PolicyEvaluator.StockAuthorization(Services(before: s => s.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, DenyHandler>())));
        // A subclass of the default service in the app's own assembly is the app's service.
        Assert.False(Auth0PolicyEvaluator.StockAuthorization(Services(after: s => s.AddTransient<Microsoft.AspNetCore.Authorization.IAuthorizationService, OwnService>())));
    }
}
