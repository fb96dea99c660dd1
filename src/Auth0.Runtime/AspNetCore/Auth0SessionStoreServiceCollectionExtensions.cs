using Auth0.Minimal;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Sessions;

namespace Microsoft.Extensions.DependencyInjection;

public static class Auth0SessionStoreServiceCollectionExtensions
{
    /// <summary>
    /// Keeps sessions in the app's <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> (register one first,
    /// e.g. AddStackExchangeRedisCache); the cookie then holds only an encrypted session id.
    /// </summary>
    public static IServiceCollection AddAuth0DistributedSessionStore(this IServiceCollection services)
    {
        services.AddSingleton<ISessionStore>(sp => new DistributedCacheSessionStore(
            sp.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>(), sp.GetRequiredService<Auth0Settings>()));
        return services;
    }
}

