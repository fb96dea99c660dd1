using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// ASP.NET Core's policy evaluator with a short cut for the policy RequireAuth0Session adds ("an authenticated user
/// of the Auth0 scheme", whatever it was combined into): when the Auth0 handler has signed this request's session in,
/// the outcome is known without building an authorization service, its handlers and a context for every request
/// (by reflection, when dynamic code is off), which cost more than the session lookup. Every other policy, and every
/// request the short cut does not settle, goes to <see cref="PolicyEvaluator"/> itself.
/// </summary>
internal sealed class Auth0PolicyEvaluator : IPolicyEvaluator
{
    // One per app: whether its authorization is ASP.NET Core's own (0: not known yet, 1: yes, 2: no).
    private int _stockAuthorization;

    private static readonly Task<PolicyAuthorizationResult> Authorized = Task.FromResult(PolicyAuthorizationResult.Success());

    public Task<AuthenticateResult> AuthenticateAsync(AuthorizationPolicy policy, HttpContext context)
    {
        // The authentication middleware has already authenticated the default scheme; when that is Auth0 and the user
        // it produced (claims transformations applied) still holds this session's identity, that result is the answer.
        if (IsSessionPolicy(policy)
            && context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult is { Succeeded: true, Ticket.AuthenticationScheme: Auth0Defaults.AuthenticationScheme } done
            && ReferenceEquals(done.Principal, context.User) && Auth0RequestState.For(context) is { HasLoadedSession: true, Identity: { } identity } state
            && done.Principal.Identities.Contains(identity))
        {
            // The handler's own task, when its result says exactly what the authentication service's copy of it says.
            if (state.AuthenticatedTask is { IsCompletedSuccessfully: true } task && SameOutcome(task.Result, done)) return task;
            return state.AuthenticatedTask = Task.FromResult(done);
        }
        return AuthenticateSlowAsync(policy, context);
    }

    // Same principal, properties and scheme: AuthenticateResult has nothing else, and none of it can be replaced.
    private static bool SameOutcome(AuthenticateResult a, AuthenticateResult b) =>
        ReferenceEquals(a, b)
        || (a.Ticket is { } x && b.Ticket is { } y && ReferenceEquals(x.Principal, y.Principal) && ReferenceEquals(x.Properties, y.Properties)
            && x.AuthenticationScheme == y.AuthenticationScheme);

    private static async Task<AuthenticateResult> AuthenticateSlowAsync(AuthorizationPolicy policy, HttpContext context)
    {
        if (IsSessionPolicy(policy))
        {
            // What PolicyEvaluator does for a policy naming one scheme, when that scheme signs the user in.
            var result = await context.AuthenticateAsync(Auth0Defaults.AuthenticationScheme).ConfigureAwait(false);
            if (result.Succeeded && result.Principal is { } principal && IsAuthenticated(principal))
            {
                context.User = principal;
                return result;
            }
        }
        return await Inner(context).AuthenticateAsync(policy, context).ConfigureAwait(false);
    }

    public Task<PolicyAuthorizationResult> AuthorizeAsync(AuthorizationPolicy policy, AuthenticateResult authenticationResult, HttpContext context, object? resource)
    {
        // The only requirement is an authenticated user, and AuthenticateAsync above has just established one; an
        // app's own authorization handler or service may still refuse the user, so it is asked whenever there is one.
        if (IsSessionPolicy(policy) && authenticationResult.Succeeded && IsAuthenticated(context.User)
            && Auth0RequestState.For(context).HasLoadedSession && IsStockAuthorization(context.RequestServices))
            return Authorized;
        return Inner(context).AuthorizeAsync(policy, authenticationResult, context, resource);
    }

    private bool IsStockAuthorization(IServiceProvider services)
    {
        var known = Volatile.Read(ref _stockAuthorization);
        if (known == 0) Volatile.Write(ref _stockAuthorization, known = StockAuthorization(services) ? 1 : 2);
        return known == 1;
    }

    // Nothing but ASP.NET Core's service, and no handler but the one that lets each requirement check itself.
    internal static bool StockAuthorization(IServiceProvider services) =>
        IsFrameworks<DefaultAuthorizationService>(services.GetService<IAuthorizationService>())
        && IsFrameworks<DefaultAuthorizationHandlerProvider>(services.GetService<IAuthorizationHandlerProvider>())
        && IsFrameworks<DefaultAuthorizationHandlerContextFactory>(services.GetService<IAuthorizationHandlerContextFactory>())
        && IsFrameworks<DefaultAuthorizationEvaluator>(services.GetService<IAuthorizationEvaluator>())
        && services.GetServices<IAuthorizationHandler>().All(h => h.GetType() == typeof(PassThroughAuthorizationHandler));

    // The default type or ASP.NET Core's own subclass of it (the authorization service is registered as an internal
    // DefaultAuthorizationServiceImpl); an app's subclass lives in another assembly and does not count.
    private static bool IsFrameworks<TDefault>(object? service)
    {
        var type = service?.GetType();
        return type == typeof(TDefault) || (type?.BaseType == typeof(TDefault) && type.Assembly == typeof(TDefault).Assembly);
    }

    private static PolicyEvaluator Inner(HttpContext context) =>
        new(context.RequestServices.GetRequiredService<IAuthorizationService>());

    // Exactly "authenticated, by the Auth0 scheme": the session policy, alone or merged with itself.
    private static bool IsSessionPolicy(AuthorizationPolicy policy) =>
        policy.AuthenticationSchemes.Count == 1 && policy.AuthenticationSchemes[0] == Auth0Defaults.AuthenticationScheme
        && policy.Requirements.Count == 1 && policy.Requirements[0] is DenyAnonymousAuthorizationRequirement;

    private static bool IsAuthenticated(System.Security.Claims.ClaimsPrincipal principal)
    {
        foreach (var identity in principal.Identities)
            if (identity.IsAuthenticated) return true;
        return false;
    }
}
