using System.Globalization;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Auth0.Minimal.Protocol;

namespace Auth0.Minimal;

/// <summary>What to ask the user to approve on their device (Client-Initiated Backchannel Authentication).</summary>
public sealed class BackchannelAuthenticationRequest
{
    /// <summary>Shown to the user on the authentication device.</summary>
    public required string BindingMessage { get; init; }
    /// <summary>The user's <c>sub</c>.</summary>
    public required string LoginHintSub { get; init; }
    public TimeSpan? RequestedExpiry { get; init; }
    /// <summary>RFC 9396 authorization details, as a JSON array.</summary>
    public JsonElement? AuthorizationDetails { get; init; }
    /// <summary>Extra parameters (audience, scope, ...) over the configured authorization parameters.</summary>
    public IReadOnlyDictionary<string, string>? AuthorizationParameters { get; init; }
}

/// <summary>The tokens of an approved backchannel authentication; nothing is stored in a session.</summary>
public sealed record BackchannelAuthenticationResult(TokenSet TokenSet, IReadOnlyDictionary<string, JsonElement> IdTokenClaims, JsonElement? AuthorizationDetails);

public sealed class BackchannelAuthenticationException(string code, string message, Exception? inner = null) : Auth0Exception(code, message, inner)
{
    public const string NotSupported = "backchannel_authentication_not_supported_error";
    public const string Failed = "backchannel_authentication_error";
    public OAuth2Exception? OAuth2Error => InnerException as OAuth2Exception;
}

/// <summary>CIBA in poll mode (the counterpart of nextjs-auth0's <c>getTokenByBackchannelAuth</c>).</summary>
public sealed class Auth0BackchannelAuthentication
{
    private const string CibaGrant = "urn:openid:params:grant-type:ciba";
    private const long MaxWaitSeconds = 3600;
    private const long MaxLifetimeSeconds = 86400;
    private readonly Auth0Settings _settings;
    private readonly OidcMetadataCache _metadata;
    private readonly TokenEndpointClient _tokens;
    private readonly IdTokenValidator _idTokens;
    private readonly TimeProvider _time;

    internal Auth0BackchannelAuthentication(Auth0Settings settings, OidcMetadataCache metadata, TokenEndpointClient tokens, IdTokenValidator idTokens, TimeProvider time)
    {
        _settings = settings;
        _metadata = metadata;
        _tokens = tokens;
        _idTokens = idTokens;
        _time = time;
    }

