using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Microsoft.Extensions.Logging;

namespace Auth0.Minimal.Protocol;

/// <summary>Discovery document, cached for 10 minutes; concurrent callers share one fetch; failures are not cached.</summary>
internal sealed partial class OidcMetadataCache(Auth0Settings settings, Auth0HttpClient http, TimeProvider time, ILogger<OidcMetadataCache> logger)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(10);
    private readonly Lock _lock = new();
    private Task<OidcMetadata>? _pending;
    private OidcMetadata? _cached;
    private DateTimeOffset _expires;

    public Task<OidcMetadata> GetAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            if (_cached is not null && time.GetUtcNow() < _expires) return Task.FromResult(_cached);
            _pending ??= FetchAsync();
            return _pending.WaitAsync(ct);
        }
    }

    private async Task<OidcMetadata> FetchAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(settings.Options.HttpTimeout);
            var url = settings.Issuer + (settings.Issuer.EndsWith('/') ? "" : "/") + ".well-known/openid-configuration";
            var doc = await http.GetJsonAsync(url, Auth0JsonContext.Default.OidcMetadata, IdpOperation.Discovery, cts.Token).ConfigureAwait(false);
            if (!SameIssuer(doc.Issuer, settings.Issuer))
                throw new InvalidOperationException($"The discovery document names issuer '{doc.Issuer}', expected '{settings.Issuer}'.");
            if (string.IsNullOrEmpty(doc.AuthorizationEndpoint) || string.IsNullOrEmpty(doc.TokenEndpoint) || string.IsNullOrEmpty(doc.JwksUri))
                throw new InvalidOperationException("The discovery document lacks authorization_endpoint, token_endpoint or jwks_uri.");
            lock (_lock)
            {
                _cached = doc;
                _expires = time.GetUtcNow() + Ttl;
                _pending = null;
            }
            return doc;
        }
        catch (Exception ex)
        {
            lock (_lock) _pending = null;
            LogDiscoveryFailed(logger, settings.Issuer, AspNetCore.PlainResponses.Sanitize(ex.Message, 300)); // the document's own text is in it
            throw new Auth0Exception(Auth0ErrorCodes.DiscoveryError, "Discovery failed for the OpenID Connect configuration.", ex);
        }
    }

    internal static bool SameIssuer(string? actual, string expected) =>
        actual is not null && Uri.TryCreate(actual, UriKind.Absolute, out var a) && Uri.TryCreate(expected, UriKind.Absolute, out var e)
        && string.Equals(a.AbsoluteUri, e.AbsoluteUri, StringComparison.Ordinal);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "OpenID discovery for {Issuer} failed: {Reason}")]
    private static partial void LogDiscoveryFailed(ILogger logger, string issuer, string reason);
}
