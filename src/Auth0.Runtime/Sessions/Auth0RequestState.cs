using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Per-request session state: the session is read and decrypted at most once, changes are visible to the rest
/// of the request, and cookies are written once when the response starts.
/// </summary>
internal sealed class Auth0RequestState
{
    private readonly HttpContext _context;
    private readonly SessionCookieStore _store;
    private bool _loaded;
    private Auth0Session? _session;
    private bool _invalidCookie;
    private SessionChange _change;
    private bool _flushRegistered;

    private enum SessionChange { None, Write, Delete }

    private Auth0RequestState(HttpContext context, SessionCookieStore store)
    {
        _context = context;
        _store = store;
    }

    public ResponseCookieJar Cookies { get; } = new();

    /// <summary>Set when the response carries session data and must not be cached.</summary>
    public bool NoCache { get; set; }

    public static Auth0RequestState For(HttpContext context)
    {
        var state = context.Features.Get<Auth0RequestState>();
        if (state is null)
        {
            state = new Auth0RequestState(context, context.RequestServices.GetRequiredService<SessionCookieStore>());
            context.Features.Set(state);
        }
        return state;
    }

    public Auth0Session? Session
    {
        get
        {
            if (!_loaded)
            {
                _loaded = true;
                _session = _store.Read(_context.Request, out var hadCookies);
                // A cookie we cannot read (tampered, truncated, wrong key, expired) is cleared, not kept around.
                _invalidCookie = _session is null && hadCookies;
                if (_invalidCookie) MarkDirty(SessionChange.Delete);
            }
            return _session;
        }
    }

    public void Save(Auth0Session session)
    {
        _loaded = true;
        _session = session;
        MarkDirty(SessionChange.Write);
        NoCache = true;
    }

    public void Delete()
    {
        _loaded = true;
        _session = null;
        MarkDirty(SessionChange.Delete);
    }

    private void MarkDirty(SessionChange change)
    {
        _change = change;
        EnsureFlush();
    }

    public void EnsureFlush()
    {
        if (_flushRegistered) return;
        _flushRegistered = true;
        _context.Response.OnStarting(static s => ((Auth0RequestState)s).Flush(), this);
    }

    private Task Flush()
    {
        var requestCookies = _context.Request.Cookies;
        switch (_change)
        {
            case SessionChange.Write when _session is not null:
                _store.Write(_session, requestCookies, Cookies);
                break;
            case SessionChange.Delete:
                _store.Delete(requestCookies, Cookies);
                break;
        }
        _change = SessionChange.None;
        Cookies.WriteTo(_context.Response);
        if (NoCache) CacheHeaders.Apply(_context.Response);
        return Task.CompletedTask;
    }
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
