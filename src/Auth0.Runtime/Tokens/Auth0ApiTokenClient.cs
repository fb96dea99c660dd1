using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal;

/// <summary>Access tokens for one API; the generator derives <c>I{Name}ApiTokenClient</c> from this.</summary>
public interface IAuth0ApiTokenClient
{
    string ApiName { get; }
    string Audience { get; }
    string? Scope { get; }
#pragma warning disable RS0026 // the usual optional CancellationToken on each overload
    Task<AccessTokenResult> GetAccessTokenAsync(CancellationToken cancellationToken = default);
    Task<AccessTokenResult> GetAccessTokenAsync(bool forceRefresh, CancellationToken cancellationToken = default);
#pragma warning restore RS0026
}

/// <summary>
/// The implementation behind every generated token client: the current request's session, one fixed audience and
/// scope, so a token for one API can never be handed out for another.
/// </summary>
public abstract class Auth0ApiTokenClient(IHttpContextAccessor httpContextAccessor, Auth0TokenService tokens, string apiName, string audience, string? scope)
    : IAuth0ApiTokenClient
{
    public string ApiName { get; } = apiName;
    public string Audience { get; } = audience;
    public string? Scope { get; } = scope;

#pragma warning disable RS0026 // the usual optional CancellationToken on each overload
    public Task<AccessTokenResult> GetAccessTokenAsync(CancellationToken cancellationToken = default) =>
        GetAccessTokenAsync(false, cancellationToken);

    public Task<AccessTokenResult> GetAccessTokenAsync(bool forceRefresh, CancellationToken cancellationToken = default)
#pragma warning restore RS0026
    {
        var context = httpContextAccessor.HttpContext
            ?? throw new InvalidOperationException($"The {ApiName} API token client needs the current HTTP request: call it while handling a request.");
        return tokens.GetAccessTokenAsync(context, new AccessTokenOptions { Audience = Audience, Scope = Scope, ForceRefresh = forceRefresh }, cancellationToken);
    }
}
