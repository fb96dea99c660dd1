using Auth0.Minimal;
using Auth0.Minimal.Sessions;

namespace Microsoft.AspNetCore.Http;

public static class Auth0HttpContextExtensions
{
    /// <summary>
    /// The current session, read once per request; null when signed out. With a session store, use
    /// <see cref="GetAuth0SessionAsync"/> unless authentication already ran for this request.
    /// </summary>
    public static Auth0Session? GetAuth0Session(this HttpContext context) => Auth0RequestState.For(context).Session;

    public static ValueTask<Auth0Session?> GetAuth0SessionAsync(this HttpContext context, CancellationToken cancellationToken = default) =>
        Auth0RequestState.For(context).GetSessionAsync(cancellationToken);

    /// <summary>
    /// Changes the current session (the counterpart of nextjs-auth0's <c>updateSession</c>): the change is visible to
    /// the rest of the request and saved once with the response. Its internal data cannot be changed.
    /// </summary>
    /// <exception cref="Auth0Exception"><c>missing_session</c> when the user is signed out.</exception>
    public static async Task UpdateAuth0SessionAsync(this HttpContext context, Action<Auth0Session> update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var state = Auth0RequestState.For(context);
        var session = await state.GetSessionAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new Auth0Exception(Auth0ErrorCodes.MissingSession, "The user does not have an active session.");
        var copy = session.Internal.Copy();
        update(session);
        session.Internal = copy;
        session.User ??= new Auth0User();
        session.TokenSet ??= new TokenSet();
        state.Save(session);
    }
}
