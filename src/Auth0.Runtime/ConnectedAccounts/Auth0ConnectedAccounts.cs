using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Crypto;
using Auth0.Minimal.Json;
using Auth0.Minimal.Protocol;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal;

/// <summary>What to connect: the counterpart of nextjs-auth0's <c>connectAccount</c> options.</summary>
public sealed class ConnectAccountOptions
{
    /// <summary>The connection to link, e.g. <c>google-oauth2</c>.</summary>
    public required string Connection { get; init; }
    /// <summary>Scopes to ask the connection's provider for.</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
    /// <summary>Sent as the My Account API's <c>authorization_params</c> (e.g. <c>prompt</c>, <c>access_type</c>).</summary>
    public IReadOnlyDictionary<string, string>? AuthorizationParameters { get; init; }
    /// <summary>Where to land afterwards; only a same-origin target is kept.</summary>
    public string? ReturnTo { get; init; }
}

/// <summary>An account linked to the user through the My Account API.</summary>
public sealed record ConnectedAccount(
    string Id,
    string Connection,
    string? AccessType,
    IReadOnlyList<string> Scopes,
    DateTimeOffset? CreatedAt,
    DateTimeOffset? ExpiresAt);

/// <summary>One field the My Account API rejected.</summary>
public sealed record MyAccountValidationError(string? Detail, string? Field);

/// <summary>An error answer of the My Account API (<c>application/problem+json</c>).</summary>
public sealed record MyAccountApiError(string? Type, string? Title, string? Detail, int Status, IReadOnlyList<MyAccountValidationError> ValidationErrors);

/// <summary>A connected-accounts call failed; <see cref="Auth0Exception.Code"/> is stable.</summary>
public sealed class ConnectAccountException(string code, string message, int statusCode, MyAccountApiError? apiError = null, Exception? inner = null)
    : Auth0Exception(code, message, inner)
{
    public const string MissingSession = "missing_session";
    public const string InvalidConnection = "invalid_connection";
    public const string FailedToGetToken = "failed_to_get_token";
    public const string FailedToInitiate = "failed_to_initiate";
    public const string FailedToComplete = "failed_to_complete";
    public const string FailedToList = "failed_to_list";
    public const string FailedToDisconnect = "failed_to_disconnect";

    /// <summary>The HTTP status a route answers with for this error.</summary>
    public int StatusCode { get; } = statusCode;
    /// <summary>What the My Account API said, when it answered with an error.</summary>
    public MyAccountApiError? ApiError { get; } = apiError;
}

/// <summary>
/// Connected accounts (Auth0 Token Vault): link a user's account at another provider through the My Account API,
/// list and disconnect them. Calls are made with the user's own token for the <c>&lt;issuer&gt;me/</c> audience.
/// </summary>
public sealed partial class Auth0ConnectedAccounts
{
    internal const string ConnectResponseType = "connect_code";
    private const int MaxPages = 100;
    private const int MaxConnectionLength = 128;
    private const int MaxAuthSessionLength = 1024;

    private readonly Auth0Settings _settings;
    private readonly MyAccountClient _api;
    private readonly Auth0TokenService _tokens;
    private readonly TransactionStore _transactions;
    private readonly ILogger _logger;

    internal Auth0ConnectedAccounts(Auth0Settings settings, MyAccountClient api, Auth0TokenService tokens, TransactionStore transactions,
        ILogger<Auth0ConnectedAccounts> logger)
    {
        _settings = settings;
        _api = api;
        _tokens = tokens;
        _transactions = transactions;
        _logger = logger;
    }

