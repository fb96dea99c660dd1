using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Auth0.Minimal.AspNetCore;

/// <summary>The logic of the login, callback, logout, profile and access-token routes.</summary>
internal sealed partial class Auth0Endpoints(
    Auth0Settings settings,
    OidcMetadataCache metadata,
    TokenEndpointClient tokens,
    IdTokenValidator idTokens,
    TransactionStore transactions,
    SessionCookieStore sessions,
    SessionFinalizer finalizer,
    LogoutTokenValidator logoutTokens,
    LogoutRegistry logouts,
    IServiceProvider services,
    Auth0TokenService tokenService,
    TimeProvider time,
    Diagnostics.Auth0Telemetry telemetry,
    ILogger<Auth0Endpoints> logger)
{
    private const int MaxConnectCodeLength = 2048;

    // Parameters the SDK owns; neither configuration nor the login query may set them.
    // Compared without case: ASP.NET query keys are case-insensitive and some providers read parameters that way.
    // response_mode and request objects would move the code where the callback cannot read it.
    private static readonly HashSet<string> ProtectedParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "nonce",
        "response_mode", "request", "request_uri", "returnTo", "challengeMode", "dpop_jkt",
    };

    public async Task LoginAsync(HttpContext context)
    {
        var request = context.Request;
        if (IsPrefetch(request))
        {
            // A speculative fetch must not create a transaction cookie the user never completes.
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            context.Response.Headers.CacheControl = "no-store";
            return;
        }

        var query = request.Query;
        var challengeMode = First(query, "challengeMode");
        if (challengeMode is not null && challengeMode is not ("redirect" or "popup"))
        {
            await PlainResponses.TextAsync(context, 400, $"Invalid challengeMode query param: {PlainResponses.Sanitize(challengeMode, 64)}. Expected 'redirect', 'popup', or omit.");
            return;
        }

        var extra = new List<KeyValuePair<string, string>>();
        foreach (var (key, values) in query)
        {
            if (values.Count == 0 || values[0] is null) continue;
            extra.Add(new(key, values[0]!));
        }
        await BeginLoginAsync(context, First(query, "returnTo"), extra);
    }

    /// <summary>
    /// Starts an interactive login: the configured parameters, then <paramref name="extra"/> (owned ones dropped),
    /// a transaction cookie and a 307 to /authorize. Shared by the login route and <see cref="Auth0Login"/>.
    /// </summary>
    internal async Task BeginLoginAsync(HttpContext context, string? requestedReturnTo, IEnumerable<KeyValuePair<string, string>> extra)
    {
        var parameters = new List<KeyValuePair<string, string>> { new("scope", settings.ScopeFor(settings.Options.Audience)) };
        if (!string.IsNullOrEmpty(settings.Options.Audience)) SetParameter(parameters, "audience", settings.Options.Audience);
        foreach (var (key, value) in settings.Options.AuthorizationParameters)
            if (!ProtectedParameters.Contains(key)) SetParameter(parameters, key, value);
        foreach (var (key, value) in extra)
            if (!ProtectedParameters.Contains(key)) SetParameter(parameters, key, value);

        long? maxAge = null;
        if (GetParameter(parameters, "max_age") is { } maxAgeText)
        {
            if (maxAgeText.Length == 0 || maxAgeText.Length > 10 || !maxAgeText.All(char.IsAsciiDigit))
            {
                await PlainResponses.TextAsync(context, 400, $"Invalid max_age query param: \"{PlainResponses.Sanitize(maxAgeText, 32)}\". Must be a non-negative integer.");
                return;
            }
            maxAge = long.Parse(maxAgeText, System.Globalization.CultureInfo.InvariantCulture);
        }

        OidcMetadata doc;
        try { doc = await metadata.GetAsync(context.RequestAborted); }
        catch (Auth0Exception ex)
        {
            await PlainResponses.TextAsync(context, 502, "An error occurred while trying to initiate the login request.", ex.Code);
            return;
        }

        var state = Base64Url.RandomToken();
        var nonce = Base64Url.RandomToken();
        var verifier = Base64Url.RandomToken();
        var challenge = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

        var returnTo = transactions.ReturnToOrDefault(requestedReturnTo);
        var scope = GetParameter(parameters, "scope");
        var audience = GetParameter(parameters, "audience");

        var txn = new TransactionState
        {
            Nonce = nonce,
            MaxAge = maxAge,
            CodeVerifier = verifier,
            ResponseType = "code",
            State = state,
            ReturnTo = returnTo,
            Scope = TransactionStore.Clamp(scope, TransactionStore.MaxScopeBytes),
            Audience = TransactionStore.Clamp(audience, TransactionStore.MaxAudienceBytes),
        };

        var url = new StringBuilder(doc.AuthorizationEndpoint);
        url.Append(doc.AuthorizationEndpoint!.Contains('?') ? '&' : '?');
        foreach (var (key, value) in parameters) Append(url, key, value);
        Append(url, "client_id", settings.ClientId);
        Append(url, "redirect_uri", settings.CallbackUrl);
        Append(url, "response_type", "code");
        Append(url, "code_challenge", challenge);
        Append(url, "code_challenge_method", "S256");
        Append(url, "state", state);
        Append(url, "nonce", nonce);
        if (settings.DPoP is { } dpop) Append(url, "dpop_jkt", dpop.Key.Thumbprint);
        url.Length--; // trailing '&'

        var requestState = Auth0RequestState.For(context);
        transactions.Save(txn, context.Request.Cookies, requestState.Cookies);
        requestState.EnsureFlush();
        PlainResponses.Redirect(context, url.ToString());
    }

    public async Task CallbackAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var requestState = Auth0RequestState.For(context);

        if (!query.TryGetValue("state", out var stateValues) || string.IsNullOrEmpty(stateValues[0]))
        {
            await CallbackError(context, 400, Auth0ErrorCodes.MissingState, "The state parameter is missing.");
            return;
        }
        if (stateValues.Count > 1)
        {
            await CallbackError(context, 400, Auth0ErrorCodes.InvalidState, "The state parameter is invalid.");
            return;
        }
        var state = stateValues[0]!;
        var txn = state.Length <= 512 ? transactions.Read(context.Request.Cookies, state) : null;
        if (txn is null || !string.Equals(txn.State, state, StringComparison.Ordinal) || txn.CodeVerifier is null)
        {
            await CallbackError(context, 400, Auth0ErrorCodes.InvalidState, "The state parameter is invalid.");
            return;
        }

        // From here the transaction is spent, whatever happens next.
        transactions.Delete(state, requestState.Cookies);
        requestState.EnsureFlush();

        if (txn.ResponseType == Auth0ConnectedAccounts.ConnectResponseType)
        {
            await ConnectCallbackAsync(context, txn);
            return;
        }

        OidcMetadata doc;
        try { doc = await metadata.GetAsync(context.RequestAborted); }
        catch (Auth0Exception)
        {
            await CallbackError(context, 502, Auth0ErrorCodes.DiscoveryError, "Discovery failed for the OpenID Connect configuration.");
            return;
        }

        foreach (var name in (string[])["code", "iss", "error"])
            if (query.TryGetValue(name, out var v) && v.Count > 1)
            {
                await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", $"duplicate '{name}' parameter");
                return;
            }

        var iss = First(query, "iss");
        // RFC 9207: a simple string comparison, no URL normalisation.
        if (iss is not null ? !string.Equals(iss, settings.Issuer, StringComparison.Ordinal) : doc.AuthorizationResponseIssParameterSupported == true)
        {
            LogIssuerMismatch(logger);
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", "the response 'iss' parameter is not the expected issuer");
            return;
        }

        if (First(query, "error") is { } error)
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.",
                error + (First(query, "error_description") is { } d ? ": " + d : ""));
            return;
        }
        if (query.ContainsKey("id_token") || query.ContainsKey("access_token"))
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", "tokens in the authorization response are not accepted");
            return;
        }
        var code = First(query, "code");
        if (string.IsNullOrEmpty(code))
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", "the 'code' parameter is missing");
            return;
        }

        TokenEndpointResponse response;
        try
        {
            response = await tokens.ExchangeCodeAsync(code, txn.CodeVerifier, context.RequestAborted);
        }
        catch (OAuth2Exception ex)
        {
            LogCodeExchangeFailed(logger, PlainResponses.Sanitize(ex.Error, 64));
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationCodeGrantError, "An error occurred while trying to exchange the authorization code.", ex.Error);
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or Auth0Exception && !context.RequestAborted.IsCancellationRequested)
        {
            LogCodeExchangeFailed(logger, ex.GetType().Name);
            await CallbackError(context, 502, Auth0ErrorCodes.AuthorizationCodeGrantRequestError, "The authorization code could not be exchanged: the identity provider did not answer.");
            return;
        }

        if (string.IsNullOrEmpty(response.IdToken))
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationCodeGrantError, "An error occurred while trying to exchange the authorization code.", "the token response has no id_token");
            return;
        }

        Dictionary<string, JsonElement> claims;
        try
        {
            claims = await idTokens.ValidateAsync(response.IdToken, txn.Nonce, txn.MaxAge, context.RequestAborted);
        }
        catch (IdTokenValidationException ex)
        {
            LogIdTokenRejected(logger, PlainResponses.Sanitize(ex.Message, 200));
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationCodeGrantError, "An error occurred while trying to exchange the authorization code.", ex.Message);
            return;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or Auth0Exception && !context.RequestAborted.IsCancellationRequested)
        {
            await CallbackError(context, 502, Auth0ErrorCodes.AuthorizationCodeGrantRequestError, "The identity provider's signing keys could not be fetched.");
            return;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        long? sessionExpiresAt = IdTokenValidator.TryNumber(claims, "session_expiry", out var se) && se > 0 && se < 10_000_000_000 ? se : null;
        if (sessionExpiresAt is { } ceiling && IdTokenValidator.TryNumber(claims, "iat", out var iat) && ceiling <= iat + 30)
        {
            await CallbackError(context, 401, Auth0ErrorCodes.SessionExpired, "The session has expired and the user must re-authenticate.");
            return;
        }

        var session = new Auth0Session
        {
            User = new Auth0User(claims), // every claim, for OnCallback; filtered before saving
            TokenSet = new TokenSet
            {
                AccessToken = response.AccessToken,
                IdToken = response.IdToken,
                Scope = response.Scope,
                RequestedScope = txn.Scope,
                Audience = txn.Audience,
                RefreshToken = response.RefreshToken,
                ExpiresAt = response.ExpiresIn is { } expiresIn ? now + expiresIn : null,
                // Bearer login tokens carry no type, as in nextjs-auth0; a DPoP-bound one must say so to be used right.
                TokenType = string.Equals(response.TokenType, "dpop", StringComparison.OrdinalIgnoreCase) ? "dpop" : null,
            },
            Internal = new SessionInternal
            {
                Sid = claims.TryGetValue("sid", out var sid) && sid.ValueKind == JsonValueKind.String ? sid.GetString() : null,
                CreatedAt = now,
                SessionExpiresAt = sessionExpiresAt,
            },
        };

        IResult? custom = null;
        if (settings.Options.OnCallback is { } onCallback)
            custom = await onCallback(new Auth0CallbackContext { HttpContext = context, ReturnTo = txn.ReturnTo, Session = session });
        session = await finalizer.FinalizeAsync(session, response.IdToken);

        if (!sessions.TryFit(session))
        {
            await CallbackError(context, 400, Auth0ErrorCodes.SessionTooLarge,
                "The session is too large for a cookie. Keep fewer ID-token claims or use a session store.", returnTo: txn.ReturnTo);
            return;
        }
        requestState.SaveNew(session);
        try
        {
            await requestState.CommitAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStoreFailed(logger, ex.GetType().Name);
            requestState.Delete();
            telemetry.LoginHandled("session_store_unavailable");
            await PlainResponses.TextAsync(context, 503, "The session could not be saved. Try again.", "session_store_unavailable");
            return;
        }
        LogLoggedIn(logger);
        telemetry.LoginHandled(Diagnostics.Auth0Telemetry.Success);
        if (custom is not null)
        {
            await custom.ExecuteAsync(context);
            return;
        }
        PlainResponses.Redirect(context, SafeRedirect.ToAbsolute(txn.ReturnTo ?? "/", settings.AppBaseUri));
    }

    // The end of a connect-account flow: the provider sent the user back with a connect_code for the My Account API.
    private async Task ConnectCallbackAsync(HttpContext context, TransactionState txn)
    {
        var query = context.Request.Query;
        foreach (var name in (string[])["connect_code", "error"])
            if (query.TryGetValue(name, out var v) && v.Count > 1)
            {
                await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", $"duplicate '{name}' parameter", txn.ReturnTo, responseType: txn.ResponseType);
                return;
            }
        if (First(query, "error") is { } error)
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.",
                error + (First(query, "error_description") is { } d ? ": " + d : ""), txn.ReturnTo, responseType: txn.ResponseType);
            return;
        }
        var connectCode = First(query, "connect_code");
        if (string.IsNullOrEmpty(connectCode) || connectCode.Length > MaxConnectCodeLength)
        {
            await CallbackError(context, 400, Auth0ErrorCodes.AuthorizationError, "An error occurred during the authorization flow.", "the 'connect_code' parameter is missing", txn.ReturnTo, responseType: txn.ResponseType);
            return;
        }

        ConnectedAccount account;
        try
        {
            account = await services.GetRequiredService<Auth0ConnectedAccounts>().CompleteAsync(context, txn, connectCode, context.RequestAborted);
        }
        catch (ConnectAccountException ex)
        {
            await CallbackError(context, ex.StatusCode, ex.Code, ex.Message, ex.ApiError?.Detail ?? ex.ApiError?.Title, txn.ReturnTo, ex, txn.ResponseType);
            return;
        }
        catch (SessionStoreUnavailableException)
        {
            await PlainResponses.TextAsync(context, 503, "The session store is unavailable. Try again.", "session_store_unavailable");
            return;
        }

        // A refresh made for the My Account token is saved like any other: a rotated refresh token must not be lost.
        var requestState = Auth0RequestState.For(context);
        try
        {
            await requestState.CommitAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStoreFailed(logger, ex.GetType().Name);
        }
        LogAccountConnected(logger);
        if (settings.Options.OnCallback is { } onCallback)
        {
            var custom = await onCallback(new Auth0CallbackContext
            {
                HttpContext = context,
                ReturnTo = txn.ReturnTo,
                Session = requestState.Session,
                ResponseType = txn.ResponseType!,
                ConnectedAccount = account,
            });
            if (custom is not null)
            {
                await custom.ExecuteAsync(context);
                return;
            }
        }
        PlainResponses.Redirect(context, SafeRedirect.ToAbsolute(txn.ReturnTo ?? "/", settings.AppBaseUri));
    }

    public async Task ConnectAccountAsync(HttpContext context)
    {
        var request = context.Request;
        if (IsPrefetch(request))
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            context.Response.Headers.CacheControl = "no-store";
            return;
        }
        var query = request.Query;
        var connection = First(query, "connection");
        if (string.IsNullOrWhiteSpace(connection))
        {
            await PlainResponses.TextAsync(context, 400, "A connection is required.", "missing_connection");
            return;
        }
        if (!Auth0ConnectedAccounts.IsValidConnection(connection) || query["connection"].Count > 1)
        {
            await PlainResponses.TextAsync(context, 400, "The connection parameter is invalid.", ConnectAccountException.InvalidConnection);
            return;
        }

        var scopes = new List<string>();
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, values) in query)
        {
            if (key.Equals("scopes", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var value in values)
                    if (!string.IsNullOrWhiteSpace(value)) scopes.Add(value);
            }
            else if (!key.Equals("connection", StringComparison.OrdinalIgnoreCase) && !key.Equals("returnTo", StringComparison.OrdinalIgnoreCase)
                && values.Count > 0 && values[0] is { } first)
            {
                parameters[key] = first;
            }
        }

        IResult result;
        try
        {
            result = await services.GetRequiredService<Auth0ConnectedAccounts>().ConnectAccountAsync(context, new ConnectAccountOptions
            {
                Connection = connection,
                Scopes = scopes,
                AuthorizationParameters = parameters,
                ReturnTo = First(query, "returnTo"),
            }, context.RequestAborted);
        }
        catch (ConnectAccountException ex) when (ex.Code == ConnectAccountException.MissingSession && PlainResponses.IsPageRequest(request))
        {
            // A link clicked while signed out: log in first, then come back to the same connect request.
            var original = request.PathBase + request.Path + request.QueryString;
            PlainResponses.Redirect(context, settings.RouteUrl(settings.Routes.Login) + "?returnTo=" + Uri.EscapeDataString(original.ToString()), StatusCodes.Status302Found);
            return;
        }
        catch (ConnectAccountException ex)
        {
            LogConnectFailed(logger, ex.Code, ex.ApiError?.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not called");
            await PlainResponses.TextAsync(context, ex.StatusCode, ex.Message, ex.Code, ex.ApiError?.Detail ?? ex.ApiError?.Title);
            return;
        }
        catch (SessionStoreUnavailableException)
        {
            await PlainResponses.TextAsync(context, 503, "The session store is unavailable. Try again.", "session_store_unavailable");
            return;
        }
        await result.ExecuteAsync(context);
    }

    public async Task LogoutAsync(HttpContext context)
    {
        var query = context.Request.Query;
        var requestState = Auth0RequestState.For(context);
        Auth0Session? session;
        try { session = await requestState.GetSessionAsync(context.RequestAborted); }
        catch (Exception ex) when (ex is not OperationCanceledException) { LogStoreFailed(logger, ex.GetType().Name); session = null; }

        var returnTo = First(query, "returnTo") is { } requested
            ? SafeRedirect.ToSameOriginAbsolute(requested, settings.AppBaseUri) ?? settings.Options.AppBaseUrl!.Trim()
            : settings.Options.AppBaseUrl!.Trim();

        requestState.Delete();
        transactions.DeleteAll(context.Request.Cookies, requestState.Cookies);
        requestState.NoCache = true;
        try { await requestState.CommitAsync(context.RequestAborted); }
        catch (Exception ex) when (ex is not OperationCanceledException) { LogStoreFailed(logger, ex.GetType().Name); }

        OidcMetadata doc;
        try { doc = await metadata.GetAsync(context.RequestAborted); }
        catch (Auth0Exception ex)
        {
            telemetry.LogoutHandled(Auth0ErrorCodes.DiscoveryError);
            await PlainResponses.TextAsync(context, 502, "An error occurred while trying to initiate the logout request.", ex.Code);
            return;
        }

        // Revoke the refresh token so it is worthless after logout; a failure is logged and logout goes on.
        if (session?.TokenSet.RefreshToken is { } refreshToken && !string.IsNullOrEmpty(doc.RevocationEndpoint))
        {
            try { await tokens.RevokeAsync(doc.RevocationEndpoint, refreshToken, context.RequestAborted); }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OAuth2Exception && !context.RequestAborted.IsCancellationRequested)
            {
                LogRevocationFailed(logger, ex.GetType().Name);
            }
        }

        var federated = query.TryGetValue("federated", out var fed) && !string.Equals(fed[0], "false", StringComparison.OrdinalIgnoreCase);
        var strategy = settings.Options.LogoutStrategy;
        if (strategy == LogoutStrategy.Auto) strategy = string.IsNullOrEmpty(doc.EndSessionEndpoint) ? LogoutStrategy.V2 : LogoutStrategy.Oidc;

        var url = new StringBuilder();
        if (strategy == LogoutStrategy.Oidc)
        {
            if (string.IsNullOrEmpty(doc.EndSessionEndpoint))
            {
                telemetry.LogoutHandled("end_session_unsupported");
                await PlainResponses.TextAsync(context, 502, "OIDC RP-Initiated Logout is not supported by the authorization server. Enable it or use a different logout strategy.");
                return;
            }
            url.Append(doc.EndSessionEndpoint).Append(doc.EndSessionEndpoint.Contains('?') ? '&' : '?');
            Append(url, "client_id", settings.ClientId);
            Append(url, "post_logout_redirect_uri", returnTo);
            if (First(query, "state") is { } logoutState) Append(url, "state", logoutState);
            if (session?.Internal.Sid is { } sid) Append(url, "logout_hint", sid);
            if (settings.Options.IncludeIdTokenHintInOidcLogoutUrl && session?.TokenSet.IdToken is { } idToken) Append(url, "id_token_hint", idToken);
        }
        else
        {
            url.Append(settings.IssuerUri.GetLeftPart(UriPartial.Authority)).Append("/v2/logout?");
            Append(url, "returnTo", returnTo);
            Append(url, "client_id", settings.ClientId);
        }
        if (federated) url.Append("federated=&");
        url.Length--;
        LogLoggedOut(logger);
        telemetry.LogoutHandled(Diagnostics.Auth0Telemetry.Success);
        PlainResponses.Redirect(context, url.ToString());
    }

    public async Task ProfileAsync(HttpContext context)
    {
        var requestState = Auth0RequestState.For(context);
        Auth0Session? session;
        try { session = await requestState.GetSessionAsync(context.RequestAborted); }
        catch (SessionStoreUnavailableException)
        {
            await PlainResponses.TextAsync(context, 503, "The session store is unavailable. Try again.", "session_store_unavailable");
            return;
        }
        if (session is null)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        requestState.NoCache = true;
        requestState.EnsureFlush();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, session.User, Auth0JsonContext.Default.Auth0User, context.RequestAborted);
    }

    public async Task AccessTokenAsync(HttpContext context)
    {
        // The body is a bearer credential: never cacheable, whatever happens below.
        CacheHeaders.Apply(context.Response);
        var query = context.Request.Query;
        var mergeScopes = First(query, "mergeScopes");
        var options = new AccessTokenOptions
        {
            Audience = First(query, "audience"),
            Scope = First(query, "scope"),
            MergeScopes = !string.Equals(mergeScopes, "false", StringComparison.OrdinalIgnoreCase),
        };
        if (!Scopes.IsValid(options.Scope) || options.Scope?.Length > 2048 || options.Audience?.Length > 2048
            || (mergeScopes is not null && !bool.TryParse(mergeScopes, out _)))
        {
            await PlainResponses.JsonErrorAsync(context, 400, "invalid_request", "The audience, scope or mergeScopes parameter is invalid.");
            return;
        }

        AccessTokenResult token;
        try
        {
            token = await tokenService.GetAccessTokenAsync(context, options, context.RequestAborted);
        }
        catch (AccessTokenException ex)
        {
            if (ex.Code == Auth0ErrorCodes.SessionExpired) Auth0RequestState.For(context).Delete();
            await PlainResponses.JsonErrorAsync(context, 401, ex.Code, ex.Message);
            return;
        }
        catch (SessionStoreUnavailableException ex)
        {
            await PlainResponses.JsonErrorAsync(context, 503, ex.Code, ex.Message);
            return;
        }
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(context.Response.Body, new AccessTokenResponse
        {
            Token = token.Token,
            Scope = token.Scope,
            ExpiresAt = token.ExpiresAt,
            ExpiresIn = Math.Max(0, token.ExpiresAt - now),
            TokenType = token.TokenType,
        }, Auth0JsonContext.Default.AccessTokenResponse, context.RequestAborted);
    }

    public async Task BackchannelLogoutAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentLength > MaxLogoutRequestBytes)
        {
            await PlainResponses.TextAsync(context, 413, "The logout request is too large.");
            return;
        }
        string body;
        try
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var buffer = new char[MaxLogoutRequestBytes + 1];
            var read = await reader.ReadBlockAsync(buffer, context.RequestAborted);
            if (read > MaxLogoutRequestBytes)
            {
                await PlainResponses.TextAsync(context, 413, "The logout request is too large.");
                return;
            }
            body = new string(buffer, 0, read);
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException)
        {
            // A slow or broken client body: Kestrel already chose the status.
            context.Response.StatusCode = ex is BadHttpRequestException bad ? bad.StatusCode : 400;
            return;
        }

        string? token = null;
        try
        {
            foreach (var (key, values) in Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(body.StartsWith('?') ? body : "?" + body))
                if (key == "logout_token" && values.Count > 0) token = values[0];
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException) { token = null; }
        if (string.IsNullOrEmpty(token))
        {
            await PlainResponses.TextAsync(context, 400, "Missing `logout_token` in the request body.", "backchannel_logout_error");
            return;
        }

        LogoutTokenValidator.Result verified;
        try
        {
            verified = await logoutTokens.ValidateAsync(token, context.RequestAborted);
        }
        catch (LogoutTokenException ex)
        {
            LogLogoutTokenRejected(logger, ex.Message);
            await PlainResponses.TextAsync(context, 400, ex.Message, "backchannel_logout_error");
            return;
        }
        catch (Exception ex) when (ex is Auth0Exception or HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            await PlainResponses.TextAsync(context, 502, "The identity provider's signing keys could not be fetched.", "backchannel_logout_error");
            return;
        }

        try
        {
            if (!await logoutTokens.TryClaimAsync(verified, context.RequestAborted))
            {
                await PlainResponses.TextAsync(context, 400, "The logout token was already used.", "backchannel_logout_error");
                return;
            }
            // Remembered in both modes: a store session saved just after this logout (a callback in flight) is refused too.
            await logouts.RecordAsync(verified.Claims, verified.IssuedAt, context.RequestAborted);
            if (services.GetService(typeof(ISessionStore)) is ISessionStore store)
                await store.DeleteByLogoutTokenAsync(verified.Claims, context.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogStoreFailed(logger, ex.GetType().Name);
            await logoutTokens.ReleaseAsync(verified);
            await PlainResponses.TextAsync(context, 503, "The logout could not be recorded. Retry later.", "backchannel_logout_error");
            return;
        }
        LogBackchannelLogout(logger);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        context.Response.Headers.CacheControl = "no-store";
    }

    private const int MaxLogoutRequestBytes = 32 * 1024;

    private async Task CallbackError(HttpContext context, int status, string code, string message, string? detail = null, string? returnTo = null,
        Auth0Exception? error = null, string? responseType = null)
    {
        LogCallbackFailed(logger, code);
        // A connect callback is no login; codes here are the SDK's own, so the tag stays small.
        if (responseType != Auth0ConnectedAccounts.ConnectResponseType) telemetry.LoginHandled(code);
        if (settings.Options.OnCallback is { } hook)
        {
            var result = await hook(new Auth0CallbackContext
            {
                HttpContext = context,
                Error = error ?? new Auth0Exception(code, message),
                ReturnTo = returnTo,
                ResponseType = responseType ?? "code",
            });
            if (result is not null)
            {
                await result.ExecuteAsync(context);
                return;
            }
        }
        await PlainResponses.TextAsync(context, status, message, code, detail);
    }

    private static bool IsPrefetch(HttpRequest request)
    {
        var headers = request.Headers;
        var secPurpose = headers["Sec-Purpose"].ToString();
        if (secPurpose.Contains("prefetch", StringComparison.OrdinalIgnoreCase) && !secPurpose.Contains("prerender", StringComparison.OrdinalIgnoreCase)) return true;
        if (headers["Purpose"].ToString().Equals("prefetch", StringComparison.OrdinalIgnoreCase)) return true;
        return headers["X-Middleware-Prefetch"].ToString() == "1";
    }

    private static string? First(IQueryCollection query, string key) =>
        query.TryGetValue(key, out var values) && values.Count > 0 ? values[0] : null;

    private static void SetParameter(List<KeyValuePair<string, string>> parameters, string key, string value)
    {
        for (var i = 0; i < parameters.Count; i++)
            if (parameters[i].Key == key) { parameters[i] = new(key, value); return; }
        parameters.Add(new(key, value));
    }

    private static string? GetParameter(List<KeyValuePair<string, string>> parameters, string key)
    {
        foreach (var (k, v) in parameters) if (k == key) return v;
        return null;
    }

    private static void Append(StringBuilder url, string key, string value) =>
        url.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value)).Append('&');

    [LoggerMessage(EventId = 1110, Level = LogLevel.Warning, Message = "Refresh token revocation at logout failed: {Error}")]
    private static partial void LogRevocationFailed(ILogger logger, string error);
    [LoggerMessage(EventId = 1107, Level = LogLevel.Error, Message = "The session store failed: {Error}")]
    private static partial void LogStoreFailed(ILogger logger, string error);
    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "Back-channel logout token rejected: {Reason}")]
    private static partial void LogLogoutTokenRejected(ILogger logger, string reason);
    [LoggerMessage(EventId = 1109, Level = LogLevel.Information, Message = "Back-channel logout processed")]
    private static partial void LogBackchannelLogout(ILogger logger);
    [LoggerMessage(EventId = 1111, Level = LogLevel.Information, Message = "Connected account linked")]
    private static partial void LogAccountConnected(ILogger logger);
    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "Connect account request failed: {Code} (My Account API status: {Status})")]
    private static partial void LogConnectFailed(ILogger logger, string code, string status);
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "User logged in")]
    private static partial void LogLoggedIn(ILogger logger);
    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "User logged out")]
    private static partial void LogLoggedOut(ILogger logger);
    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Login callback rejected: {Code}")]
    private static partial void LogCallbackFailed(ILogger logger, string code);
    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Authorization response issuer does not match the configured issuer")]
    private static partial void LogIssuerMismatch(ILogger logger);
    [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Authorization code exchange failed: {Error}")]
    private static partial void LogCodeExchangeFailed(ILogger logger, string error);
    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "ID token rejected: {Reason}")]
    private static partial void LogIdTokenRejected(ILogger logger, string reason);
}
