using System.Text.Json;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Diagnostics;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tokens;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal;

/// <summary>
/// Access tokens for the signed-in user, for the login audience or any API (the counterpart of nextjs-auth0's
/// <c>getAccessToken</c>). Refreshes when needed, one refresh at a time per refresh token, and saves the updated
/// session once on the response.
/// </summary>
public sealed partial class Auth0TokenService
{
    private readonly Auth0Settings _settings;
    private readonly TokenEndpointClient _tokens;
    private readonly IdTokenValidator _idTokens;
    private readonly RefreshCoordinator _coordinator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SessionFinalizer _finalizer;
    private readonly Auth0Telemetry _telemetry;

    internal Auth0TokenService(Auth0Settings settings, TokenEndpointClient tokens, IdTokenValidator idTokens,
        RefreshCoordinator coordinator, TimeProvider time, ILogger<Auth0TokenService> logger, SessionFinalizer finalizer, Auth0Telemetry telemetry)
    {
        _finalizer = finalizer;
        _telemetry = telemetry;
        _settings = settings;
        _tokens = tokens;
        _idTokens = idTokens;
        _coordinator = coordinator;
        _time = time;
        _logger = logger;
    }

#pragma warning disable RS0026 // the usual optional CancellationToken on each overload
    public Task<AccessTokenResult> GetAccessTokenAsync(HttpContext context, CancellationToken ct = default) =>
        GetAccessTokenAsync(context, null, ct);

    /// <exception cref="AccessTokenException">
    /// <c>missing_session</c>, <c>missing_refresh_token</c>, <c>failed_to_refresh_token</c> or <c>session_expired</c>.
    /// </exception>
    public async Task<AccessTokenResult> GetAccessTokenAsync(HttpContext context, AccessTokenOptions? options, CancellationToken ct = default)
#pragma warning restore RS0026
    {
        ArgumentNullException.ThrowIfNull(context);
        options ??= new AccessTokenOptions();
        var state = Auth0RequestState.For(context);
        var session = await state.GetSessionAsync(ct).ConfigureAwait(false)
            ?? throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "The user does not have an active session.");
        var now = _time.GetUtcNow().ToUnixTimeSeconds();

        if (session.Internal.SessionExpiresAt is { } ceiling && now >= ceiling - 30)
            throw new AccessTokenException(Auth0ErrorCodes.SessionExpired, "The session has expired and the user must re-authenticate.");

        var configAudience = _settings.Options.Audience;
        var audience = string.IsNullOrEmpty(options.Audience) ? null : options.Audience;
        var scope = options.MergeScopes
            ? Scopes.Merge(_settings.ScopeFor(audience ?? configAudience), options.Scope)
            : options.Scope ?? "";

        var tokenSet = session.TokenSet;
        // Asked for nothing in particular: the login's own token, whatever scope the login settled on.
        var isGlobal = (audience is null && string.IsNullOrEmpty(options.Scope)) || IsGlobal(tokenSet, audience, scope);
        var entry = isGlobal ? null : Find(session, audience, scope);
        var accessToken = isGlobal ? tokenSet.AccessToken : entry?.AccessToken;
        var expiresAt = isGlobal ? tokenSet.ExpiresAt : entry?.ExpiresAt;

        var refreshToken = tokenSet.RefreshToken;
        if (string.IsNullOrEmpty(accessToken) && string.IsNullOrEmpty(refreshToken))
            throw new AccessTokenException(Auth0ErrorCodes.MissingRefreshToken,
                "No access token found and a refresh token was not provided. The user needs to re-authenticate.");
        if (string.IsNullOrEmpty(refreshToken))
        {
            if (expiresAt is { } e && e <= now)
                throw new AccessTokenException(Auth0ErrorCodes.MissingRefreshToken,
                    "The access token has expired and a refresh token was not provided. The user needs to re-authenticate.");
            return isGlobal
                ? new AccessTokenResult(accessToken!, expiresAt ?? 0, tokenSet.Scope, tokenSet.TokenType, tokenSet.Audience)
                : new AccessTokenResult(accessToken!, expiresAt ?? 0, entry!.Scope, entry.TokenType, entry.Audience);
        }

