using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Auth0.Minimal.Protocol;

namespace Auth0.Minimal.Tokens;

/// <summary>
/// Keeps the use of one refresh token to one call at the provider at a time. Concurrent callers for the same audience
/// share the call in flight; callers for other audiences wait and then use the rotated successor; callers that arrive
/// shortly after with the pre-rotation cookie get the recorded result instead of replaying a spent refresh token,
/// which Auth0 would treat as reuse and answer by revoking the whole token family.
/// </summary>
internal sealed class RefreshCoordinator(TimeProvider time, Diagnostics.Auth0Telemetry telemetry)
{
    /// <summary>How long a completed refresh is remembered for late callers holding the old cookie.</summary>
    internal static readonly TimeSpan RecentWindow = TimeSpan.FromSeconds(60);
    /// <summary>
    /// How long a rotation is remembered, so a cookie that missed it (a response lost, or overtaken by a slower one)
    /// is healed instead of replaying a spent refresh token. Bounded by <see cref="MaxRotations"/>.
    /// </summary>
    internal static readonly TimeSpan RotationWindow = TimeSpan.FromDays(1);
    private const int MaxRotations = 50_000;
    private const int MaxRotationHops = 8;

    private readonly ConcurrentDictionary<string, Lazy<Task<TokenEndpointResponse>>> _inFlight = new(StringComparer.Ordinal);
    // Results by the refresh token that was spent, and (Successor = true) by the token it was rotated to: a cookie healed
    // to the successor still holds the old access token and should get the same result, unless it forces a refresh.
    private readonly ConcurrentDictionary<string, (TokenEndpointResponse Response, DateTimeOffset At, bool Successor)> _recent = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string Successor, DateTimeOffset At)> _rotations = new(StringComparer.Ordinal);
    // Striped so memory stays fixed however many sessions refresh; unrelated sessions rarely share a stripe.
    private readonly SemaphoreSlim[] _gates = Enumerable.Range(0, 1024).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private long _shared;

    /// <summary>Number of callers that joined a refresh already in flight or reused a recent one.</summary>
    public long SharedCount => Interlocked.Read(ref _shared);

    /// <summary>
    /// Replaces a session's refresh token with its newest known successor (the cookie missed a rotation); true when it
    /// changed, so the caller saves the session.
    /// </summary>
    private long _rotationVersion;

    /// <summary>Counts the rotations recorded so far: a session checked at this version needs no new check until it changes.</summary>
    public long RotationVersion => Interlocked.Read(ref _rotationVersion);

    public bool Heal(Auth0Session session)
    {
        if (!NeedsHeal(session, out var latest)) return false;
        session.TokenSet.RefreshToken = latest;
        return true;
    }

    /// <summary>True when <see cref="Heal"/> would change the session: a successor of its refresh token is known.</summary>
    public bool NeedsHeal(Auth0Session session, out string latest)
    {
        latest = "";
        // Not _rotations.IsEmpty: on an empty ConcurrentDictionary that takes every lock, on every request.
        if (RotationVersion == 0 || session.TokenSet.RefreshToken is not { } current) return false;
        latest = Latest(current);
        return latest != current;
    }

    /// <summary>The newest refresh token known to have replaced <paramref name="refreshToken"/>.</summary>
    public string Latest(string refreshToken)
    {
        var now = time.GetUtcNow();
        for (var hop = 0; hop < MaxRotationHops; hop++)
        {
            if (!_rotations.TryGetValue(Hash(refreshToken), out var next) || now - next.At > RotationWindow) break;
            refreshToken = next.Successor;
        }
        return refreshToken;
    }

    /// <summary>
    /// Refreshes <paramref name="sessionRefreshToken"/> (or its newest known successor) for one audience and scope,
    /// sharing the call and its result with every other caller of the same refresh.
    /// </summary>
    public async Task<TokenEndpointResponse> RefreshAsync(string sessionRefreshToken, string? audience, string? scope,
        Func<string, Task<TokenEndpointResponse>> refresh, bool force = false)
    {
        // Rotation first, then the recorded result: a result is recorded before its rotation, so whoever sees the
        // rotation also sees the result and never spends the successor for a refresh that already happened.
        var refreshToken = Latest(sessionRefreshToken);
        if (TryRecent(sessionRefreshToken, audience, scope, !force, out var recent)) return recent;
        if (refreshToken != sessionRefreshToken && TryRecent(refreshToken, audience, scope, !force, out recent)) return recent;

        var key = Key(refreshToken, audience, scope);
        var created = new Lazy<Task<TokenEndpointResponse>>(() => RunAsync(key, refreshToken, audience, scope, refresh), LazyThreadSafetyMode.ExecutionAndPublication);
        var lazy = _inFlight.GetOrAdd(key, created);
        if (!ReferenceEquals(lazy, created))
        {
            Interlocked.Increment(ref _shared);
            telemetry.RefreshJoined("in_flight");
        }
        return await lazy.Value.ConfigureAwait(false);
    }

    private bool TryRecent(string refreshToken, string? audience, string? scope, bool includeSuccessors, out TokenEndpointResponse response)
    {
        var now = time.GetUtcNow();
        if (_recent.TryGetValue(Key(refreshToken, audience, scope), out var entry) && now - entry.At <= RecentWindow
            && (includeSuccessors || !entry.Successor))
        {
            // The recorded token has aged: report the lifetime it has left, and never hand out an expired one.
            var elapsed = (long)(now - entry.At).TotalSeconds;
            if (entry.Response.ExpiresIn is not { } lifetime || lifetime - elapsed > 0)
            {
                Interlocked.Increment(ref _shared);
                telemetry.RefreshJoined("recent");
                response = elapsed == 0 || entry.Response.ExpiresIn is null ? entry.Response : Aged(entry.Response, entry.Response.ExpiresIn.Value - elapsed);
                return true;
            }
        }
        response = null!;
        return false;
    }

    private async Task<TokenEndpointResponse> RunAsync(string key, string refreshToken, string? audience, string? scope,
        Func<string, Task<TokenEndpointResponse>> refresh)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var gate = _gates[(int)((uint)string.GetHashCode(Hash(refreshToken), StringComparison.Ordinal) % (uint)_gates.Length)];
                await gate.WaitAsync().ConfigureAwait(false);
                try
                {
                    // A refresh of this very token may have finished while this one waited for the gate.
                    if (TryRecent(refreshToken, audience, scope, includeSuccessors: false, out var done)) return done;
                    // Another audience's refresh may have rotated the token while this one waited.
                    var latest = Latest(refreshToken);
                    if (latest != refreshToken && attempt < MaxRotationHops)
                    {
                        refreshToken = latest;
                        continue;
                    }
                    if (TryRecent(refreshToken, audience, scope, includeSuccessors: false, out var recent)) return recent;

                    var response = await refresh(refreshToken).ConfigureAwait(false);
                    var at = time.GetUtcNow();
                    _recent[key] = (response, at, false);
                    _recent[Key(refreshToken, audience, scope)] = (response, at, false);
                    if (!string.IsNullOrEmpty(response.RefreshToken) && response.RefreshToken != refreshToken)
                    {
                        _rotations[Hash(refreshToken)] = (response.RefreshToken, at);
                        Interlocked.Increment(ref _rotationVersion);
                        _recent.TryAdd(Key(response.RefreshToken, audience, scope), (response, at, true));
                    }
                    Prune(at);
                    return response;
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
        }
    }

    private void Prune(DateTimeOffset now)
    {
        if (_recent.Count >= 1024)
            foreach (var (k, v) in _recent) if (now - v.At > RecentWindow) _recent.TryRemove(k, out _);
        if (_rotations.Count < MaxRotations) return;
        foreach (var (k, v) in _rotations) if (now - v.At > RotationWindow) _rotations.TryRemove(k, out _);
        // Still full: forget the oldest half rather than grow without bound.
        if (_rotations.Count >= MaxRotations)
            foreach (var (k, _) in _rotations.OrderBy(r => r.Value.At).Take(MaxRotations / 2).ToList()) _rotations.TryRemove(k, out _);
    }

    private static TokenEndpointResponse Aged(TokenEndpointResponse r, long expiresIn) => new()
    {
        AccessToken = r.AccessToken, TokenType = r.TokenType, ExpiresIn = expiresIn, IdToken = r.IdToken,
        RefreshToken = r.RefreshToken, Scope = r.Scope, AuthorizationDetails = r.AuthorizationDetails, IssuedTokenType = r.IssuedTokenType,
    };

    private static string Key(string refreshToken, string? audience, string? scope) => Hash(refreshToken) + "\n" + audience + "\n" + scope;

    // Keys hold a hash, never the refresh token itself.
    private static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
