using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.AspNetCore;

public static class Auth0ServiceCollectionExtensions
{
    /// <summary>Registers the Auth0 runtime. Called by the generated <c>AddAuth0Generated</c>.</summary>
    public static IServiceCollection AddAuth0Core(this IServiceCollection services, IConfiguration configuration,
        Auth0Routes routes, Action<Auth0Options>? configure = null) => throw new NotImplementedException();
}
