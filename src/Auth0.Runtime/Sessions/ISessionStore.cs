namespace Auth0.Minimal;

/// <summary>
/// A server-side session store ("database sessions"). With one registered, the cookie holds only an encrypted
/// session id and the session itself lives here.
/// </summary>
public interface ISessionStore
{
    Task<Auth0Session?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores a new session (a fresh id at every login).</summary>
    Task SetAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces an existing session; returns false, and stores nothing, when the session is gone (for example
    /// deleted by a logout that ran concurrently), so a late write can never bring it back.
    /// </summary>
    Task<bool> UpdateAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken);

    Task DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes every session matching a verified back-channel logout token (by sid, else by sub).</summary>
    Task DeleteByLogoutTokenAsync(LogoutTokenClaims claims, CancellationToken cancellationToken);
}

/// <summary>The identifying claims of a verified logout token.</summary>
public sealed record LogoutTokenClaims(string? Sid, string? Sub, string Iss);
