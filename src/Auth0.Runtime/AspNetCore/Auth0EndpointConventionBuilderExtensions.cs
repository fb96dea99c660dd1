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
        builder.Add(Auth0SessionGate.Apply);
        return builder;
    }

    /// <summary>
    /// For pages: without an Auth0 session the browser is sent to login and comes back to the same URL. Uncaught SDK
    /// errors become their JSON error responses, as with <see cref="RequireAuth0Session"/>.
    /// </summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        builder.Add(Auth0SessionGate.Apply);
        return builder;
    }
}

/// <summary>
/// The check behind RequireAuth0Session and RequireAuth0Login. When the Auth0 scheme is the default one and there is no
/// fallback policy (the usual setup), the session, already loaded by the authentication middleware, is checked in
/// front of the endpoint: evaluating an authorization policy (a policy evaluator, an authorization service and its
/// handlers, built for every request) cost several times the session lookup. Otherwise the endpoint gets the
/// <c>Auth0.Session</c> policy, as <c>RequireAuthorization</c> would, so other schemes, combined policies and the
/// fallback policy behave exactly as ASP.NET Core defines. Either way, <c>[AllowAnonymous]</c> opens the endpoint, a
/// request without a session gets the Auth0 challenge (401, a login redirect, or 503 when the session store is down),
/// and SDK errors escaping the endpoint become their JSON answers (<see cref="Auth0ExceptionFilter"/>).
/// </summary>
internal sealed class Auth0SessionGate
{
    private static readonly Auth0SessionGate InFront = new(checksSession: true);
    private static readonly Auth0SessionGate ByPolicy = new(checksSession: false);

    private Auth0SessionGate(bool checksSession) => ChecksSession = checksSession;

    /// <summary>True when this gate checks the session itself; false when the Auth0.Session policy does.</summary>
    public bool ChecksSession { get; }

    // A convention (Add), not Finally: some libraries' convention builders implement only Add.
    public static void Apply(EndpointBuilder endpoint)
    {
        // Applied once, however many groups and calls ask for it.
        foreach (var item in endpoint.Metadata)
            if (item is Auth0SessionGate) return;
        if (endpoint.RequestDelegate is not { } next) return;
        if (!Auth0IsTheOnlyAuthentication(endpoint.ApplicationServices))
        {
            endpoint.Metadata.Add(new AuthorizeAttribute(Auth0Defaults.SessionPolicy));
            endpoint.Metadata.Add(ByPolicy);
            endpoint.RequestDelegate = context => GuardAsync(context, next);
            return;
        }
        endpoint.Metadata.Add(InFront);
        endpoint.RequestDelegate = context => RunAsync(context, next);
    }

    // The Auth0 scheme authenticates every request already, and no fallback policy would have applied to an
    // endpoint with authorization data: checking the session in front of the endpoint is then the same outcome.
    private static bool Auth0IsTheOnlyAuthentication(IServiceProvider? services)
    {
        if (services is null) return false;
        var authentication = services.GetService<IOptions<AuthenticationOptions>>()?.Value;
        var authorization = services.GetService<IOptions<AuthorizationOptions>>()?.Value;
        return authentication is not null && authorization is not null && authorization.FallbackPolicy is null
            && (authentication.DefaultAuthenticateScheme ?? authentication.DefaultScheme) == Auth0Defaults.AuthenticationScheme;
    }

    private static Task RunAsync(HttpContext context, RequestDelegate next)
    {
        // Conventions added after this one ([AllowAnonymous] among them) are only in the endpoint's final metadata.
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAllowAnonymous>() is not null) return GuardAsync(context, next);
        // The usual case: the authentication middleware has already signed the Auth0 user in, with the very identity
        // the Auth0 handler built for this request (a label saying "Auth0" proves nothing).
        var state = Auth0RequestState.For(context);
        if (state.HasLoadedSession && state.Identity is { } identity && context.User.Identities.Contains(identity)) return GuardAsync(context, next);
        return AuthenticateThenRunAsync(context, next);
    }

    private static async Task AuthenticateThenRunAsync(HttpContext context, RequestDelegate next)
    {
        var result = await context.AuthenticateAsync(Auth0Defaults.AuthenticationScheme).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            await context.ChallengeAsync(Auth0Defaults.AuthenticationScheme).ConfigureAwait(false);
            return;
        }
        context.User = result.Principal;
        await GuardAsync(context, next).ConfigureAwait(false);
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
