using Auth0.Minimal.Configuration;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.AspNetCore;

public static class Auth0ServiceCollectionExtensions
{
#pragma warning disable RS0026 // two shipped overloads, both ending in an optional callback
    /// <summary>Registers the Auth0 runtime. Called by the generated <c>AddAuth0Generated</c>.</summary>
    /// <exception cref="Auth0ConfigurationException">Settings are missing or invalid (thrown when the app starts).</exception>
    public static IServiceCollection AddAuth0Core(this IServiceCollection services, IConfiguration configuration,
        Auth0Routes routes, Action<Auth0Options>? configure = null) =>
        AddAuth0Core(services, configuration, routes, [], configure);

    /// <summary>Registers the Auth0 runtime with the APIs declared by <see cref="Auth0ApiAttribute"/>.</summary>
    public static IServiceCollection AddAuth0Core(this IServiceCollection services, IConfiguration configuration,
        Auth0Routes routes, IReadOnlyList<Auth0ApiDefinition> apis, Action<Auth0Options>? configure = null)
#pragma warning restore RS0026
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(routes);

        services.TryAddSingleton(TimeProvider.System);
        // Read once at start-up and never reloaded: a changed secret, client or domain would break every session.
        services.AddSingleton<Auth0BindErrors>();
        services.AddOptions<Auth0Options>()
            .Configure<Auth0BindErrors>((options, bindErrors) =>
            {
                foreach (var api in apis) options.Apis.Add(api);
                Auth0ConfigurationBinder.Bind(configuration, options, bindErrors.Errors);
                configure?.Invoke(options);
            })
            .ValidateOnStart();
        services.AddSingleton(sp => new Auth0OptionsValidator(routes, sp.GetRequiredService<Auth0BindErrors>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Auth0Options>>(sp => sp.GetRequiredService<Auth0OptionsValidator>());
        // A plain ServiceCollection has no IMeterFactory; the web hosts already add one, and this adds nothing twice.
        services.AddMetrics();
        services.AddSingleton<Diagnostics.Auth0Telemetry>();
        services.AddSingleton(sp =>
        {
            Auth0Options options;
            try
            {
                options = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Auth0Options>>().Value;
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException ex)
            {
                throw new Auth0ConfigurationException(ex.Failures.ToArray());
            }
            return sp.GetRequiredService<Auth0OptionsValidator>().Build(options);
        });
        services.AddSingleton(sp => sp.GetRequiredService<Auth0Settings>().Options);
        services.AddSingleton<Auth0HttpClient>();
        services.AddSingleton<OidcMetadataCache>();
        services.AddSingleton<JwksCache>();
        services.AddSingleton<TokenEndpointClient>();
        services.AddSingleton<IdTokenValidator>();
        services.AddSingleton<SessionCookieStore>();
        services.AddSingleton(sp => new Auth0RequestState.Services(sp.GetRequiredService<SessionCookieStore>(), sp.GetRequiredService<LogoutRegistry>(),
            sp.GetRequiredService<Tokens.RefreshCoordinator>(), sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetService<IServiceProviderIsService>() is not { } isService || isService.IsService(typeof(ISessionStore))));
        services.AddSingleton<TransactionStore>();
        services.AddSingleton<Tokens.RefreshCoordinator>();
        services.AddSingleton(sp => new Auth0TokenService(
            sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<TokenEndpointClient>(), sp.GetRequiredService<IdTokenValidator>(),
            sp.GetRequiredService<Tokens.RefreshCoordinator>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Auth0TokenService>>(),
            sp.GetRequiredService<SessionFinalizer>(), sp.GetRequiredService<Diagnostics.Auth0Telemetry>()));
        services.AddSingleton<SessionFinalizer>();
        services.AddSingleton(sp => new Auth0BackchannelAuthentication(sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<OidcMetadataCache>(),
            sp.GetRequiredService<TokenEndpointClient>(), sp.GetRequiredService<IdTokenValidator>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new Http.Auth0FetcherFactory(sp.GetRequiredService<Microsoft.AspNetCore.Http.IHttpContextAccessor>(),
            sp.GetRequiredService<Auth0TokenService>(), sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<Diagnostics.Auth0Telemetry>()));
        services.AddSingleton(sp => new LogoutTokenValidator(sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<OidcMetadataCache>(),
            sp.GetRequiredService<JwksCache>(), sp.GetRequiredService<TimeProvider>(), sp.GetService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>()));
        services.AddSingleton(sp => new LogoutRegistry(sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>()));
        services.AddSingleton<MyAccountClient>();
        services.AddSingleton(sp => new Auth0ConnectedAccounts(sp.GetRequiredService<Auth0Settings>(), sp.GetRequiredService<MyAccountClient>(),
            sp.GetRequiredService<Auth0TokenService>(), sp.GetRequiredService<TransactionStore>(), sp.GetRequiredService<ILogger<Auth0ConnectedAccounts>>()));
        services.AddHttpContextAccessor();
        services.AddSingleton<Auth0Endpoints>();
        services.AddHostedService<Auth0StartupValidation>();

        services.AddHttpClient(Auth0HttpClient.ClientName, (sp, client) =>
            {
                client.Timeout = sp.GetRequiredService<Auth0Settings>().Options.HttpTimeout + TimeSpan.FromSeconds(1);
                client.DefaultRequestHeaders.UserAgent.ParseAdd(Auth0HttpClient.UserAgent);
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });

        // Created by a factory, not by the container's reflection: one is made for every request.
        services.TryAddTransient(sp => new Auth0AuthenticationHandler(sp.GetRequiredService<Auth0RequestState.Services>()));
        services.AddAuthentication(Auth0Defaults.AuthenticationScheme);
        services.Configure<AuthenticationOptions>(o =>
        {
            if (!o.SchemeMap.ContainsKey(Auth0Defaults.AuthenticationScheme))
                o.AddScheme<Auth0AuthenticationHandler>(Auth0Defaults.AuthenticationScheme, null);
        });
        services.AddAuthorizationBuilder()
            .AddPolicy(Auth0Defaults.SessionPolicy, policy => policy
                .AddAuthenticationSchemes(Auth0Defaults.AuthenticationScheme)
                .RequireAuthenticatedUser());
        UseAuth0PolicyEvaluator(services);
        return services;
    }

    // The authorization middleware resolves both on every request to a protected endpoint. ASP.NET Core's defaults
    // are replaced by instances made once per app, and its scheme provider by one that keeps its answers; an app's
    // own registration of any of them stays as it is.
    private static void UseAuth0PolicyEvaluator(IServiceCollection services)
    {
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.IsKeyedService) continue;
            if (descriptor.ServiceType == typeof(Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator)
                && descriptor.ImplementationType == typeof(Microsoft.AspNetCore.Authorization.Policy.PolicyEvaluator))
                services[i] = ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.Policy.IPolicyEvaluator>(_ => new Auth0PolicyEvaluator());
            else if (descriptor.ServiceType == typeof(IAuthenticationSchemeProvider) && descriptor.ImplementationType == typeof(AuthenticationSchemeProvider))
                services[i] = ServiceDescriptor.Singleton<IAuthenticationSchemeProvider>(
                    sp => new Auth0SchemeProvider(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthenticationOptions>>()));
            else if (descriptor.ServiceType == typeof(Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler)
                && descriptor.ImplementationType == typeof(Microsoft.AspNetCore.Authorization.Policy.AuthorizationMiddlewareResultHandler))
                services[i] = ServiceDescriptor.Singleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler>(
                    new Microsoft.AspNetCore.Authorization.Policy.AuthorizationMiddlewareResultHandler());
        }
    }
}

