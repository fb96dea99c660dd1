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
    private readonly SessionCookieStore _cookies;
    private readonly ISessionStore? _store;
    private readonly LogoutRegistry _logouts;
    private readonly Tokens.RefreshCoordinator _coordinator;
    private readonly Auth0Settings _settings;
    private readonly TimeProvider _time;
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

    private Auth0RequestState(HttpContext context, IServiceProvider services)
    {
        _context = context;
        // One lookup for the singletons, made on every request; the store may be scoped, so it comes from the request.
        var shared = services.GetRequiredService<Services>();
        _cookies = shared.Cookies;
        _logouts = shared.Logouts;
        _coordinator = shared.Coordinator;
        _settings = shared.Settings;
        _time = shared.Time;
        _store = services.GetService<ISessionStore>();
    }

    /// <summary>The singletons every request's state needs.</summary>
    internal sealed class Services(SessionCookieStore cookies, LogoutRegistry logouts, Tokens.RefreshCoordinator coordinator, Auth0Settings settings, TimeProvider time)
    {
        public SessionCookieStore Cookies { get; } = cookies;
        public LogoutRegistry Logouts { get; } = logouts;
        public Tokens.RefreshCoordinator Coordinator { get; } = coordinator;
        public Auth0Settings Settings { get; } = settings;
        public TimeProvider Time { get; } = time;
    }

    public ResponseCookieJar Cookies { get; } = new();

    /// <summary>Set when the response carries session data and must not be cached.</summary>
    public bool NoCache { get; set; }

    /// <summary>The authorization middleware's answer for the Auth0 session policy, once settled for this request.</summary>
    internal Task<Microsoft.AspNetCore.Authentication.AuthenticateResult>? AuthenticatedTask { get; set; }

    /// <summary>The identity the Auth0 scheme built for this request's session.</summary>
    internal System.Security.Claims.ClaimsIdentity? Identity { get; set; }

    /// <summary>True when the session is loaded and there is one (no copy made).</summary>
    internal bool HasLoadedSession => _loaded && _session is not null;

    public static Auth0RequestState For(HttpContext context)
    {
        var state = context.Features.Get<Auth0RequestState>();
        if (state is null)
        {
            state = new Auth0RequestState(context, context.RequestServices);
            context.Features.Set(state);
        }
        return state;
    }

    /// <summary>The session once loaded. Loads it synchronously for cookie sessions; a store needs <see cref="GetSessionAsync"/>.</summary>
    public Auth0Session? Session
    {
        get
        {
            if (_loaded) return Own();
            if (_loadError is not null) return null; // the store failed earlier in this request: anonymous, as for authentication
            if (_store is not null || _logouts.IsActive)
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

    /// <summary>The claims of the loaded session's user, for <c>HttpContext.User</c>; built once per cached cookie.</summary>
    internal List<System.Security.Claims.Claim> SessionClaims() =>
        _entry is not null && ReferenceEquals(_session, _entry.Session)
            ? _entry.Claims
            : AspNetCore.Auth0AuthenticationHandler.ClaimsOf(_session!);

    private async ValueTask LoadAsync(CancellationToken ct)
    {
        // One clock read for every check of this request (the clock is a system call on some VMs).
        var now = _now = _time.GetUtcNow().ToUnixTimeSeconds();
        var request = _context.Request;
        Auth0Session? session;
        bool hadCookies;
        VerifiedSessionCache.Entry? entry = null;
        if (_store is null)
        {
            session = _cookies.ReadShared(request, now, out hadCookies, out _cookieExpiresAt, out entry);
        }
        else
        {
            if (_loadError is not null) throw _loadError;
            _sessionId = _cookies.ReadSessionId(request, out hadCookies);
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
            if (session is not null && !_cookies.IsWithinLifetime(session, now)) session = null;
        }
        // The provider's session_expiry ends the session itself, not only its tokens.
        if (session?.Internal.SessionExpiresAt is { } ceiling && now >= ceiling) session = null;
        if (session is not null && await _logouts.IsLoggedOutAsync(session, ct).ConfigureAwait(false)) session = null;

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
        var version = _coordinator.RotationVersion;
        if (entry is not null && entry.HealCheckedAt == version) return false;
        if (_coordinator.NeedsHeal(session, out latest)) return true;
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
        if (_session is null || _change != SessionChange.None || !_settings.Options.Session.Rolling) return;
        // The Auth0 routes decide themselves whether they write (the access-token route only when tokens changed).
        if (_settings.IsAuth0Route(_context.Request.Path)) return;
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
        var next = now + _cookies.MaxAgeSeconds(_session, now);
        var threshold = Math.Min(60, (long)_settings.Options.Session.InactivityDuration.TotalSeconds / 10);
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
                var expiresAt = _cookies.Write(Own()!, requestCookies, Cookies);
                if (!_changedData && expiresAt is { } rolledTo) _entry?.Rolled(rolledTo);
            }
            else if (_change == SessionChange.Delete) _cookies.Delete(requestCookies, Cookies);
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
        var existingId = _sessionId ?? _cookies.ReadSessionId(_context.Request, out _);
        if (_change == SessionChange.Delete || _session is null)
        {
            // The cookie goes first: a logout must sign the browser out even when the store is unreachable.
            _cookies.Delete(requestCookies, Cookies);
            if (existingId is not null) await store.DeleteAsync(existingId, ct).ConfigureAwait(false);
            return;
        }

        var now = _time.GetUtcNow();
        var maxAge = _cookies.MaxAgeSeconds(_session, now.ToUnixTimeSeconds());
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
            _cookies.Delete(requestCookies, Cookies);
            return;
        }
        _cookies.WriteSessionId(_sessionId!, maxAge, requestCookies, Cookies);
    }

    private async Task FlushAsync()
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
        _change = SessionChange.None;
        Cookies.WriteTo(_context.Response);
        if (NoCache) CacheHeaders.Apply(_context.Response);
    }

    private static string NewSessionId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [LoggerMessage(EventId = 1301, Level = LogLevel.Error, Message = "Saving the session failed: {Error}")]
    private static partial void LogCommitFailed(ILogger logger, string error);
}

internal static class CacheHeaders
{
    public static void Apply(HttpResponse response)
    {
        response.Headers.CacheControl = "private, no-cache, no-store, must-revalidate, max-age=0";
        response.Headers.Pragma = "no-cache";
        response.Headers.Expires = "0";
    }
}

/// <summary>The session store could not be reached; the request is answered with 503, not 500.</summary>
public sealed class SessionStoreUnavailableException(Exception inner)
    : Auth0Exception("session_store_unavailable", "The session store is unavailable.", inner);
