using Auth0.Minimal.Configuration;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal;

/// <summary>Access tokens for the signed-in user (the counterpart of nextjs-auth0's <c>getAccessToken</c>).</summary>
public sealed class Auth0TokenService
{
    private readonly Auth0Settings _settings;
    private readonly TokenEndpointClient _tokens;
    private readonly TimeProvider _time;

    internal Auth0TokenService(Auth0Settings settings, TokenEndpointClient tokens, TimeProvider time)
    {
        _settings = settings;
        _tokens = tokens;
        _time = time;
    }

    /// <summary>The login access token, refreshed when it has expired. The updated session is saved on the response.</summary>
    public async Task<AccessTokenResult> GetAccessTokenAsync(HttpContext context, bool forceRefresh = false, CancellationToken ct = default)
    {
        var state = Auth0RequestState.For(context);
        var session = state.Session
            ?? throw new AccessTokenException(Auth0ErrorCodes.MissingSession, "The user does not have an active session.");
        var tokenSet = session.TokenSet;
        var now = _time.GetUtcNow().ToUnixTimeSeconds();

        var expired = tokenSet.ExpiresAt is not { } exp || exp <= now;
        if (!forceRefresh && !expired && !string.IsNullOrEmpty(tokenSet.AccessToken))
            return new AccessTokenResult(tokenSet.AccessToken, tokenSet.ExpiresAt ?? 0, tokenSet.Scope, tokenSet.TokenType, tokenSet.Audience);

        if (string.IsNullOrEmpty(tokenSet.RefreshToken))
            throw new AccessTokenException(Auth0ErrorCodes.MissingRefreshToken,
                "The access token has expired and a refresh token was not provided. The user needs to re-authenticate.");

        TokenEndpointResponse response;
        try
        {
            var form = new List<KeyValuePair<string, string>>();
            if (!string.IsNullOrEmpty(tokenSet.RequestedScope)) form.Add(new("scope", tokenSet.RequestedScope));
            if (!string.IsNullOrEmpty(tokenSet.Audience)) form.Add(new("audience", tokenSet.Audience));
            form.Add(new("refresh_token", tokenSet.RefreshToken));
            form.Add(new("grant_type", "refresh_token"));
            response = await _tokens.PostAsync(form, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OAuth2Exception or HttpRequestException or OperationCanceledException or Auth0Exception)
        {
            if (ex is OperationCanceledException && ct.IsCancellationRequested) throw;
            throw new AccessTokenException(Auth0ErrorCodes.FailedToRefreshToken, "The access token has expired and there was an error while trying to refresh it.", ex);
        }

        tokenSet.AccessToken = response.AccessToken;
        tokenSet.ExpiresAt = response.ExpiresIn is { } seconds ? now + seconds : null;
        tokenSet.Scope = response.Scope ?? tokenSet.Scope;
        tokenSet.TokenType = response.TokenType?.ToLowerInvariant();
        if (!string.IsNullOrEmpty(response.RefreshToken)) tokenSet.RefreshToken = response.RefreshToken; // rotation: keep the new one
        if (!string.IsNullOrEmpty(response.IdToken)) tokenSet.IdToken = response.IdToken;
        state.Save(session);
        return new AccessTokenResult(tokenSet.AccessToken!, tokenSet.ExpiresAt ?? 0, tokenSet.Scope, tokenSet.TokenType, tokenSet.Audience);
    }
}