        var buffer = (long)_settings.Options.TokenRefreshBuffer.TotalSeconds;
        var needsRefresh = options.ForceRefresh || string.IsNullOrEmpty(accessToken) || expiresAt is null || expiresAt <= now + buffer;
        if (!needsRefresh)
        {
            return isGlobal
                ? new AccessTokenResult(accessToken!, expiresAt ?? 0, tokenSet.Scope, tokenSet.TokenType, tokenSet.Audience)
                : new AccessTokenResult(accessToken!, expiresAt ?? 0, entry!.Scope, entry.TokenType, entry.Audience);
        }

        // A global refresh keeps the session's own scope unless the caller asked for more; an API refresh names its scope.
        var sendScope = isGlobal ? (string.IsNullOrEmpty(options.Scope) ? null : scope) : (string.IsNullOrEmpty(scope) ? null : scope);
        var sendAudience = isGlobal ? (audience is null ? null : audience) : audience;
        var response = await RefreshAsync(refreshToken, sendAudience, sendScope, options.ForceRefresh, ct).ConfigureAwait(false);
        now = _time.GetUtcNow().ToUnixTimeSeconds();

        // The rotated refresh token is saved whatever happens next; the newest known one, should this response be late.
        tokenSet.RefreshToken = _coordinator.Latest(string.IsNullOrEmpty(response.RefreshToken) ? refreshToken : response.RefreshToken);
        state.Save(session);
        if (!string.IsNullOrEmpty(response.IdToken)) await ApplyIdTokenAsync(session, response.IdToken, ct).ConfigureAwait(false);
        var newExpiresAt = response.ExpiresIn is { } seconds ? now + seconds : (long?)null;
        var tokenType = response.TokenType?.ToLowerInvariant();

        if (isGlobal)
        {
            // A narrower one-off scope is handed out but not kept as the session's token: it would make every
            // later default request look unsatisfied and refresh again.
            if (sendScope is not null && !Scopes.Covers(sendScope, tokenSet.RequestedScope ?? _settings.ScopeFor(audience ?? tokenSet.Audience ?? configAudience)))
                return new AccessTokenResult(response.AccessToken!, newExpiresAt ?? 0, response.Scope ?? sendScope, tokenType, tokenSet.Audience ?? audience);
            tokenSet.AccessToken = response.AccessToken;
            tokenSet.ExpiresAt = newExpiresAt;
            tokenSet.Scope = response.Scope ?? tokenSet.Scope;
            if (sendScope is not null) tokenSet.RequestedScope = sendScope;
            tokenSet.Audience ??= audience;
            tokenSet.TokenType = tokenType;
            return new AccessTokenResult(tokenSet.AccessToken!, newExpiresAt ?? 0, tokenSet.Scope, tokenType, tokenSet.Audience);
        }

