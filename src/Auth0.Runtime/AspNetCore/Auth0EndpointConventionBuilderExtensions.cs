using Auth0.Minimal;
using Auth0.Minimal.AspNetCore;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

public static class Auth0EndpointConventionBuilderExtensions
{
    /// <summary>
    /// For APIs: without an Auth0 session the endpoint answers 401 with a JSON error. An SDK error the handler does not
    /// catch (a token that cannot be refreshed, a failed connect) becomes its JSON error response, not a 500.
    /// </summary>
    public static TBuilder RequireAuth0Session<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0ApiEndpointMetadata());
        builder.AddEndpointFilter(Auth0ExceptionFilter.Instance);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }

    /// <summary>
    /// For pages: without an Auth0 session the browser is sent to login and comes back to the same URL. Uncaught SDK
    /// errors become their JSON error responses, as with <see cref="RequireAuth0Session"/>.
    /// </summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        builder.AddEndpointFilter(Auth0ExceptionFilter.Instance);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }
}
