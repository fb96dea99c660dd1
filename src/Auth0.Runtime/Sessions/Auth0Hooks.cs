using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal;

/// <summary>What the <see cref="Auth0Options.OnCallback"/> hook sees of a finished (or failed) login.</summary>
public sealed class Auth0CallbackContext
{
    public required HttpContext HttpContext { get; init; }
    /// <summary>Why the login failed (its <see cref="Auth0Exception.Code"/> is stable); null on success.</summary>
    public Auth0Exception? Error { get; init; }
    /// <summary>The validated, origin-relative path the login was started for, when the transaction was read.</summary>
    public string? ReturnTo { get; init; }
    /// <summary>The new session (its user still holds every ID-token claim); null on failure.</summary>
    public Auth0Session? Session { get; init; }
    /// <summary><c>code</c> for a login, <c>connect_code</c> for the end of a connect-account flow.</summary>
    public string ResponseType { get; init; } = "code";
    /// <summary>The account just linked, when <see cref="ResponseType"/> is <c>connect_code</c> and it succeeded.</summary>
    public ConnectedAccount? ConnectedAccount { get; init; }
}

internal sealed class SessionFinalizer(Configuration.Auth0Settings settings)
{
    /// <summary>
    /// Applies <see cref="Auth0Options.BeforeSessionSaved"/>, or the default claim filter without one. The hook cannot
    /// change the session's internal data.
    /// </summary>
    public async ValueTask<Auth0Session> FinalizeAsync(Auth0Session session, string? idToken)
    {
        var hook = settings.Options.BeforeSessionSaved;
        if (hook is null)
        {
            session.User = Auth0User.FilterDefaultIdTokenClaims(session.User.Claims, settings.Options.IdTokenClaimsToKeep);
            return session;
        }
        var copy = session.Internal.Copy();
        var result = await hook(session, idToken).ConfigureAwait(false) ?? session;
        result.Internal = copy;
        result.User ??= new Auth0User();
        result.TokenSet ??= session.TokenSet;
        return result;
    }
}