        var granted = response.Scope ?? scope;
        var list = session.AccessTokens ??= [];
        var existing = Find(session, audience, scope)
            ?? list.FirstOrDefault(t => t.Audience == audience && Scopes.Covers(t.Scope, granted, strict: true));
        if (existing is null)
        {
            existing = new AccessTokenSet { Audience = audience, RequestedScope = scope };
            list.Add(existing);
        }
        else if (!Scopes.Covers(existing.RequestedScope ?? existing.Scope, scope))
        {
            existing.RequestedScope = Scopes.Merge(existing.RequestedScope, scope);
        }
        existing.AccessToken = response.AccessToken;
        existing.ExpiresAt = newExpiresAt;
        existing.Scope = granted;
        existing.TokenType = tokenType;
        return new AccessTokenResult(existing.AccessToken!, newExpiresAt ?? 0, existing.Scope, tokenType, audience);
    }

    internal const string ConnectionGrant = "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token";
    internal const string RefreshTokenType = "urn:ietf:params:oauth:token-type:refresh_token";
    internal const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    /// <summary>
    /// An access token for a federated connection (Google, GitHub, ...) through Auth0's token exchange, cached in the
    /// session per connection and login hint (the counterpart of nextjs-auth0's <c>getAccessTokenForConnection</c>).
    /// </summary>
    /// <exception cref="AccessTokenException"><c>missing_session</c>, <c>missing_refresh_token</c> or <c>failed_to_exchange_refresh_token</c>.</exception>
    public async Task<AccessTokenResult> GetAccessTokenForConnectionAsync(HttpContext context, string connection, string? loginHint = null,
        string? subjectTokenType = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(connection);
        var state = Auth0RequestState.For(context);
        var session = await state.GetSessionAsync(ct).ConfigureAwait(false)
            ?? throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "The user does not have an active session.");
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var cached = session.ConnectionTokenSets?.FirstOrDefault(t => t.Connection == connection && t.LoginHint == loginHint);
        if (cached is { AccessToken: not null, ExpiresAt: { } exp } && exp > now)
            return new AccessTokenResult(cached.AccessToken, exp, cached.Scope, "bearer", null);

        var useAccessToken = subjectTokenType == AccessTokenType;
        if (subjectTokenType is not null && subjectTokenType != AccessTokenType && subjectTokenType != RefreshTokenType)
            throw new ArgumentException("subjectTokenType must be the refresh_token or access_token token type URN.", nameof(subjectTokenType));
        var subject = useAccessToken ? session.TokenSet.AccessToken : session.TokenSet.RefreshToken;
        if (string.IsNullOrEmpty(subject))
            throw new AccessTokenException(Auth0ErrorCodes.MissingRefreshToken,
                "A refresh token was not present, Connection Access Token requires a refresh token. The user needs to re-authenticate.");

        var form = new List<KeyValuePair<string, string>>
        {
            new("connection", connection),
            new("subject_token_type", useAccessToken ? AccessTokenType : RefreshTokenType),
            new("subject_token", subject),
            new("requested_token_type", "http://auth0.com/oauth/token-type/federated-connection-access-token"),
        };
        if (loginHint is not null) form.Add(new("login_hint", loginHint));
        form.Add(new("grant_type", ConnectionGrant));
        TokenEndpointResponse response;
        try
        {
            response = await _tokens.PostAsync(form, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OAuth2Exception or HttpRequestException or TaskCanceledException or Auth0Exception && !ct.IsCancellationRequested)
        {
            // A failed exchange drops the cached entry, so a stale token is never handed out later.
            if (cached is not null)
            {
                session.ConnectionTokenSets!.Remove(cached);
                if (session.ConnectionTokenSets.Count == 0) session.ConnectionTokenSets = null;
                state.Save(session);
            }
            LogRefreshFailed(_logger, ex is OAuth2Exception oauth ? PlainResponses.Sanitize(oauth.Error, 64) : ex.GetType().Name);
            throw new AccessTokenException("failed_to_exchange_refresh_token",
                "There was an error trying to exchange the refresh token for a connection access token.",
                ex as OAuth2Exception ?? new OAuth2Exception("request_failed", ex.Message, 0));
        }

        var entry = cached ?? new ConnectionTokenSet { Connection = connection, LoginHint = loginHint };
        entry.AccessToken = response.AccessToken;
        entry.Scope = response.Scope;
        entry.ExpiresAt = response.ExpiresIn is { } seconds ? now + seconds : null;
        if (cached is null) (session.ConnectionTokenSets ??= []).Add(entry);
        state.Save(session);
        return new AccessTokenResult(entry.AccessToken!, entry.ExpiresAt ?? 0, entry.Scope, response.TokenType?.ToLowerInvariant(), null);
    }

    private bool IsGlobal(TokenSet tokenSet, string? audience, string scope)
    {
        var sessionAudience = tokenSet.Audience ?? _settings.Options.Audience;
        if (audience is not null && audience != sessionAudience) return false;
        if (string.IsNullOrEmpty(scope)) return true;
        var requested = tokenSet.RequestedScope ?? _settings.ScopeFor(audience ?? sessionAudience);
        return Scopes.Covers(requested, scope) || Scopes.Covers(tokenSet.Scope, scope);
    }

    private static AccessTokenSet? Find(Auth0Session session, string? audience, string scope)
    {
        if (audience is null || session.AccessTokens is null) return null;
        AccessTokenSet? best = null;
        foreach (var entry in session.AccessTokens)
        {
            if (entry.Audience != audience || !Scopes.Covers(entry.RequestedScope ?? entry.Scope, scope)) continue;
            if (best is null || Scopes.Count(entry.Scope) < Scopes.Count(best.Scope)) best = entry;
        }
        return best;
    }

    private async Task<TokenEndpointResponse> RefreshAsync(string sessionRefreshToken, string? audience, string? scope, bool force, CancellationToken ct)
    {
        // The coordinator re-reads first: a refresh on another request may already have rotated this refresh token.
        var refreshToken = _coordinator.Latest(sessionRefreshToken);
        try
        {
            return await _coordinator.RefreshAsync(sessionRefreshToken, audience, scope, rt => PostRefreshAsync(rt, audience, scope), force).ConfigureAwait(false);
        }
        catch (OAuth2Exception ex) when (ex.Error == "invalid_grant" && _coordinator.Latest(sessionRefreshToken) is var latest && latest != refreshToken)
        {
            // A concurrent winner rotated the token between our read and our call: use its successor, once.
            LogRetriedAfterRotation(_logger);
            return await RefreshWithErrorsAsync(latest, audience, scope).ConfigureAwait(false);
        }
        catch (OAuth2Exception ex)
        {
            LogRefreshFailed(_logger, PlainResponses.Sanitize(ex.Error, 64));
            throw RefreshFailed(ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Auth0Exception && !ct.IsCancellationRequested)
        {
            LogRefreshFailed(_logger, ex.GetType().Name);
            throw RefreshFailed(new OAuth2Exception("request_failed", ex.Message, 0));
        }
    }

    private async Task<TokenEndpointResponse> RefreshWithErrorsAsync(string refreshToken, string? audience, string? scope)
    {
        try
        {
            return await _coordinator.RefreshAsync(refreshToken, audience, scope, rt => PostRefreshAsync(rt, audience, scope)).ConfigureAwait(false);
        }
        catch (OAuth2Exception ex)
        {
            LogRefreshFailed(_logger, PlainResponses.Sanitize(ex.Error, 64));
            throw RefreshFailed(ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Auth0Exception)
        {
            LogRefreshFailed(_logger, ex.GetType().Name);
            throw RefreshFailed(new OAuth2Exception("request_failed", ex.Message, 0));
        }
    }

    // The provider's reason goes into the message: an unknown audience or scope is not an expired token.
    private AccessTokenException RefreshFailed(OAuth2Exception error) =>
        RefreshFailed("A new access token could not be obtained with the refresh token: " + PlainResponses.Sanitize(error.Error, 64) + ".", error);

    // Every failed_to_refresh_token goes through here, so the failure counter sees each one once.
    private AccessTokenException RefreshFailed(string message, OAuth2Exception error)
    {
        _telemetry.TokenRefreshFailed(error.Error);
        return new AccessTokenException(Auth0ErrorCodes.FailedToRefreshToken, message, error);
    }

    // Not tied to one request's cancellation: other requests may be waiting on this call.
    private async Task<TokenEndpointResponse> PostRefreshAsync(string refreshToken, string? audience, string? scope)
    {
        var form = new List<KeyValuePair<string, string>>();
        if (scope is not null) form.Add(new("scope", scope));
        if (audience is not null) form.Add(new("audience", audience));
        form.Add(new("refresh_token", refreshToken));
        form.Add(new("grant_type", "refresh_token"));
        LogRefreshing(_logger, audience is null ? "(login audience)" : PlainResponses.Sanitize(audience, 200));
        try
        {
            var response = await _tokens.PostAsync(form, CancellationToken.None).ConfigureAwait(false);
            _telemetry.TokenRefreshed(Auth0Telemetry.Success);
            return response;
        }
        catch (Exception ex)
        {
            _telemetry.TokenRefreshed(Auth0Telemetry.Outcome(ex));
            throw;
        }
    }

    private async Task ApplyIdTokenAsync(Auth0Session session, string idToken, CancellationToken ct)
    {
        Dictionary<string, JsonElement> claims;
        try
        {
            claims = await _idTokens.ValidateAsync(idToken, expectedNonce: null, maxAge: null, ct).ConfigureAwait(false);
        }
        catch (IdTokenValidationException ex)
        {
            throw RefreshFailed("The identity provider returned an invalid ID token on refresh.", new OAuth2Exception("invalid_id_token", ex.Message, 200));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or Auth0Exception && !ct.IsCancellationRequested)
        {
            throw RefreshFailed("The identity provider's signing keys could not be fetched to check the refreshed ID token.",
                new OAuth2Exception("request_failed", ex.Message, 0));
        }
        var sub = claims.TryGetValue("sub", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
        if (sub != session.User.Sub)
            throw RefreshFailed("The refreshed ID token is for another user.", new OAuth2Exception("invalid_id_token", "sub changed", 200));
        session.TokenSet.IdToken = idToken;
        session.User = new Auth0User(claims);
        var finalized = await _finalizer.FinalizeAsync(session, idToken).ConfigureAwait(false);
        session.User = finalized.User;
        session.Extra = finalized.Extra;
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Debug, Message = "Refreshing the access token for {Audience}")]
    private static partial void LogRefreshing(ILogger logger, string audience);
    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "Token refresh failed: {Error}")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Refresh token was rotated by a concurrent request; retried with its successor")]
    private static partial void LogRetriedAfterRotation(ILogger logger);
}
