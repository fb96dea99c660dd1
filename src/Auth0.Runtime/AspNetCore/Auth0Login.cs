using Auth0.Minimal.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal;

/// <summary>Starts an interactive login from any endpoint (the counterpart of nextjs-auth0's <c>startInteractiveLogin</c>).</summary>
public static class Auth0Login
{
    /// <summary>
    /// An <see cref="IResult"/> that redirects to the identity provider. <paramref name="returnTo"/> is validated like the
    /// login route's (same origin only); <paramref name="authorizationParameters"/> go to /authorize, except the ones the
    /// SDK owns (client_id, redirect_uri, state, nonce, PKCE, response_type, response_mode, request objects).
    /// </summary>
    public static IResult Start(string? returnTo = null, IReadOnlyDictionary<string, string>? authorizationParameters = null) =>
        new StartLoginResult(returnTo, authorizationParameters);

    private sealed class StartLoginResult(string? returnTo, IReadOnlyDictionary<string, string>? parameters) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) =>
            httpContext.RequestServices.GetRequiredService<Auth0Endpoints>()
                .BeginLoginAsync(httpContext, returnTo, parameters ?? new Dictionary<string, string>());
    }
}
