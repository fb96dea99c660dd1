using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Auth0.Minimal.Configuration;
using Microsoft.Extensions.Caching.Distributed;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Remembers back-channel logouts for cookie sessions, which have no server-side record to delete: a session whose
/// sid was logged out (or whose user was logged out after the session began) stops working, stolen copies included.
/// Kept in <see cref="IDistributedCache"/> when the app registers one (so every instance sees it), else in memory.
/// </summary>
internal sealed class LogoutRegistry(Auth0Settings settings, TimeProvider time, IDistributedCache? cache = null)
{
    private const string SidPrefix = "auth0:logout:sid:";
    private const string SubPrefix = "auth0:logout:sub:";
    private readonly ConcurrentDictionary<string, (long LoggedOutAt, long Until)> _memory = new(StringComparer.Ordinal);

    /// <summary>True when lookups need I/O (a distributed cache), so they cannot be made synchronously.</summary>
    public bool IsActive => cache is not null;

    public async Task RecordAsync(LogoutTokenClaims claims, long loggedOutAt, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var until = now + (long)settings.Options.Session.AbsoluteDuration.TotalSeconds;
        if (claims.Sid is { } sid) await PutAsync(SidPrefix + sid, loggedOutAt, until, ct).ConfigureAwait(false);
        if (claims.Sid is null && claims.Sub is { } sub) await PutAsync(SubPrefix + sub, loggedOutAt, until, ct).ConfigureAwait(false);
        Prune(now);
    }

    public async ValueTask<bool> IsLoggedOutAsync(Auth0Session session, CancellationToken ct)
    {
        if (cache is null && _memory.IsEmpty) return false;
        if (session.Internal.Sid is { } sid && await GetAsync(SidPrefix + sid, ct).ConfigureAwait(false) is not null) return true;
        if (session.User.Sub is { } sub && await GetAsync(SubPrefix + sub, ct).ConfigureAwait(false) is { } at)
            return (session.Internal.CreatedAt ?? 0) <= at;
        return false;
    }

    private async Task PutAsync(string key, long loggedOutAt, long until, CancellationToken ct)
    {
        if (cache is null)
        {
            _memory[key] = (loggedOutAt, until);
            return;
        }
        await cache.SetAsync(key, Encoding.ASCII.GetBytes(loggedOutAt.ToString(CultureInfo.InvariantCulture)),
            new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.FromUnixTimeSeconds(until) }, ct).ConfigureAwait(false);
    }

    private async ValueTask<long?> GetAsync(string key, CancellationToken ct)
    {
        if (cache is null)
            return _memory.TryGetValue(key, out var entry) && entry.Until > time.GetUtcNow().ToUnixTimeSeconds() ? entry.LoggedOutAt : null;
        var bytes = await cache.GetAsync(key, ct).ConfigureAwait(false);
        return bytes is not null && long.TryParse(Encoding.ASCII.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private void Prune(long now)
    {
        if (_memory.Count < 4096) return;
        foreach (var (key, entry) in _memory) if (entry.Until <= now) _memory.TryRemove(key, out _);
    }
}
