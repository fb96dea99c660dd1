using System.Text;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Microsoft.Extensions.Caching.Distributed;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// <see cref="ISessionStore"/> on <see cref="IDistributedCache"/> (Redis via AddStackExchangeRedisCache, SQL Server, ...),
/// with sid and sub indexes for back-channel logout and tombstones so a write racing a logout never revives a session.
/// </summary>
public sealed class DistributedCacheSessionStore : ISessionStore
{
    private const string SessionPrefix = "auth0:session:";
    private const string TombstonePrefix = "auth0:deleted:";
    private const string SidPrefix = "auth0:sid:";
    private const string SubPrefix = "auth0:sub:";
    private readonly IDistributedCache _cache;
    private readonly TimeSpan _tombstoneLifetime;

    internal DistributedCacheSessionStore(IDistributedCache cache, Auth0Settings settings)
    {
        _cache = cache;
        _tombstoneLifetime = settings.Options.Session.AbsoluteDuration;
    }

    public async Task<Auth0Session?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var bytes = await _cache.GetAsync(SessionPrefix + id, cancellationToken).ConfigureAwait(false);
        return bytes is null ? null : SessionCookieStore.Deserialize(bytes);
    }

    public async Task SetAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var options = new DistributedCacheEntryOptions { AbsoluteExpiration = expiresAt };
        await _cache.SetAsync(SessionPrefix + id, Serialize(session), options, cancellationToken).ConfigureAwait(false);
        // Indexes live as long as a session can (the absolute lifetime), however often it is rolled.
        if (session.Internal.Sid is { } sid) await AddToIndexAsync(SidPrefix + sid, id, cancellationToken).ConfigureAwait(false);
        if (session.User.Sub is { } sub) await AddToIndexAsync(SubPrefix + sub, id, cancellationToken).ConfigureAwait(false);
    }

    // Read-modify-write without transactions: a lost entry under concurrent logins is covered by the logout registry,
    // which refuses every session of a logged-out sid, and every earlier session of a logged-out sub.
    private async Task AddToIndexAsync(string key, string id, CancellationToken ct)
    {
        var ids = await ReadIdsAsync(key, ct).ConfigureAwait(false);
        var live = new List<string> { id };
        foreach (var candidate in ids.Distinct())
            if (candidate != id && live.Count < 100 && await _cache.GetAsync(SessionPrefix + candidate, ct).ConfigureAwait(false) is not null) live.Add(candidate);
        await _cache.SetAsync(key, Encoding.ASCII.GetBytes(string.Join('\n', live)),
            new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = _tombstoneLifetime }, ct).ConfigureAwait(false);
    }

    public async Task<bool> UpdateAsync(string id, Auth0Session session, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        if (await IsDeletedAsync(id, cancellationToken).ConfigureAwait(false)) return false;
        if (await _cache.GetAsync(SessionPrefix + id, cancellationToken).ConfigureAwait(false) is null) return false;
        await _cache.SetAsync(SessionPrefix + id, Serialize(session), new DistributedCacheEntryOptions { AbsoluteExpiration = expiresAt }, cancellationToken).ConfigureAwait(false);
        // A logout that ran between the read and the write left a tombstone: undo the write.
        if (await IsDeletedAsync(id, cancellationToken).ConfigureAwait(false))
        {
            await _cache.RemoveAsync(SessionPrefix + id, cancellationToken).ConfigureAwait(false);
            return false;
        }
        return true;
    }

    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _cache.SetAsync(TombstonePrefix + id, [1], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = _tombstoneLifetime }, cancellationToken).ConfigureAwait(false);
        await _cache.RemoveAsync(SessionPrefix + id, cancellationToken).ConfigureAwait(false);
    }

    public async Task DeleteByLogoutTokenAsync(LogoutTokenClaims claims, CancellationToken cancellationToken)
    {
        if (claims.Sid is { } sid)
        {
            foreach (var id in await ReadIdsAsync(SidPrefix + sid, cancellationToken).ConfigureAwait(false))
            {
                // A token naming a user only ends that user's sessions of this sid.
                if (claims.Sub is { } expected && await GetAsync(id, cancellationToken).ConfigureAwait(false) is { } found && found.User.Sub != expected) continue;
                await DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            }
            return;
        }
        if (claims.Sub is { } sub)
        {
            foreach (var id in await ReadIdsAsync(SubPrefix + sub, cancellationToken).ConfigureAwait(false))
                await DeleteAsync(id, cancellationToken).ConfigureAwait(false);
            await _cache.RemoveAsync(SubPrefix + sub, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsDeletedAsync(string id, CancellationToken ct) =>
        await _cache.GetAsync(TombstonePrefix + id, ct).ConfigureAwait(false) is not null;

    private async Task<List<string>> ReadIdsAsync(string key, CancellationToken ct)
    {
        var bytes = await _cache.GetAsync(key, ct).ConfigureAwait(false);
        return bytes is null ? [] : Encoding.ASCII.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static byte[] Serialize(Auth0Session session) =>
        JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session);
}
