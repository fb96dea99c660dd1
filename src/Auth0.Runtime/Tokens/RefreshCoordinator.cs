using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Auth0.Minimal.Protocol;

namespace Auth0.Minimal.Tokens;

/// <summary>
/// Keeps refreshes of one refresh token to one call at the provider. Concurrent callers share the call in flight;
/// callers that arrive shortly after with the pre-rotation cookie get the recorded result (and the rotated refresh
/// token) instead of replaying a spent refresh token, which Auth0 would treat as reuse and revoke the family.
/// </summary>
internal sealed class RefreshCoordinator(TimeProvider time)
{
    /// <summary>How long a completed refresh is remembered for late callers holding the old cookie.</summary>
    internal static readonly TimeSpan RecentWindow = TimeSpan.FromSeconds(60);
    private const int MaxRotationHops = 8;

    private readonly ConcurrentDictionary<string, Lazy<Task<TokenEndpointResponse>>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (TokenEndpointResponse Response, DateTimeOffset At)> _recent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Successor, DateTimeOffset At)> _rotations = new(StringComparer.Ordinal);

    /// <summary>Number of callers that joined a refresh already in flight or reused a recent one.</summary>
    public long SharedCount => Interlocked.Read(ref _shared);
    private long _shared;

    /// <summary>The newest refresh token known to have replaced <paramref name="refreshToken"/>.</summary>
    public string Latest(string refreshToken)
    {
        var now = time.GetUtcNow();
        for (var hop = 0; hop < MaxRotationHops; hop++)
        {
            if (!_rotations.TryGetValue(Hash(refreshToken), out var next) || now - next.At > RecentWindow) break;
            refreshToken = next.Successor;
        }
        return refreshToken;
    }

    /// <summary>
    /// Refreshes <paramref name="sessionRefreshToken"/> (or its newest known successor) for one audience and scope,
    /// sharing the call and its result with every other caller of the same refresh.
    /// </summary>
    public async Task<TokenEndpointResponse> RefreshAsync(string sessionRefreshToken, string? audience, string? scope,
        Func<string, Task<TokenEndpointResponse>> refresh)
    {
        var now = time.GetUtcNow();
        // The same cookie already refreshed for this audience a moment ago: hand out that result.
        if (_recent.TryGetValue(Key(sessionRefreshToken, audience, scope), out var recent) && now - recent.At <= RecentWindow)
        {
            Interlocked.Increment(ref _shared);
            return recent.Response;
        }
        var refreshToken = Latest(sessionRefreshToken);
        var key = Key(refreshToken, audience, scope);
        if (refreshToken != sessionRefreshToken && _recent.TryGetValue(key, out recent) && now - recent.At <= RecentWindow)
        {
            Interlocked.Increment(ref _shared);
            return recent.Response;
        }

        var created = new Lazy<Task<TokenEndpointResponse>>(() => RunAsync(key, refreshToken, refresh), LazyThreadSafetyMode.ExecutionAndPublication);
        var lazy = _inFlight.GetOrAdd(key, created);
        if (!ReferenceEquals(lazy, created)) Interlocked.Increment(ref _shared);
        return await lazy.Value.ConfigureAwait(false);
    }

    private async Task<TokenEndpointResponse> RunAsync(string key, string refreshToken, Func<string, Task<TokenEndpointResponse>> refresh)
    {
        try
        {
            var response = await refresh(refreshToken).ConfigureAwait(false);
            var at = time.GetUtcNow();
            _recent[key] = (response, at);
            if (!string.IsNullOrEmpty(response.RefreshToken) && response.RefreshToken != refreshToken)
                _rotations[Hash(refreshToken)] = (response.RefreshToken, at);
            Prune(at);
            return response;
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_recent.Count + _rotations.Count < 1024) return;
        foreach (var (k, v) in _recent) if (now - v.At > RecentWindow) _recent.TryRemove(k, out _);
        foreach (var (k, v) in _rotations) if (now - v.At > RecentWindow) _rotations.TryRemove(k, out _);
    }

    private static string Key(string refreshToken, string? audience, string? scope) => Hash(refreshToken) + "\n" + audience + "\n" + scope;

    // Keys hold a hash, never the refresh token itself.
    private static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
