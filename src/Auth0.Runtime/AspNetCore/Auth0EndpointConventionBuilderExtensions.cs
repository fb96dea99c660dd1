using Auth0.Minimal.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

public static class Auth0EndpointConventionBuilderExtensions
{
    /// <summary>For APIs: without an Auth0 session the endpoint answers 401 with a JSON error.</summary>
    public static TBuilder RequireAuth0Session<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(Auth0Defaults.SessionPolicy);

    /// <summary>For pages: without an Auth0 session the browser is sent to login and comes back to the same URL.</summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }
}
