using System.Net;
using System.Net.Http.Headers;

namespace Auth0.Minimal.Http;

/// <summary>Thrown instead of sending an API's access token to an origin other than that API's base address.</summary>
public sealed class Auth0TokenOriginException(string message) : InvalidOperationException(message);

/// <summary>
/// The handler behind each generated API HttpClient: attaches that API's token, refuses any other origin, and
/// retries once with a forced refresh when the API answers 401.
/// </summary>
public sealed class Auth0ApiHttpHandler(IAuth0ApiTokenClient tokens, Uri baseAddress) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        EnsureOrigin(request);
        var token = await tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
        Authorize(request, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !CanResend(request)) return response;

        // The API refused the token (revoked, or expired early): refresh once and try again.
        response.Dispose();
        token = await tokens.GetAccessTokenAsync(forceRefresh: true, cancellationToken).ConfigureAwait(false);
        using var retry = Clone(request);
        EnsureOrigin(retry);
        Authorize(retry, token);
        return await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
    }

    private void EnsureOrigin(HttpRequestMessage request)
    {
        var uri = request.RequestUri ?? throw new Auth0TokenOriginException($"A request to the {tokens.ApiName} API needs a URI.");
        if (!uri.IsAbsoluteUri) uri = new Uri(baseAddress, uri);
        if (!SameOrigin(uri, baseAddress))
            throw new Auth0TokenOriginException(
                $"Refusing to send the {tokens.ApiName} API access token to {uri.GetLeftPart(UriPartial.Authority)}: this client only calls {baseAddress.GetLeftPart(UriPartial.Authority)}.");
    }

    private static void Authorize(HttpRequestMessage request, AccessTokenResult token) =>
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);

    private static bool CanResend(HttpRequestMessage request) =>
        request.Content is null or ByteArrayContent or ReadOnlyMemoryContent;

    private static HttpRequestMessage Clone(HttpRequestMessage request)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy, Content = request.Content };
        foreach (var (name, values) in request.Headers) clone.Headers.TryAddWithoutValidation(name, values);
        foreach (var (key, value) in request.Options) ((IDictionary<string, object?>)clone.Options)[key] = value;
        return clone;
    }

    private static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;
}