    /// <summary>Starts the request and polls until the user approves, denies, or it expires (or <paramref name="cancellationToken"/> fires).</summary>
    /// <exception cref="BackchannelAuthenticationException">With the provider's OAuth error as <see cref="BackchannelAuthenticationException.OAuth2Error"/>.</exception>
    public async Task<BackchannelAuthenticationResult> GetTokenByBackchannelAuthAsync(BackchannelAuthenticationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var doc = await _metadata.GetAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(doc.BackchannelAuthenticationEndpoint))
            throw new BackchannelAuthenticationException(BackchannelAuthenticationException.NotSupported,
                "The authorization server does not support backchannel authentication. Learn how to enable it here: https://auth0.com/docs/get-started/applications/configure-client-initiated-backchannel-authentication");

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in _settings.Options.AuthorizationParameters) parameters[key] = value;
        if (request.AuthorizationParameters is not null)
            foreach (var (key, value) in request.AuthorizationParameters) parameters[key] = value;
        foreach (var owned in (string[])["client_id", "client_secret", "binding_message", "login_hint", "requested_expiry", "authorization_details", "redirect_uri", "response_type", "state", "nonce"])
            parameters.Remove(owned);
        if (!parameters.ContainsKey("scope")) parameters["scope"] = _settings.ScopeFor(parameters.GetValueOrDefault("audience") ?? _settings.Options.Audience);

        var form = parameters.Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value)).ToList();
        form.Add(new("binding_message", request.BindingMessage));
        form.Add(new("login_hint", "{\"format\":\"iss_sub\",\"iss\":" + JsonSerializer.Serialize(_settings.Issuer, Auth0JsonContext.Default.String)
            + ",\"sub\":" + JsonSerializer.Serialize(request.LoginHintSub, Auth0JsonContext.Default.String) + "}"));
        if (request.RequestedExpiry is { } expiry) form.Add(new("requested_expiry", ((long)expiry.TotalSeconds).ToString(CultureInfo.InvariantCulture)));
        if (request.AuthorizationDetails is { } details) form.Add(new("authorization_details", details.GetRawText()));

        BackchannelAuthorizeResponse? started;
        int status;
        try
        {
            var (s, body) = await PostAuthorizeAsync(doc.BackchannelAuthenticationEndpoint, form, cancellationToken).ConfigureAwait(false);
            status = s;
            started = body;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Failed(new OAuth2Exception("request_failed", ex.Message, 0));
        }
        if (status is < 200 or > 299 || started?.Error is not null || string.IsNullOrEmpty(started?.AuthReqId) || started.ExpiresIn is not > 0)
            throw Failed(new OAuth2Exception(started?.Error ?? "invalid_response", started?.ErrorDescription ?? $"The backchannel authentication endpoint answered {status}.", status));

        // A provider's numbers are clamped: an absurd interval or lifetime must not overflow a timer.
        var interval = TimeSpan.FromSeconds(started.Interval is > 0 ? Math.Min(started.Interval.Value, MaxWaitSeconds) : 5);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(Math.Min(started.ExpiresIn.Value, MaxLifetimeSeconds)));
        var wait = interval;
        while (true)
        {
            try { await Task.Delay(wait, _time, deadline.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failed(new OAuth2Exception("expired_token", "The backchannel authentication request expired before it was approved.", 0));
            }

            int pollStatus;
            TokenEndpointResponse? response;
            System.Net.Http.Headers.HttpResponseHeaders headers;
            try
            {
                (pollStatus, response, headers) = await _tokens.PostRawAsync(doc.TokenEndpoint!,
                    [new("grant_type", CibaGrant), new("auth_req_id", started.AuthReqId!)], IdpOperation.Token, deadline.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // The request's lifetime ran out while a poll was on its way: that is expiry, not a network failure.
                if (deadline.IsCancellationRequested)
                    throw Failed(new OAuth2Exception("expired_token", "The backchannel authentication request expired before it was approved.", 0));
                throw Failed(new OAuth2Exception("request_failed", ex.Message, 0));
            }

            wait = interval;
            if (RetryAfter(headers) is { } retryAfter && retryAfter > wait) wait = retryAfter > TimeSpan.FromSeconds(MaxWaitSeconds) ? TimeSpan.FromSeconds(MaxWaitSeconds) : retryAfter;
            if (pollStatus == 503 && headers.RetryAfter is not null) continue;
            if (pollStatus is >= 200 and < 300 && response?.AccessToken is not null) return await CompleteAsync(response, cancellationToken).ConfigureAwait(false);
            switch (response?.Error)
            {
                case "authorization_pending":
                    continue;
                case "slow_down":
                    if (interval < TimeSpan.FromSeconds(MaxWaitSeconds)) interval += TimeSpan.FromSeconds(5);
                    wait = wait > interval ? wait : interval;
                    continue;
                default:
                    throw Failed(new OAuth2Exception(response?.Error ?? "server_error", response?.ErrorDescription ?? $"The token endpoint answered {pollStatus}.", pollStatus));
            }
        }
    }

    private async Task<BackchannelAuthenticationResult> CompleteAsync(TokenEndpointResponse response, CancellationToken ct)
    {
        Dictionary<string, JsonElement> claims = [];
        if (!string.IsNullOrEmpty(response.IdToken))
        {
            try { claims = await _idTokens.ValidateAsync(response.IdToken, expectedNonce: null, maxAge: null, ct).ConfigureAwait(false); }
            catch (IdTokenValidationException ex) { throw Failed(new OAuth2Exception("invalid_id_token", ex.Message, 200)); }
        }
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var tokenSet = new TokenSet
        {
            AccessToken = response.AccessToken,
            IdToken = response.IdToken,
            Scope = response.Scope,
            RefreshToken = response.RefreshToken,
            ExpiresAt = response.ExpiresIn is { } seconds ? now + seconds : null,
        };
        return new BackchannelAuthenticationResult(tokenSet, claims, response.AuthorizationDetails);
    }

    private async Task<(int Status, BackchannelAuthorizeResponse? Body)> PostAuthorizeAsync(string endpoint, List<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        var (status, raw, _) = await _tokens.PostRawAsync(endpoint, form, IdpOperation.BackchannelAuthorize, ct).ConfigureAwait(false);
        // The generic token parser saw the body; read the CIBA fields from the same JSON.
        return (status, raw is null ? null : new BackchannelAuthorizeResponse { Error = raw.Error, ErrorDescription = raw.ErrorDescription, AuthReqId = raw.AuthReqId, ExpiresIn = raw.ExpiresIn, Interval = raw.Interval });
    }

    private TimeSpan? RetryAfter(System.Net.Http.Headers.HttpResponseHeaders headers)
    {
        var retry = headers.RetryAfter;
        if (retry?.Delta is { } delta) return delta;
        if (retry?.Date is { } date) return date - _time.GetUtcNow();
        return null;
    }

    private static BackchannelAuthenticationException Failed(OAuth2Exception cause) =>
        new(BackchannelAuthenticationException.Failed, "There was an error when trying to use Client-Initiated Backchannel Authentication.", cause);
}
