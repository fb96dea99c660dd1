using Auth0.Minimal;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
        builder.Add(Auth0ErrorGate.Apply);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }

    /// <summary>
    /// For pages: without an Auth0 session the browser is sent to login and comes back to the same URL. Uncaught SDK
    /// errors become their JSON error responses, as with <see cref="RequireAuth0Session"/>.
    /// </summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        builder.Add(Auth0ErrorGate.Apply);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }
}

/// <summary>
/// Wraps a RequireAuth0Session / RequireAuth0Login endpoint so that SDK errors escaping it become their JSON answers
/// (<see cref="Auth0ExceptionFilter"/>), for delegate and RequestDelegate endpoints alike. The session itself is
/// checked by the <c>Auth0.Session</c> policy, in the authorization middleware (see <see cref="Auth0PolicyEvaluator"/>).
/// </summary>
internal sealed class Auth0ErrorGate
{
    private static readonly Auth0ErrorGate Marker = new();

    // A convention (Add), not Finally: some libraries' convention builders implement only Add.
    public static void Apply(EndpointBuilder endpoint)
    {
        // Applied once, however many groups and calls ask for it.
        foreach (var item in endpoint.Metadata)
            if (item is Auth0ErrorGate) return;
        if (endpoint.RequestDelegate is not { } next) return;
        endpoint.Metadata.Add(Marker);
        endpoint.RequestDelegate = context => GuardAsync(context, next);
    }

    private static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Auth0ExceptionFilter.ResultFor(context, ex) is { } answer)
        {
            await answer.ExecuteAsync(context).ConfigureAwait(false);
        }
    }
}
