using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
/// </summary>
internal sealed class Auth0AuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Auth0Settings settings)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var state = Auth0RequestState.For(Context);
        Auth0Session? session;
        try
        {
            session = await state.GetSessionAsync(Context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A store outage makes the request anonymous rather than failing it.
            return AuthenticateResult.Fail("The session could not be read: " + ex.GetType().Name);
        }
        if (session is null) return AuthenticateResult.NoResult();
        // Rolling sessions: every request that carries a valid session extends it.
        state.Touch();
        var identity = new ClaimsIdentity(Auth0Defaults.AuthenticationScheme, "name", settings.Options.RoleClaimType);
        foreach (var (name, value) in session.User.Claims)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.String: identity.AddClaim(new Claim(name, value.GetString()!)); break;
                case JsonValueKind.Array:
                    foreach (var item in value.EnumerateArray())
                        identity.AddClaim(new Claim(name, item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText()));
                    break;
                case JsonValueKind.Null: break;
                default: identity.AddClaim(new Claim(name, value.GetRawText())); break;
            }
        }
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), Auth0Defaults.AuthenticationScheme);
        return AuthenticateResult.Success(ticket);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        // An unreachable session store is not "signed out": say so, and keep the cookie.
        if (Auth0RequestState.For(Context).StoreFailed)
            return PlainResponses.JsonErrorAsync(Context, 503, "session_store_unavailable", "The session store is unavailable.");
        // RequireAuth0Login pages always redirect and RequireAuth0Session APIs never do; any other protected endpoint
        // ([Authorize], RequireAuthorization) redirects browser navigations and answers 401 to everything else.
        var metadata = Context.GetEndpoint()?.Metadata;
        if (metadata?.GetMetadata<Auth0LoginRedirectMetadata>() is not null
            || (metadata?.GetMetadata<Auth0ApiEndpointMetadata>() is null && PlainResponses.IsPageRequest(Request)))
        {
            var original = (Request.PathBase + Request.Path + Request.QueryString).ToString();
            // Login keeps at most this much of returnTo anyway; longer, the query goes, then the whole value.
            if (original.Length > Sessions.TransactionStore.MaxReturnToBytes) original = (Request.PathBase + Request.Path).ToString();
            var login = settings.RouteUrl(settings.Routes.Login);
            Response.StatusCode = StatusCodes.Status302Found;
            Response.Headers.CacheControl = "no-store";
            Response.Headers.Location = original.Length > Sessions.TransactionStore.MaxReturnToBytes
                ? login
                : login + "?returnTo=" + Uri.EscapeDataString(original);
            return Task.CompletedTask;
        }
        Response.Headers.CacheControl = "no-store";
        return PlainResponses.NotAuthenticatedAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Task.CompletedTask;
    }
}
