using System.Net;
using System.Net.Http.Headers;
using Auth0.Minimal.DPoP;
using Auth0.Minimal.Diagnostics;

namespace Auth0.Minimal.Http;

/// <summary>Thrown instead of sending an API's access token to an origin other than that API's base address.</summary>
public sealed class Auth0TokenOriginException(string message) : InvalidOperationException(message);

/// <summary>
/// The handler behind each API HttpClient: attaches the API's token (as <c>DPoP</c> with a proof when the token is
/// DPoP-bound, else <c>Bearer</c>), refuses any other origin, retries once after a DPoP nonce challenge and once with
/// a forced refresh after a 401. Never more.
/// </summary>
public sealed class Auth0ApiHttpHandler : DelegatingHandler
{
    private readonly Func<bool, CancellationToken, Task<AccessTokenResult>> _tokens;
    private readonly Uri _baseAddress;
    private readonly string _apiName;
    private readonly DPoPProofFactory? _dpop;
    private readonly Func<TimeSpan> _retryDelay;
    private readonly Auth0Telemetry? _telemetry;

    public Auth0ApiHttpHandler(IAuth0ApiTokenClient tokens, Uri baseAddress)
        : this(tokens.ApiName, (force, ct) => tokens.GetAccessTokenAsync(force, ct), baseAddress, null, static () => TimeSpan.Zero, null)
    {
    }

    internal Auth0ApiHttpHandler(string apiName, Func<bool, CancellationToken, Task<AccessTokenResult>> tokens, Uri baseAddress,
        DPoPProofFactory? dpop, Func<TimeSpan> retryDelay, Auth0Telemetry? telemetry)
    {
        _apiName = apiName;
        _tokens = tokens;
        _baseAddress = baseAddress;
        _dpop = dpop;
        _retryDelay = retryDelay;
        _telemetry = telemetry;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        EnsureOrigin(request);
        var token = await _tokens(false, cancellationToken).ConfigureAwait(false);
        Authorize(request, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        RememberNonce(request, response);
        if (!CanResend(request)) return response;

        // At most one nonce retry and one forced-refresh retry per call, in whichever order the API asks for them.
        bool nonceRetried = false, refreshed = false;
        while (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            if (IsNonceChallenge(response) && UsesDPoP(token))
            {
                if (nonceRetried) return response; // the second nonce failure is the caller's to see
                nonceRetried = true;
                _telemetry?.ApiNonceRetried(_apiName);
                await Task.Delay(_retryDelay(), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                if (refreshed) return response;
                // The API refused the token (revoked, or expired early): refresh once and try again.
                refreshed = true;
                response.Dispose();
                token = await _tokens(true, cancellationToken).ConfigureAwait(false);
            }
            response.Dispose();
            using var retry = Clone(request);
            EnsureOrigin(retry);
            Authorize(retry, token);
            response = await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
            RememberNonce(retry, response);
        }
        return response;
    }

    private bool UsesDPoP(AccessTokenResult token) =>
        _dpop is not null && string.Equals(token.TokenType, "dpop", StringComparison.OrdinalIgnoreCase);

    private void Authorize(HttpRequestMessage request, AccessTokenResult token)
    {
        request.Headers.Remove("DPoP");
        if (UsesDPoP(token))
        {
            var uri = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(_baseAddress, request.RequestUri);
            request.Headers.Authorization = new AuthenticationHeaderValue("DPoP", token.Token);
            request.Headers.TryAddWithoutValidation("DPoP", _dpop!.CreateProof(request.Method.Method, uri, token.Token, _dpop.NonceFor(uri, resourceServer: true)));
        }
        else if (string.Equals(token.TokenType, "dpop", StringComparison.OrdinalIgnoreCase))
        {
            // Sent as Bearer, a DPoP-bound token is refused, and each refusal would burn a refresh.
            throw new DPoPException(DPoPException.ConfigurationError, $"The {_apiName} API token is DPoP-bound, but this client sends no DPoP proofs.");
        }
        else
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        }
    }

    private void RememberNonce(HttpRequestMessage request, HttpResponseMessage response)
    {
        if (_dpop is null || !response.Headers.TryGetValues("DPoP-Nonce", out var values)) return;
        var uri = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(_baseAddress, request.RequestUri);
        _dpop.RememberNonce(uri, values.FirstOrDefault(), resourceServer: true);
    }

    private static bool IsNonceChallenge(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Unauthorized) return false;
        foreach (var challenge in response.Headers.WwwAuthenticate)
            if (string.Equals(challenge.Scheme, "DPoP", StringComparison.OrdinalIgnoreCase)
                && challenge.Parameter?.Contains("use_dpop_nonce", StringComparison.Ordinal) == true)
                return true;
        return false;
    }

    private void EnsureOrigin(HttpRequestMessage request)
    {
        var uri = request.RequestUri ?? throw new Auth0TokenOriginException($"A request to the {_apiName} API needs a URI.");
        if (!uri.IsAbsoluteUri) uri = new Uri(_baseAddress, uri);
        if (!AspNetCore.SafeRedirect.SameOrigin(uri, _baseAddress))
            throw new Auth0TokenOriginException(
                $"Refusing to send the {_apiName} API access token to {uri.GetLeftPart(UriPartial.Authority)}: this client only calls {_baseAddress.GetLeftPart(UriPartial.Authority)}.");
    }

    private static bool CanResend(HttpRequestMessage request) =>
        request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;

    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy, Content = request.Content };
        foreach (var (name, values) in request.Headers)
            if (!string.Equals(name, "DPoP", StringComparison.OrdinalIgnoreCase)) clone.Headers.TryAddWithoutValidation(name, values);
        foreach (var (key, value) in request.Options) ((IDictionary<string, object?>)clone.Options)[key] = value;
        return clone;
    }

}
