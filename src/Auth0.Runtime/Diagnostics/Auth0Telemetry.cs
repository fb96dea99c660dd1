using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Auth0.Minimal.Diagnostics;

/// <summary>
/// The runtime's meter and activity source, both named <c>Auth0.Minimal</c>. Tag values are outcome codes, or names
/// chosen by the SDK or the app's own configuration: never a token, code, secret, cookie value or user id.
/// </summary>
internal sealed class Auth0Telemetry
{
    public const string Name = "Auth0.Minimal";

    /// <summary>
    /// Activities around every call to the identity provider. Static because ActivitySource has no factory: listeners
    /// pick it by name, and the server address and port tell the providers of several apps apart.
    /// </summary>
    public static readonly ActivitySource Source = new(Name);

    internal const string Success = "success";
    internal const string Other = "other";
    internal const string RequestFailed = "request_failed";

    private static readonly int[] CookieSizeBuckets = [512, 1024, 2048, 3500, 4096, 7000, 8192, 10500, 14000, 16384, 20000];
    private static readonly int[] CookieChunkBuckets = [1, 2, 3, 4, 5, 6];

    private readonly Counter<long> _logins;
    private readonly Counter<long> _logouts;
    private readonly Counter<long> _refreshes;
    private readonly Counter<long> _refreshFailures;
    private readonly Counter<long> _refreshJoins;
    private readonly Counter<long> _nonceRetries;
    private readonly Histogram<int> _cookieSize;
    private readonly Histogram<int> _cookieChunks;