/// <summary>Builds the settings when the host starts, so a bad configuration stops the app before it serves anything.</summary>
internal sealed partial class Auth0StartupValidation(IServiceProvider services, ILogger<Auth0StartupValidation> logger) : Microsoft.Extensions.Hosting.IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var settings = services.GetRequiredService<Auth0Settings>();
            if (settings.DPoP is not null && settings.Options.DPoPPrivateKeyPem is null) LogGeneratedDPoPKey(logger);
            try
            {
                services.GetService<ISessionStore>();
            }
            catch (InvalidOperationException ex)
            {
                throw new Auth0ConfigurationException([$"The session store cannot be created: {ex.Message} (AddAuth0DistributedSessionStore needs an IDistributedCache, e.g. AddStackExchangeRedisCache)."]);
            }
        }
        catch (Auth0ConfigurationException ex)
        {
            LogInvalid(logger, ex.Message);
            throw;
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "DPoP is on without AUTH0_DPOP_PRIVATE_KEY: a key was generated for this process, so tokens bound to it stop working after a restart and are not usable by other instances. Set AUTH0_DPOP_PRIVATE_KEY and AUTH0_DPOP_PUBLIC_KEY (DPoPKeyPair.GeneratePem() makes a pair).")]
    private static partial void LogGeneratedDPoPKey(ILogger logger);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Critical, Message = "{Message}")]
    private static partial void LogInvalid(ILogger logger, string message);
}
