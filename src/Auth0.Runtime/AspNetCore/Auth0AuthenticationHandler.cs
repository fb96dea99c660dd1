using System.Security.Claims;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.AspNetCore;

public static class Auth0Defaults
{
    /// <summary>The authentication scheme that turns the Auth0 session into <c>HttpContext.User</c>.</summary>
    public const string AuthenticationScheme = "Auth0";
    /// <summary>Authorization policy: an Auth0 session is required.</summary>
    public const string SessionPolicy = "Auth0.Session";
}

/// <summary>Marks an endpoint as a page: without a session it redirects to the login route instead of answering 401.</summary>
public sealed class Auth0LoginRedirectMetadata;

/// <summary>Marks an endpoint as an API: without a session it answers 401, also to a browser navigation.</summary>
public sealed class Auth0ApiEndpointMetadata;

/// <summary>
/// Authenticates from the session cookie (decrypted once per request, shared with the Auth0 routes). A challenge on
/// a page redirects to login with the original path as one encoded returnTo; on an API it is a 401 JSON error.
/// A plain <see cref="IAuthenticationHandler"/> created by a factory: the authentication middleware asks for one on
/// every request, and the reflection-built <c>AuthenticationHandler&lt;T&gt;</c> with its options, logger and events
/// cost more than the session lookup itself.
/// </summary>
internal sealed class Auth0AuthenticationHandler(Auth0RequestState.Services shared) : IAuthenticationHandler
{
    // Shared by every anonymous request: an AuthenticateResult exposes nothing that can be changed.
    private static readonly Task<AuthenticateResult> NoResult = Task.FromResult(AuthenticateResult.NoResult());

    private Auth0Settings settings => shared.Settings;
    private HttpContext _context = null!;
    private Task<AuthenticateResult>? _result;

    public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context)
    {
        _context = context;
        return Task.CompletedTask;
    }

    // Once per request, as AuthenticationHandler<T> does: the middleware and any later AuthenticateAsync share it.
    public Task<AuthenticateResult> AuthenticateAsync() => _result ??= AuthenticateCore();

    private Task<AuthenticateResult> AuthenticateCore()
    {
        var state = Auth0RequestState.For(_context, shared);
        var loading = state.HasSessionAsync();
        // A cookie session (and a cached one) is known at once: no state machine for the common case.
        if (!loading.IsCompletedSuccessfully) return AuthenticateAsync(state, loading);
        if (!loading.Result) return NoResult;
        Task<AuthenticateResult> result;
        try
        {
            result = Task.FromResult(SignIn(state));
        }
        catch (Exception ex)
        {
            return Task.FromException<AuthenticateResult>(ex); // as the async method would: cached, not thrown
        }
        // The policy evaluator can hand the authorization middleware this task instead of making another.
        state.AuthenticatedTask = result;
        return result;
    }

    private async Task<AuthenticateResult> AuthenticateAsync(Auth0RequestState state, ValueTask<bool> loading)
    {
        bool hasSession;
        try
        {
            hasSession = await loading.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A store outage makes the request anonymous rather than failing it.
            return AuthenticateResult.Fail("The session could not be read: " + ex.GetType().Name);
        }
        if (!hasSession) return AuthenticateResult.NoResult();
        return SignIn(state);
    }

    private AuthenticateResult SignIn(Auth0RequestState state)
    {
        // Rolling sessions: every request that carries a valid session extends it.
        state.Touch();
        var identity = state.Identity = new ClaimsIdentity(Auth0Defaults.AuthenticationScheme, "name", settings.Options.RoleClaimType);
        // One at a time, as the constructor would add them, without boxing the list's enumerator.
        var claims = state.SessionClaims();
        for (var i = 0; i < claims.Count; i++) identity.AddClaim(claims[i]);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Auth0Defaults.AuthenticationScheme));
    }

    /// <summary>The claims of a session's user as <c>HttpContext.User</c> carries them.</summary>
    internal static List<Claim> ClaimsOf(Auth0Session session)
    {
        var claims = new List<Claim>(session.User.Claims.Count);
        foreach (var (name, value) in session.User.Claims)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String: claims.Add(new Claim(name, value.GetString()!)); break;
                case JsonValueKind.Array:
                    foreach (var item in value.EnumerateArray())
                        claims.Add(new Claim(name, item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText()));
                    break;
                case JsonValueKind.Null: break;
                default: claims.Add(new Claim(name, value.GetRawText())); break;
            }
        }
        return claims;
    }

    public Task ChallengeAsync(AuthenticationProperties? properties)
    {
        var request = _context.Request;
        var response = _context.Response;
        // An unreachable session store is not "signed out": say so, and keep the cookie.
        if (Auth0RequestState.For(_context).StoreFailed)
            return PlainResponses.JsonErrorAsync(_context, 503, "session_store_unavailable", "The session store is unavailable.");
        // RequireAuth0Login pages always redirect and RequireAuth0Session APIs never do; any other protected endpoint
        // ([Authorize], RequireAuthorization) redirects browser navigations and answers 401 to everything else.
        var metadata = _context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<Auth0LoginRedirectMetadata>() is not null
            || (metadata?.GetMetadata<Auth0ApiEndpointMetadata>() is null && PlainResponses.IsPageRequest(request)))
        {
            var original = (request.PathBase + request.Path + request.QueryString).ToString();
            // Login keeps at most this much of returnTo anyway; longer, the query goes, then the whole value.
            if (original.Length > Sessions.TransactionStore.MaxReturnToBytes) original = (request.PathBase + request.Path).ToString();
            var login = settings.RouteUrl(settings.Routes.Login);
            response.StatusCode = StatusCodes.Status302Found;
            response.Headers.CacheControl = "no-store";
            response.Headers.Location = original.Length > Sessions.TransactionStore.MaxReturnToBytes
                ? login
                : login + "?returnTo=" + Uri.EscapeDataString(original);
            return Task.CompletedTask;
        }
        response.Headers.CacheControl = "no-store";
        return PlainResponses.NotAuthenticatedAsync(_context);
    }

    public Task ForbidAsync(AuthenticationProperties? properties)
    {
        _context.Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
