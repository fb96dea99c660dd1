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
    private readonly ConcurrentDictionary<string, (long LoggedOutAt, string? Sub, long Until)> _memory = new(StringComparer.Ordinal);
    private volatile bool _anyInMemory;

    /// <summary>True when lookups need I/O (a distributed cache), so they cannot be made synchronously.</summary>
    public bool IsActive => cache is not null;

    /// <summary>
    /// Records a verified logout. A sid logout ends that provider session (for the same user when the token names one);
    /// a sub-only logout ends every session of the user that began before it.
    /// </summary>
    public async Task RecordAsync(LogoutTokenClaims claims, long issuedAt, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        // A token from the future (within clock tolerance) must not kill logins that happen after it arrived.
        var loggedOutAt = Math.Min(issuedAt, now);
        var until = now + (long)settings.Options.Session.AbsoluteDuration.TotalSeconds;
        if (claims.Sid is { } sid) await PutAsync(SidPrefix + sid, loggedOutAt, claims.Sub, until, ct).ConfigureAwait(false);
        else if (claims.Sub is { } sub) await PutAsync(SubPrefix + sub, loggedOutAt, null, until, ct).ConfigureAwait(false);
        Prune(now);
    }

    public async ValueTask<bool> IsLoggedOutAsync(Auth0Session session, CancellationToken ct)
    {
        // Not _memory.IsEmpty: on an empty ConcurrentDictionary that takes every lock, on every request.
        if (cache is null && !_anyInMemory) return false;
        if (session.Internal.Sid is { } sid && await GetAsync(SidPrefix + sid, ct).ConfigureAwait(false) is { } bySid
            && (bySid.Sub is null || bySid.Sub == session.User.Sub))
            return true;
        if (session.User.Sub is { } sub && await GetAsync(SubPrefix + sub, ct).ConfigureAwait(false) is { } bySub)
            return (session.Internal.CreatedAt ?? 0) < bySub.LoggedOutAt;
        return false;
    }

    private async Task PutAsync(string key, long loggedOutAt, string? sub, long until, CancellationToken ct)
    {
        if (cache is null)
        {
            _memory[key] = (loggedOutAt, sub, until);
            _anyInMemory = true;
            return;
        }
        var value = loggedOutAt.ToString(CultureInfo.InvariantCulture) + (sub is null ? "" : "\n" + sub);
        await cache.SetAsync(key, Encoding.UTF8.GetBytes(value),
            new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.FromUnixTimeSeconds(until) }, ct).ConfigureAwait(false);
    }

    private async ValueTask<(long LoggedOutAt, string? Sub)?> GetAsync(string key, CancellationToken ct)
    {
        if (cache is null)
            return _memory.TryGetValue(key, out var entry) && entry.Until > time.GetUtcNow().ToUnixTimeSeconds() ? (entry.LoggedOutAt, entry.Sub) : null;
        var bytes = await cache.GetAsync(key, ct).ConfigureAwait(false);
        if (bytes is null) return null;
        var text = Encoding.UTF8.GetString(bytes);
        var newline = text.IndexOf('\n');
        var number = newline < 0 ? text : text[..newline];
        return long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var at) ? (at, newline < 0 ? null : text[(newline + 1)..]) : null;
    }

    private void Prune(long now)
    {
        if (_memory.Count < 4096) return;
        foreach (var (key, entry) in _memory) if (entry.Until <= now) _memory.TryRemove(key, out _);
    }
}
