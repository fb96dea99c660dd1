using System.Collections.Concurrent;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Sessions already decrypted and checked, keyed by the exact cookie value that carried them, so a request with the
/// same cookie costs a lookup and a copy instead of AES-GCM and JSON. Only authenticated values are ever added, a
/// value only matches itself, and every hit hands out a copy, so no request sees another's changes.
/// </summary>
internal sealed class VerifiedSessionCache
{
    internal const int Capacity = 1024;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed record Entry(Auth0Session Session, long ExpiresAt);

    public bool TryGet(string cookieValue, long now, out Auth0Session session, out long expiresAt)
    {
        if (_entries.TryGetValue(cookieValue, out var entry))
        {
            if (entry.ExpiresAt > now)
            {
                session = entry.Session.Clone();
                expiresAt = entry.ExpiresAt;
                return true;
            }
            _entries.TryRemove(cookieValue, out _);
        }
        session = null!;
        expiresAt = 0;
        return false;
    }

    public void Add(string cookieValue, Auth0Session session, long expiresAt)
    {
        // Full means many distinct cookies: start over rather than track use; the next reads decrypt again.
        if (_entries.Count >= Capacity) _entries.Clear();
        _entries[cookieValue] = new Entry(session.Clone(), expiresAt);
    }
}
