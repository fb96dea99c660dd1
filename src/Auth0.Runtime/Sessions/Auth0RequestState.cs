using System.Security.Cryptography;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Per-request session state: the session is read (decrypted, or fetched from the store) at most once, changes
/// are visible to the rest of the request, and the cookie is written once when the response starts.
/// </summary>
internal sealed partial class Auth0RequestState
{
    private readonly HttpContext _context;
    // One reference to the singletons rather than a copy of each: this object is made on every request.
    private readonly Services _shared;
    private readonly ISessionStore? _store;
    private bool _loaded;
    private Auth0Session? _session;
    // False while _session is the verified-session cache's shared instance: copied before anything can change it.
    private bool _owned = true;
    private VerifiedSessionCache.Entry? _entry;
    private string? _sessionId;
    private SessionChange _change;
    private bool _isNew;
    private bool _committed;
    private bool _flushRegistered;
    private SessionStoreUnavailableException? _loadError;
    private long? _cookieExpiresAt;
    private long _now;

    private enum SessionChange { None, Write, Delete }

    private Auth0RequestState(HttpContext context, Services shared)
    {
        _context = context;
        _shared = shared;
        // The store may be scoped, so it comes from the request; without a registration there is nothing to look up.
        _store = shared.MayHaveStore ? context.RequestServices.GetService<ISessionStore>() : null;
    }

    /// <summary>The singletons every request's state needs.</summary>
    internal sealed class Services(SessionCookieStore cookies, LogoutRegistry logouts, Tokens.RefreshCoordinator coordinator, Auth0Settings settings, TimeProvider time,
        bool mayHaveStore)
    {
        public SessionCookieStore Cookies { get; } = cookies;
        public LogoutRegistry Logouts { get; } = logouts;
        public Tokens.RefreshCoordinator Coordinator { get; } = coordinator;
        public Auth0Settings Settings { get; } = settings;
        public TimeProvider Time { get; } = time;
        /// <summary>False when the container knows no <see cref="ISessionStore"/> (it cannot gain one after it is built).</summary>
        public bool MayHaveStore { get; } = mayHaveStore;
    }

    private ResponseCookieJar? _jar;

    /// <summary>The cookies this response sets; made on first use, since most requests set none.</summary>
    public ResponseCookieJar Cookies => _jar ??= new();

    /// <summary>Set when the response carries session data and must not be cached.</summary>
    public bool NoCache { get; set; }

    /// <summary>The Auth0 scheme's answer for this request, which the policy evaluator hands on when it still holds.</summary>
    internal Task<Microsoft.AspNetCore.Authentication.AuthenticateResult>? AuthenticatedTask { get; set; }

    /// <summary>The identity the Auth0 scheme built for this request's session.</summary>
    internal System.Security.Claims.ClaimsIdentity? Identity { get; set; }

    /// <summary>True when the session is loaded and there is one (no copy made).</summary>
    internal bool HasLoadedSession => _loaded && _session is not null;

    public static Auth0RequestState For(HttpContext context) =>
        context.Features.Get<Auth0RequestState>() ?? Create(context, context.RequestServices.GetRequiredService<Services>());

    /// <summary>As <see cref="For(HttpContext)"/>, for a caller that already holds the singletons (no service lookup).</summary>
    internal static Auth0RequestState For(HttpContext context, Services shared) =>
        context.Features.Get<Auth0RequestState>() ?? Create(context, shared);

    private static Auth0RequestState Create(HttpContext context, Services shared)
    {
        var state = new Auth0RequestState(context, shared);
        context.Features.Set(state);
        return state;
    }

