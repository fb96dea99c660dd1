using System.Collections.Concurrent;
using System.Security.Claims;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Sessions already decrypted and checked, keyed by the exact cookie value that carried them, so a request with the
/// same cookie costs a lookup instead of AES-GCM and JSON. Only authenticated values are ever added and a value only
/// matches itself. The cached session is shared and never changed: a request that hands the session to app code
/// copies it first (see <see cref="Auth0RequestState"/>).
/// </summary>
internal sealed class VerifiedSessionCache
{
    internal const int Capacity = 1024;
    // The index is the value's last characters, the AES-GCM tag of the JWE (new with every encryption): found from
    // the request's Cookie header without joining chunks, and a hit still compares the whole value.
    internal const int KeyLength = 22;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry>.AlternateLookup<ReadOnlySpan<char>> _byKey;
    private int _added;

    private static readonly System.Buffers.SearchValues<char> JweChars =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.");

    public VerifiedSessionCache() => _byKey = _entries.GetAlternateLookup<ReadOnlySpan<char>>();

    internal sealed class Entry(string value, Auth0Session session, long expiresAt)
    {
        private List<Claim>? _claims;
        private long _rolledTo;
        private long _healCheckedAt = -1;

        public string Value { get; } = value;
        /// <summary>Shared by every request with this cookie: read it, never change it.</summary>
        public Auth0Session Session { get; } = session;
        public long ExpiresAt { get; } = expiresAt;
        /// <summary>The user's claims, built once (ClaimsIdentity copies each claim it is given).</summary>
        public List<Claim> Claims => _claims ??= AspNetCore.Auth0AuthenticationHandler.ClaimsOf(Session);

        /// <summary>
        /// The latest expiry this process gave the session when it re-issued this cookie: a client that sends the old
        /// cookie again (requests already in flight, or one that ignores Set-Cookie) does not cost another encryption.
        /// </summary>
        public long RolledTo => Volatile.Read(ref _rolledTo);

        /// <summary>The refresh-token rotation count at which this session was last found to need no healing.</summary>
        public long HealCheckedAt
        {
            get => Interlocked.Read(ref _healCheckedAt);
            set => Interlocked.Exchange(ref _healCheckedAt, value);
        }

        public void Rolled(long expiresAt)
        {
            var seen = Volatile.Read(ref _rolledTo);
            while (expiresAt > seen)
            {
                var previous = Interlocked.CompareExchange(ref _rolledTo, expiresAt, seen);
                if (previous == seen) return;
                seen = previous;
            }
        }
    }

    /// <summary>The entry for the cookie value made of <paramref name="parts"/> of <paramref name="source"/>, if cached and unexpired.</summary>
    public Entry? Find(string source, ReadOnlySpan<(int Start, int Length)> parts, long now)
    {
        if (parts.IsEmpty) return null;
        var last = parts[^1];
        if (last.Length < KeyLength) return null; // the tag spans two chunks: the slow path joins them
        if (!_byKey.TryGetValue(source.AsSpan(last.Start + last.Length - KeyLength, KeyLength), out var entry)) return null;
        var value = entry.Value.AsSpan();
        var at = 0;
        foreach (var (start, length) in parts)
        {
            if (at + length > value.Length || !value.Slice(at, length).SequenceEqual(source.AsSpan(start, length))) return null;
            at += length;
        }
        if (at != value.Length) return null;
        if (entry.ExpiresAt > now) return entry;
        _entries.TryRemove(new KeyValuePair<string, Entry>(entry.Value[^KeyLength..], entry));
        return null;
    }

    /// <summary>The entry for a whole cookie value, if cached and unexpired.</summary>
    public Entry? Find(string value, long now) => Find(value, [(0, value.Length)], now);

    /// <summary>Caches <paramref name="session"/> itself: the caller hands it over and no longer changes it.</summary>
    public Entry? Add(string cookieValue, Auth0Session session, long expiresAt)
    {
        // The Cookie-header scan relies on cached values being plain JWE text (base64url and dots): it skips the
        // cookie-octet check for a value it will only use when it equals one of these.
        if (cookieValue.Length < KeyLength || cookieValue.AsSpan().ContainsAnyExcept(JweChars)) return null;
        // Full means many distinct cookies: start over rather than track use; the next reads decrypt again.
        // (A counter, not _entries.Count, which takes every lock of the dictionary.)
        if (Interlocked.Increment(ref _added) > Capacity)
        {
            _entries.Clear();
            Interlocked.Exchange(ref _added, 1);
        }
        var entry = new Entry(cookieValue, session, expiresAt);
        _entries[cookieValue[^KeyLength..]] = entry;
        return entry;
    }
}
