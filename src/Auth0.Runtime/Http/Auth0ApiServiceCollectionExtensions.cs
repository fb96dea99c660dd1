using Auth0.Minimal.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.AspNetCore;

public static class Auth0ApiServiceCollectionExtensions
{
    /// <summary>Name of the IHttpClientFactory client of an API declared with <see cref="Auth0ApiAttribute"/>.</summary>
    public static string HttpClientName(string apiName) => "Auth0.Api." + apiName;

    /// <summary>Registers a token client for one API. Called by the generated <c>AddAuth0Generated</c>.</summary>
    public static IServiceCollection AddAuth0ApiTokenClient<TClient>(this IServiceCollection services,
        Func<IHttpContextAccessor, Auth0TokenService, TClient> create) where TClient : class, IAuth0ApiTokenClient
    {
        services.AddSingleton(sp => create(sp.GetRequiredService<IHttpContextAccessor>(), sp.GetRequiredService<Auth0TokenService>()));
        return services;
    }

    /// <summary>
    /// Registers the API's HttpClient: its base address (<paramref name="defaultBaseAddress"/> unless configuration
    /// overrides it) and a handler that attaches only this API's token, only for that origin.
    /// </summary>
    public static IHttpClientBuilder AddAuth0ApiHttpClient<TClient>(this IServiceCollection services, string apiName, string defaultBaseAddress)
        where TClient : class, IAuth0ApiTokenClient
    {
        var fallback = new Uri(defaultBaseAddress, UriKind.Absolute);
        Uri BaseAddress(IServiceProvider sp) => sp.GetRequiredService<Configuration.Auth0Settings>().ApiBaseAddress(apiName) ?? fallback;
        return services.AddHttpClient(HttpClientName(apiName), (sp, client) =>
            {
                client.BaseAddress = BaseAddress(sp);
                client.Timeout = TimeSpan.FromSeconds(30);
            })
            .AddHttpMessageHandler(sp =>
            {
                var settings = sp.GetRequiredService<Configuration.Auth0Settings>();
                var tokens = sp.GetRequiredService<TClient>();
                return new Auth0ApiHttpHandler(apiName, (force, ct) => tokens.GetAccessTokenAsync(force, ct), BaseAddress(sp), settings.DPoP, settings.NonceRetryDelay,
                    sp.GetRequiredService<Diagnostics.Auth0Telemetry>());
            })
            // A redirect must never carry the token (or the retry after a 401) to another origin: redirects are the caller's call.
            .ConfigurePrimaryHttpMessageHandler(static () => new SocketsHttpHandler { AllowAutoRedirect = false });
    }
}
