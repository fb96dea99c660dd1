using Auth0.Minimal.Sessions;

namespace Microsoft.AspNetCore.Builder;

public static class Auth0ApplicationBuilderExtensions
{
    /// <summary>
    /// Rolls the session on every request that carries one (a new cookie expiry, no-cache headers), also for endpoints
    /// that skip authentication. Anonymous requests get nothing. The Auth0 authentication scheme rolls sessions too, so
    /// this is needed only when the authentication middleware does not run for every request.
    /// </summary>
    public static IApplicationBuilder UseAuth0(this IApplicationBuilder app) =>
        app.Use(static async (context, next) =>
        {
            var state = Auth0RequestState.For(context);
            if (await state.HasSessionAsync()) state.Touch();
            await next(context);
        });
}
