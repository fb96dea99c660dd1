using Auth0.Minimal;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
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
        builder.Finally(Auth0SessionGate.Apply);
        return builder;
    }

    /// <summary>
    /// For pages: without an Auth0 session the browser is sent to login and comes back to the same URL. Uncaught SDK
    /// errors become their JSON error responses, as with <see cref="RequireAuth0Session"/>.
    /// </summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        builder.Finally(Auth0SessionGate.Apply);
        return builder;
    }
}

/// <summary>
/// The check behind RequireAuth0Session and RequireAuth0Login, in front of the endpoint itself rather than as an
/// authorization policy: the session is already loaded by the Auth0 scheme, and evaluating a policy (a policy
/// evaluator, an authorization service and its handlers, built for every request) cost several times the session
/// lookup. Same outcome as <c>RequireAuthorization</c> with the Auth0 scheme: <c>[AllowAnonymous]</c> opens the
/// endpoint, <c>HttpContext.User</c> is the Auth0 user also when another scheme is the default, and a request without
/// a session gets the Auth0 scheme's challenge (401, a login redirect, or 503 when the session store is down). SDK
/// errors escaping the endpoint become their JSON answers (<see cref="Auth0ExceptionFilter"/>), for delegate and
/// RequestDelegate endpoints alike.
/// </summary>
internal sealed class Auth0SessionGate
{
    private static readonly Auth0SessionGate Enforcing = new(enforced: true);
    private static readonly Auth0SessionGate ErrorsOnly = new(enforced: false);

    private Auth0SessionGate(bool enforced) => Enforced = enforced;

    /// <summary>False on an <c>[AllowAnonymous]</c> endpoint: only the error answers apply.</summary>
    public bool Enforced { get; }

    public static void Apply(EndpointBuilder endpoint)
    {
        // Applied once, however many groups and calls ask for it.
        var anonymous = false;
        foreach (var item in endpoint.Metadata)
        {
            if (item is Auth0SessionGate) return;
            if (item is IAllowAnonymous) anonymous = true;
        }
        if (endpoint.RequestDelegate is not { } next) return;
        endpoint.Metadata.Add(anonymous ? ErrorsOnly : Enforcing);
        endpoint.RequestDelegate = anonymous ? context => GuardAsync(context, next) : context => RunAsync(context, next);
    }

    private static Task RunAsync(HttpContext context, RequestDelegate next)
    {
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
        // As a policy naming the scheme: the endpoint sees the Auth0 user, whatever the default scheme produced.
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