    /// <summary>
    /// Starts linking <see cref="ConnectAccountOptions.Connection"/> to the signed-in user: a transaction cookie and a
    /// 307 to the provider's consent page; the callback route finishes it and calls <see cref="Auth0Options.OnCallback"/>
    /// with the <see cref="Auth0CallbackContext.ConnectedAccount"/>.
    /// </summary>
    /// <exception cref="ConnectAccountException"><c>missing_session</c>, <c>failed_to_get_token</c> or <c>failed_to_initiate</c>.</exception>
    public async Task<IResult> ConnectAccountAsync(HttpContext context, ConnectAccountOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        if (!IsValidConnection(options.Connection))
            throw new ConnectAccountException(ConnectAccountException.InvalidConnection,
                $"The connection must be a name of 1 to {MaxConnectionLength} printable characters.", StatusCodes.Status400BadRequest);
        var session = await RequireSessionAsync(context, cancellationToken).ConfigureAwait(false);

        var state = Base64Url.RandomToken();
        var verifier = Base64Url.RandomToken();
        var body = new ConnectAccountRequest
        {
            Connection = options.Connection,
            RedirectUri = _settings.CallbackUrl,
            State = state,
            CodeChallenge = Base64Url.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            // "a b" and ["a", "b"] mean the same, as scope strings do everywhere else.
            Scopes = options.Scopes?.SelectMany(s => (s ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .Distinct(StringComparer.Ordinal).ToArray() is { Length: > 0 } scopes ? scopes : null,
            AuthorizationParams = AllowedParameters(options.AuthorizationParameters),
        };

        var result = await CallAsync(context, MyAccountClient.CreateScope, ConnectAccountException.FailedToInitiate,
            tokens => _api.ConnectAsync(body, tokens, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new ConnectAccountException(ConnectAccountException.FailedToInitiate,
                $"The request to initiate the connect account flow failed with status {result.Status}.", StatusFor(result.Status), result.Error);

        var response = result.Value;
        var ticket = response?.ConnectParams?.Ticket;
        if (response?.AuthSession is not { Length: > 0 and <= MaxAuthSessionLength } authSession
            || string.IsNullOrEmpty(ticket)
            || !IsAllowedConnectUri(response.ConnectUri, out var connectUri))
            throw new ConnectAccountException(ConnectAccountException.FailedToInitiate,
                "The My Account API answered the connect request without a usable connect_uri, ticket or auth_session.", StatusCodes.Status502BadGateway);

        var returnTo = _transactions.ReturnToOrDefault(options.ReturnTo);

        var requestState = Auth0RequestState.For(context);
        _transactions.Save(new TransactionState
        {
            CodeVerifier = verifier,
            ResponseType = ConnectResponseType,
            State = state,
            ReturnTo = returnTo,
            AuthSession = authSession,
            Subject = session.User.Sub,
        }, context.Request.Cookies, requestState.Cookies);
        requestState.EnsureFlush();
        requestState.NoCache = true;
        LogConnectStarted(_logger);

        var location = connectUri!.AbsoluteUri + (string.IsNullOrEmpty(connectUri.Query) ? "?" : "&") + "ticket=" + Uri.EscapeDataString(ticket);
        return new RedirectResult(location);
    }

    /// <summary>Every account the user has connected, or only those of <paramref name="connection"/>.</summary>
    /// <exception cref="ConnectAccountException"><c>missing_session</c>, <c>failed_to_get_token</c> or <c>failed_to_list</c>.</exception>
    public async Task<IReadOnlyList<ConnectedAccount>> GetConnectedAccountsAsync(HttpContext context, string? connection = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await RequireSessionAsync(context, cancellationToken).ConfigureAwait(false);
        return await ListAsync(context, MyAccountClient.ReadScope, connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Disconnects every account of <paramref name="connection"/> (a user may have several) and drops that connection's cached tokens from the
    /// session. Returns how many accounts were removed.
    /// </summary>
    /// <exception cref="ConnectAccountException"><c>missing_session</c>, <c>failed_to_get_token</c>, <c>failed_to_list</c> or <c>failed_to_disconnect</c>.</exception>
    public async Task<int> DisconnectAccountAsync(HttpContext context, string connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(connection);
        var session = await RequireSessionAsync(context, cancellationToken).ConfigureAwait(false);
        const string scope = MyAccountClient.ReadScope + " " + MyAccountClient.DeleteScope;
        var accounts = await ListAsync(context, scope, connection, cancellationToken).ConfigureAwait(false);
        var removed = 0;
        foreach (var account in accounts)
        {
            var result = await CallAsync(context, scope, ConnectAccountException.FailedToDisconnect,
                tokens => _api.DeleteAsync(account.Id, tokens, cancellationToken), cancellationToken).ConfigureAwait(false);
            // Already gone is what the caller wanted.
            if (!result.Succeeded && result.Status != StatusCodes.Status404NotFound)
                throw new ConnectAccountException(ConnectAccountException.FailedToDisconnect,
                    $"The request to disconnect the connected account failed with status {result.Status}.", StatusFor(result.Status), result.Error);
            if (result.Succeeded) removed++;
        }

        // Tokens of a disconnected connection are useless now; keep the session from handing them out.
        if (session.ConnectionTokenSets?.RemoveAll(t => t.Connection == connection) > 0)
        {
            if (session.ConnectionTokenSets.Count == 0) session.ConnectionTokenSets = null;
            Auth0RequestState.For(context).Save(session);
        }
        return removed;
    }

    /// <summary>Disconnects one account, by the <see cref="ConnectedAccount.Id"/> the list gave. False when it was not there.</summary>
    /// <exception cref="ConnectAccountException"><c>missing_session</c>, <c>failed_to_get_token</c> or <c>failed_to_disconnect</c>.</exception>
    public async Task<bool> DisconnectAccountByIdAsync(HttpContext context, string accountId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentException.ThrowIfNullOrEmpty(accountId);
        await RequireSessionAsync(context, cancellationToken).ConfigureAwait(false);
        var result = await CallAsync(context, MyAccountClient.DeleteScope, ConnectAccountException.FailedToDisconnect,
            tokens => _api.DeleteAsync(accountId, tokens, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (result.Status == StatusCodes.Status404NotFound) return false;
        if (!result.Succeeded)
            throw new ConnectAccountException(ConnectAccountException.FailedToDisconnect,
                $"The request to disconnect the connected account failed with status {result.Status}.", StatusFor(result.Status), result.Error);
        return true;
    }

    internal static bool IsValidConnection(string? connection) =>
        !string.IsNullOrWhiteSpace(connection) && connection.Length <= MaxConnectionLength && !connection.Any(char.IsControl);

    /// <summary>Finishes a connect started by <see cref="ConnectAccountAsync"/>: the callback's <c>connect_code</c> branch.</summary>
    internal async Task<ConnectedAccount> CompleteAsync(HttpContext context, TransactionState transaction, string connectCode, CancellationToken ct)
    {
        var session = await RequireSessionAsync(context, ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(transaction.AuthSession) || string.IsNullOrEmpty(transaction.CodeVerifier))
            throw new ConnectAccountException(ConnectAccountException.FailedToComplete, "The connect transaction is incomplete.", StatusCodes.Status400BadRequest);
        // Another user signed in on this browser meanwhile: never link the first user's account to them.
        if (!string.Equals(transaction.Subject, session.User.Sub, StringComparison.Ordinal))
            throw new ConnectAccountException(ConnectAccountException.FailedToComplete,
                "The connect flow was started by another user of this browser.", StatusCodes.Status403Forbidden);
        var body = new CompleteConnectAccountRequest
        {
            AuthSession = transaction.AuthSession,
            ConnectCode = connectCode,
            RedirectUri = _settings.CallbackUrl,
            CodeVerifier = transaction.CodeVerifier,
        };
        var result = await CallAsync(context, MyAccountClient.CreateScope, ConnectAccountException.FailedToComplete,
            tokens => _api.CompleteAsync(body, tokens, ct), ct).ConfigureAwait(false);
        if (!result.Succeeded)
            throw new ConnectAccountException(ConnectAccountException.FailedToComplete,
                $"The request to complete the connect account flow failed with status {result.Status}.", StatusFor(result.Status), result.Error);
        return ToAccount(result.Value)
            ?? throw new ConnectAccountException(ConnectAccountException.FailedToComplete,
                "The My Account API completed the connect request without an account id and connection.", StatusCodes.Status502BadGateway);
    }

    private async Task<IReadOnlyList<ConnectedAccount>> ListAsync(HttpContext context, string scope, string? connection, CancellationToken ct)
    {
        var accounts = new List<ConnectedAccount>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? next = null;
        for (var page = 0; ; page++)
        {
            if (page == MaxPages)
                throw new ConnectAccountException(ConnectAccountException.FailedToList, "Connected-account pagination did not terminate safely.", StatusCodes.Status502BadGateway);
            var cursor = next;
            var result = await CallAsync(context, scope, ConnectAccountException.FailedToList,
                tokens => _api.ListAsync(cursor, tokens, ct), ct).ConfigureAwait(false);
            if (!result.Succeeded)
                throw new ConnectAccountException(ConnectAccountException.FailedToList,
                    $"The request to list connected accounts failed with status {result.Status}.", StatusFor(result.Status), result.Error);
            foreach (var wire in result.Value?.Accounts ?? [])
                if (ToAccount(wire) is { } account && (connection is null || account.Connection == connection))
                    accounts.Add(account);
            next = result.Value?.Next;
            if (string.IsNullOrEmpty(next)) return accounts;
            if (!seen.Add(next))
                throw new ConnectAccountException(ConnectAccountException.FailedToList, "Connected-account pagination did not terminate safely.", StatusCodes.Status502BadGateway);
        }
    }

    private async Task<Auth0Session> RequireSessionAsync(HttpContext context, CancellationToken ct) =>
        await Auth0RequestState.For(context).GetSessionAsync(ct).ConfigureAwait(false)
        ?? throw new ConnectAccountException(ConnectAccountException.MissingSession, "The user does not have an active session.", StatusCodes.Status401Unauthorized);

    // One call with the user's My Account token; token and transport failures become typed errors.
    private async Task<MyAccountResult<T>> CallAsync<T>(HttpContext context, string scope, string failureCode,
        Func<MyAccountClient.TokenSource, Task<MyAccountResult<T>>> call, CancellationToken ct) where T : class
    {
        MyAccountClient.TokenSource tokens = (force, token) => _tokens.GetAccessTokenAsync(context,
            new AccessTokenOptions { Audience = _api.Audience, Scope = scope, ForceRefresh = force }, token);
        try
        {
            return await call(tokens).ConfigureAwait(false);
        }
        catch (AccessTokenException ex)
        {
            LogTokenFailed(_logger, ex.Code);
            var mfa = ex.OAuth2Error?.Error == "mfa_required";
            throw new ConnectAccountException(ConnectAccountException.FailedToGetToken, "Failed to retrieve a connected account access token.",
                mfa ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized, inner: ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            LogApiUnreachable(_logger, ex.GetType().Name);
            throw new ConnectAccountException(failureCode, "The My Account API could not be reached.", StatusCodes.Status502BadGateway, inner: ex);
        }
        catch (DPoPException ex)
        {
            // The provider issued a DPoP-bound token to an app that sends no proofs: its configuration, not the user's request.
            LogApiUnreachable(_logger, ex.Code);
            throw new ConnectAccountException(failureCode, "The My Account API token is DPoP-bound, but DPoP is off for this app.", StatusCodes.Status502BadGateway, inner: ex);
        }
    }

    // The user's own mistakes pass through (a bad connection, a conflict, too many requests); anything else the API
    // says, its 401/403 included, is the provider's or the tenant's failure: 502, never a bare 500.
    private static int StatusFor(int upstream) =>
        upstream is 400 or 404 or 409 or 422 or 429 ? upstream : StatusCodes.Status502BadGateway;

    // Parameters of the connect request itself; as authorization_params they could only confuse the provider.
    private static readonly HashSet<string> ProtectedParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "state", "nonce",
        "response_mode", "request", "request_uri", "connection", "scopes", "returnTo", "auth_session", "ticket",
    };

    private static Dictionary<string, string> AllowedParameters(IReadOnlyDictionary<string, string>? parameters)
    {
        var allowed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters ?? new Dictionary<string, string>())
            if (!ProtectedParameters.Contains(key) && value is not null) allowed[key] = value;
        return allowed;
    }

    private bool IsAllowedConnectUri(string? value, out Uri? uri)
    {
        uri = null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var parsed) || !string.IsNullOrEmpty(parsed.Fragment) || !string.IsNullOrEmpty(parsed.UserInfo)) return false;
        if (parsed.Scheme != Uri.UriSchemeHttps && !(parsed.Scheme == Uri.UriSchemeHttp && _settings.Options.AllowInsecureRequests)) return false;
        uri = parsed;
        return true;
    }

    private static ConnectedAccount? ToAccount(ConnectedAccountWire? wire)
    {
        if (wire is null || string.IsNullOrEmpty(wire.Id) || string.IsNullOrEmpty(wire.Connection)) return null;
        return new ConnectedAccount(wire.Id, wire.Connection, wire.AccessType,
            wire.Scopes?.Where(s => s is not null).ToArray() ?? [], ParseTime(wire.CreatedAt), ParseTime(wire.ExpiresAt));
    }

    private static DateTimeOffset? ParseTime(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private sealed class RedirectResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            PlainResponses.Redirect(httpContext, location);
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Connect account flow started")]
    private static partial void LogConnectStarted(ILogger logger);
    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "No My Account API token: {Code}")]
    private static partial void LogTokenFailed(ILogger logger, string code);
    [LoggerMessage(EventId = 1503, Level = LogLevel.Warning, Message = "The My Account API could not be reached: {Error}")]
    private static partial void LogApiUnreachable(ILogger logger, string error);
}