    public Auth0Telemetry(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(Name);
        _logins = Meter.CreateCounter<long>("auth0.logins", "{login}",
            "Login callbacks handled, by outcome: success or the callback's error code.");
        _logouts = Meter.CreateCounter<long>("auth0.logouts", "{logout}",
            "Logouts handled, by outcome: success or why the redirect to the provider could not be built.");
        _refreshes = Meter.CreateCounter<long>("auth0.token.refreshes", "{refresh}",
            "Refresh-token grants sent to the identity provider, by outcome: success or the OAuth error.");
        _refreshFailures = Meter.CreateCounter<long>("auth0.token.refresh.failures", "{failure}",
            "Access-token requests that failed with failed_to_refresh_token, by the underlying error.");
        _refreshJoins = Meter.CreateCounter<long>("auth0.token.refresh.joins", "{join}",
            "Callers that got another request's refresh result instead of calling the identity provider.");
        _nonceRetries = Meter.CreateCounter<long>("auth0.dpop.nonce_retries", "{retry}",
            "Requests sent again with the server's nonce after a use_dpop_nonce answer.");
        _cookieSize = Meter.CreateHistogram("auth0.session.cookie.size", "By",
            "Size of the session cookie value written, all chunks together.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = CookieSizeBuckets });
        _cookieChunks = Meter.CreateHistogram("auth0.session.cookie.chunks", "{chunk}",
            "Number of cookies a written session cookie was split into (1 when it fits in one).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = CookieChunkBuckets });
    }

    public Meter Meter { get; }

    /// <param name="outcome"><see cref="Success"/> or one of the SDK's own error codes.</param>
    public void LoginHandled(string outcome) => _logins.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <param name="outcome"><see cref="Success"/> or a fixed reason chosen by the SDK.</param>
    public void LogoutHandled(string outcome) => _logouts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void TokenRefreshed(string outcome) => _refreshes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void TokenRefreshFailed(string? error)
    {
        if (_refreshFailures.Enabled) _refreshFailures.Add(1, new KeyValuePair<string, object?>("error", ErrorTag(error)));
    }

    /// <param name="source"><c>in_flight</c> (joined a call still running) or <c>recent</c> (reused a finished one).</param>
    public void RefreshJoined(string source) => _refreshJoins.Add(1, new KeyValuePair<string, object?>("source", source));

    public void TokenEndpointNonceRetried() => _nonceRetries.Add(1, new KeyValuePair<string, object?>("endpoint", "token"));

    /// <param name="apiName">The API's declared name (or the SDK's name for its own API clients), never a URL.</param>
    public void ApiNonceRetried(string apiName) =>
        _nonceRetries.Add(1, new KeyValuePair<string, object?>("endpoint", "api"), new KeyValuePair<string, object?>("api", apiName));

    /// <summary>Tagged with <paramref name="format"/>: <c>jwe</c>, <c>compact</c> or <c>session_id</c> (the id cookie of a session store).</summary>
    public void SessionCookieWritten(int length, int chunks, string format)
    {
        var tag = new KeyValuePair<string, object?>("format", format);
        if (_cookieSize.Enabled) _cookieSize.Record(length, tag);
        if (_cookieChunks.Enabled) _cookieChunks.Record(chunks, tag);
    }

    /// <summary>
    /// The outcome of a failed call as a tag: a known OAuth or SDK error code, <see cref="RequestFailed"/> when the
    /// provider did not answer, else <see cref="Other"/>, so a provider cannot grow the tag's cardinality.
    /// </summary>
    public static string Outcome(Exception exception) => exception switch
    {
        OAuth2Exception oauth => ErrorTag(oauth.Error),
        Auth0Exception auth0 => ErrorTag(auth0.Code),
        HttpRequestException or OperationCanceledException => RequestFailed,
        _ => Other,
    };

    /// <summary>Known error codes pass through; anything else (free text from a provider) becomes <see cref="Other"/>.</summary>
    public static string ErrorTag(string? error) => error switch
    {
        "invalid_request" or "invalid_client" or "invalid_grant" or "unauthorized_client" or "unsupported_grant_type"
            or "invalid_scope" or "invalid_target" or "access_denied" or "server_error" or "temporarily_unavailable"
            or "use_dpop_nonce" or "invalid_dpop_proof" or "mfa_required" or "consent_required" or "login_required"
            or "interaction_required" or "invalid_response" or "invalid_id_token" or "request_failed"
            or Auth0ErrorCodes.DiscoveryError or DPoPException.ConfigurationError => error,
        _ => Other,
    };

    /// <summary>
    /// Starts the client activity of one call to the identity provider, named <paramref name="operation"/> (an
    /// <see cref="Protocol.IdpOperation"/>), or returns null when nobody listens. <paramref name="urlPath"/> replaces a
    /// path that holds an identifier (a route template).
    /// </summary>
    public static Activity? StartIdpCall(string operation, HttpRequestMessage request, string? urlPath = null)
    {
        var activity = Source.StartActivity(operation, ActivityKind.Client);
        if (activity is null || !activity.IsAllDataRequested) return activity;
        activity.SetTag("http.request.method", request.Method.Method);
        if (request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            activity.SetTag("server.address", uri.Host);
            activity.SetTag("server.port", uri.Port);
            // AbsolutePath never includes the query, which may carry a code or a state.
            activity.SetTag("url.path", urlPath ?? uri.AbsolutePath);
        }
        return activity;
    }

    /// <summary>Records the provider's answer; 4xx and 5xx mark the activity as failed, as for any HTTP client span.</summary>
    public static void IdpCallAnswered(Activity? activity, int status)
    {
        if (activity is null) return;
        if (activity.IsAllDataRequested) activity.SetTag("http.response.status_code", status);
        if (status < 400) return;
        if (activity.IsAllDataRequested) activity.SetTag("error.type", status.ToString(CultureInfo.InvariantCulture));
        activity.SetStatus(ActivityStatusCode.Error);
    }

    /// <summary>Records a call that got no usable answer. Only the exception's type: its message may quote a URL.</summary>
    public static void IdpCallFailed(Activity? activity, Exception exception)
    {
        if (activity is null) return;
        var type = exception.GetType();
        if (activity.IsAllDataRequested) activity.SetTag("error.type", type.FullName);
        activity.SetStatus(ActivityStatusCode.Error, type.Name);
    }
}