    /// <summary>The session once loaded. Loads it synchronously for cookie sessions; a store needs <see cref="GetSessionAsync"/>.</summary>
    public Auth0Session? Session
    {
        get
        {
            if (_loaded) return Own();
            if (_loadError is not null) return null; // the store failed earlier in this request: anonymous, as for authentication
            if (_store is not null || _shared.Logouts.IsActive)
                throw new InvalidOperationException("The Auth0 session is not loaded yet; use GetAuth0SessionAsync() (it needs the session store).");
            return GetSessionAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>The session, this request's own copy: changing it changes nothing until <see cref="Save"/>.</summary>
    public async ValueTask<Auth0Session?> GetSessionAsync(CancellationToken ct)
    {
        if (!_loaded) await LoadAsync(ct).ConfigureAwait(false);
        return Own();
    }

    private Auth0Session? Own()
    {
        if (!_owned && _session is not null)
        {
            _session = _session.Clone();
            _owned = true;
        }
        return _session;
    }

    /// <summary>
    /// True when the request has a session. Loads it like <see cref="GetSessionAsync"/>, without making this request's
    /// copy: authentication only reads the session, and most requests never touch it otherwise.
    /// </summary>
    internal async ValueTask<bool> HasSessionAsync(CancellationToken ct)
    {
        if (!_loaded) await LoadAsync(ct).ConfigureAwait(false);
        return _session is not null;
    }

    /// <summary>
    /// <see cref="HasSessionAsync(CancellationToken)"/> with the request's abort token when loading can wait on I/O (a
    /// store, a distributed logout registry); a cookie session is read without it, and the token is not free to get.
    /// </summary>
    internal ValueTask<bool> HasSessionAsync() =>
        HasSessionAsync(_loaded || (_store is null && !_shared.Logouts.IsActive) ? CancellationToken.None : _context.RequestAborted);

    /// <summary>The claims of the loaded session's user, for <c>HttpContext.User</c>; built once per cached cookie.</summary>
    internal List<System.Security.Claims.Claim> SessionClaims() =>
        _entry is not null && ReferenceEquals(_session, _entry.Session)
            ? _entry.Claims
            : AspNetCore.Auth0AuthenticationHandler.ClaimsOf(_session!);

    private async ValueTask LoadAsync(CancellationToken ct)
    {
        // One clock read for every check of this request (the clock is a system call on some VMs).
        var now = _now = _shared.Time.GetUtcNow().ToUnixTimeSeconds();
        var request = _context.Request;
        Auth0Session? session;
        bool hadCookies;
        VerifiedSessionCache.Entry? entry = null;
        if (_store is null)
        {
            session = _shared.Cookies.ReadShared(request, now, out hadCookies, out _cookieExpiresAt, out entry);
        }
        else
        {
            if (_loadError is not null) throw _loadError;
            _sessionId = _shared.Cookies.ReadSessionId(request, out hadCookies);
            try
            {
                session = _sessionId is null ? null : await _store.GetAsync(_sessionId, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Remembered, so the rest of this request does not wait on a broken store again.
                _loadError = new SessionStoreUnavailableException(ex);
                throw _loadError;
            }
            if (session is not null && !_shared.Cookies.IsWithinLifetime(session, now)) session = null;
        }
        // The provider's session_expiry ends the session itself, not only its tokens.
        if (session?.Internal.SessionExpiresAt is { } ceiling && now >= ceiling) session = null;
        if (session is not null && await _shared.Logouts.IsLoggedOutAsync(session, ct).ConfigureAwait(false)) session = null;

        if (_loaded) return; // loaded meanwhile by a Save/Delete
        _loaded = true;
        _session = session;
        _entry = entry;
        _owned = session is null || entry is null || !ReferenceEquals(session, entry.Session);
        // The cookie missed a refresh-token rotation (a lost or overtaken response): write the successor back now.
        if (session is not null && NeedsHeal(session, entry, out var latest))
        {
            var own = Own()!;
            own.TokenSet.RefreshToken = latest;
            Save(own);
        }
        // A cookie we cannot use (tampered, truncated, wrong key, expired, logged out) is cleared, not kept around.
        if (session is null && hadCookies) MarkDirty(SessionChange.Delete);
    }

    // A cached cookie found in no need of healing stays so until another rotation is recorded (it hashes the token).
    private bool NeedsHeal(Auth0Session session, VerifiedSessionCache.Entry? entry, out string latest)
    {
        latest = "";
        var version = _shared.Coordinator.RotationVersion;
        if (entry is not null && entry.HealCheckedAt == version) return false;
        if (_shared.Coordinator.NeedsHeal(session, out latest)) return true;
        if (entry is not null) entry.HealCheckedAt = version;
        return false;
    }

    /// <summary>Saves changes to the current session (written once, when the response starts).</summary>
    public void Save(Auth0Session session)
    {
        _loaded = true;
        _session = session;
        _owned = true;
        MarkDirty(SessionChange.Write);
        _changedData = true;
        NoCache = true;
    }

    private bool _changedData;

    /// <summary>
    /// True when this request changed the session's data (a rotated refresh token, an update, a deletion) and that
    /// change has not been written yet; a rolling re-issue alone does not count.
    /// </summary>
    public bool HasUnwrittenChange => _changedData && !_committed && _change != SessionChange.None;

    /// <summary>Saves a session created by a login: a store gets a new id, and the old one is deleted.</summary>
    public void SaveNew(Auth0Session session)
    {
        _isNew = true;
        Save(session);
    }

    /// <summary>Re-issues the cookie of a session used by this request, so its inactivity timer starts again.</summary>
    public void Touch()
    {
        if (_session is null || _change != SessionChange.None || !_shared.Settings.Options.Session.Rolling) return;
        // The Auth0 routes decide themselves whether they write (the access-token route only when tokens changed).
        if (_shared.Settings.IsAuth0Route(_context.Request.Path)) return;
        NoCache = true;
        if (RolledRecently())
        {
            EnsureFlush(); // the no-cache headers still go out
            return;
        }
        MarkDirty(SessionChange.Write);
    }

    // A cookie re-issued moments ago would move its expiry by almost nothing, at the price of an encryption and a
    // Set-Cookie on every request: skip it while the expiry would move by less than a tenth of the inactivity
    // period (at most a minute). Cookie sessions only; a store session's id cookie carries no such expiry here.
    private bool RolledRecently()
    {
        if (_store is not null || _cookieExpiresAt is not { } current || _session is null) return false;
        // This process may have re-issued the same cookie moments ago (requests in flight with the old one).
        if (_entry is not null) current = Math.Max(current, _entry.RolledTo);
        var now = _now; // the request's own clock reading, from loading the session
        var next = now + _shared.Cookies.MaxAgeSeconds(_session, now);
        var threshold = Math.Min(60, (long)_shared.Settings.Options.Session.InactivityDuration.TotalSeconds / 10);
        return next - current < threshold;
    }

    public void Delete()
    {
        _loaded = true;
        _session = null;
        _owned = true;
        MarkDirty(SessionChange.Delete);
        _changedData = true;
    }

    private void MarkDirty(SessionChange change)
    {
        _change = change;
        _committed = false;
        EnsureFlush();
    }

    /// <summary>True when the session could not be read because the store failed.</summary>
    public bool StoreFailed => _loadError is not null;

    public void EnsureFlush()
    {
        if (_flushRegistered) return;
        _flushRegistered = true;
        _context.Response.OnStarting(static s => ((Auth0RequestState)s).FlushAsync(), this);
    }

    /// <summary>
    /// Performs pending store writes now, so a handler can report a store failure itself; cookies still go out when
    /// the response starts.
    /// </summary>
    public async Task CommitAsync(CancellationToken ct)
    {
        if (_committed || _change == SessionChange.None) return;
        _committed = true; // at most one attempt per change: a failing store is not retried at flush time
        var requestCookies = _context.Request.Cookies;
        if (_store is null)
        {
            if (_change == SessionChange.Write && _session is not null)
            {
                var expiresAt = _shared.Cookies.Write(Own()!, requestCookies, Cookies);
                if (!_changedData && expiresAt is { } rolledTo) _entry?.Rolled(rolledTo);
            }
            else if (_change == SessionChange.Delete) _shared.Cookies.Delete(requestCookies, Cookies);
        }
        else
        {
            await CommitToStoreAsync(requestCookies, ct).ConfigureAwait(false);
        }
        _committed = true;
    }

    private async Task CommitToStoreAsync(IRequestCookieCollection requestCookies, CancellationToken ct)
    {
        var store = _store!;
        var existingId = _sessionId ?? _shared.Cookies.ReadSessionId(_context.Request, out _);
        if (_change == SessionChange.Delete || _session is null)
        {
            // The cookie goes first: a logout must sign the browser out even when the store is unreachable.
            _shared.Cookies.Delete(requestCookies, Cookies);
            if (existingId is not null) await store.DeleteAsync(existingId, ct).ConfigureAwait(false);
            return;
        }

        var now = _shared.Time.GetUtcNow();
        var maxAge = _shared.Cookies.MaxAgeSeconds(_session, now.ToUnixTimeSeconds());
        var expiresAt = now.AddSeconds(maxAge);
        if (_isNew || existingId is null)
        {
            // A new id at every login: a session id planted before login is worthless afterwards.
            if (existingId is not null) await store.DeleteAsync(existingId, ct).ConfigureAwait(false);
            _sessionId = NewSessionId();
            await store.SetAsync(_sessionId, _session, expiresAt, ct).ConfigureAwait(false);
        }
        else if (!await store.UpdateAsync(existingId, _session, expiresAt, ct).ConfigureAwait(false))
        {
            // Logged out meanwhile (back-channel or another tab): do not bring the session back.
            _session = null;
            _shared.Cookies.Delete(requestCookies, Cookies);
            return;
        }
        _shared.Cookies.WriteSessionId(_sessionId!, maxAge, requestCookies, Cookies);
    }

    // Most responses have nothing to commit (a session only read, or rolled moments ago): no async machinery for those.
    private Task FlushAsync()
    {
        if (_committed || _change == SessionChange.None)
        {
            WriteHeaders();
            return Task.CompletedTask;
        }
        return CommitAndFlushAsync();
    }

    private async Task CommitAndFlushAsync()
    {
        try
        {
            await CommitAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The response is already on its way; the session change is lost, the request is not.
            LogCommitFailed(_context.RequestServices.GetRequiredService<ILogger<Auth0RequestState>>(), ex.GetType().Name);
        }
        WriteHeaders();
    }

    private void WriteHeaders()
    {
        _change = SessionChange.None;
        _jar?.WriteTo(_context.Response);
        if (NoCache) CacheHeaders.Apply(_context.Response);
    }

    private static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Saving the session failed: {Error}")]
    private static partial void LogCommitFailed(ILogger logger, string error);
}

internal static class CacheHeaders
{
    private static readonly Microsoft.Extensions.Primitives.StringValues CacheControl = "private, no-cache, no-store, must-revalidate, max-age=0";
    private static readonly Microsoft.Extensions.Primitives.StringValues Pragma = "no-cache";
    private static readonly Microsoft.Extensions.Primitives.StringValues Expires = "0";

    public static void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        headers.CacheControl = CacheControl;
        headers.Pragma = Pragma;
        headers.Expires = Expires;
    }
}

/// <summary>The session store could not be reached; the request is answered with 503, not 500.</summary>
public sealed class SessionStoreUnavailableException(Exception inner)
    : Auth0Exception("session_store_unavailable", "The session store is unavailable.", inner);
