using Auth0.Minimal.Configuration;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Http;

/// <summary>How an ad-hoc fetcher gets its token and sends its requests.</summary>
public sealed class Auth0FetcherOptions
{
    /// <summary>The only origin the fetcher sends the token to; relative request URIs resolve against it.</summary>
    public required Uri BaseAddress { get; init; }
    /// <summary>Which token to use (audience, scope); ignored when <see cref="AccessTokenFactory"/> is set.</summary>
    public AccessTokenOptions? TokenOptions { get; init; }
    /// <summary>A custom token source; the flag asks for a forced refresh (after the API answered 401).</summary>
    public Func<bool, CancellationToken, Task<AccessTokenResult>>? AccessTokenFactory { get; init; }
    /// <summary>Send DPoP-bound tokens with proofs (default: when DPoP is on). False always sends Bearer.</summary>
    public bool? UseDPoP { get; init; }
    /// <summary>A custom inner handler (logging, metrics, a test double). Redirects should stay off.</summary>
    public HttpMessageHandler? InnerHandler { get; init; }
}

/// <summary>
/// Creates HttpClients that call an API with the current user's token, for APIs not declared with
/// <see cref="Auth0ApiAttribute"/> (the counterpart of nextjs-auth0's <c>createFetcher</c>).
/// </summary>
public sealed class Auth0FetcherFactory
{
    private static readonly HttpMessageHandler SharedHandler = new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };

    private readonly IHttpContextAccessor _accessor;
    private readonly Auth0TokenService _tokens;
    private readonly Auth0Settings _settings;
    private readonly Diagnostics.Auth0Telemetry _telemetry;

    internal Auth0FetcherFactory(IHttpContextAccessor accessor, Auth0TokenService tokens, Auth0Settings settings, Diagnostics.Auth0Telemetry telemetry)
    {
        _accessor = accessor;
        _tokens = tokens;
        _settings = settings;
        _telemetry = telemetry;
    }

    public HttpClient Create(Auth0FetcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.BaseAddress.IsAbsoluteUri) throw new ArgumentException("The base address must be absolute.", nameof(options));
        if (options.UseDPoP == true && _settings.DPoP is null)
            throw new DPoPException(DPoPException.ConfigurationError, "DPoP is enabled for this fetcher but no keypair is configured (AUTH0_USE_DPOP is off).");
        var tokenSource = options.AccessTokenFactory ?? ((force, ct) =>
        {
            var context = _accessor.HttpContext
                ?? throw new InvalidOperationException("The fetcher needs the current HTTP request: call it while handling a request.");
            var basis = options.TokenOptions ?? new AccessTokenOptions();
            return _tokens.GetAccessTokenAsync(context, new AccessTokenOptions
            {
                Audience = basis.Audience,
                Scope = basis.Scope,
                MergeScopes = basis.MergeScopes,
                ForceRefresh = force || basis.ForceRefresh,
            }, ct);
        });
        var dpop = options.UseDPoP == false ? null : _settings.DPoP;
        var handler = new Auth0ApiHttpHandler("fetcher", tokenSource, options.BaseAddress, dpop, _settings.NonceRetryDelay, _telemetry)
        {
            InnerHandler = options.InnerHandler ?? new KeepAliveHandler(SharedHandler),
        };
        return new HttpClient(handler) { BaseAddress = options.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    // Lets every fetcher share one connection pool: disposing a fetcher must not dispose the pool.
    private sealed class KeepAliveHandler(HttpMessageHandler shared) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _invoker = new(shared, disposeHandler: false);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            _invoker.SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _invoker.Dispose();
            base.Dispose(disposing);
        }
    }
}
