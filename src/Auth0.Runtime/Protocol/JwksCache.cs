using System.Text;
using Auth0.Minimal.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Auth0.Minimal.Protocol;

/// <summary>
/// The identity provider's signing keys. Cached; an unknown <c>kid</c> triggers one refetch, at most once per
/// 30 seconds, so a flood of forged tokens cannot turn into a flood of JWKS requests.
/// </summary>
internal sealed partial class JwksCache(Auth0Settings settings, OidcMetadataCache metadata, Auth0HttpClient http, TimeProvider time, ILogger<JwksCache> logger)
{
    internal static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Ttl = TimeSpan.FromHours(1);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyList<SecurityKey>? _keys;
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;

    public async Task<IReadOnlyList<SecurityKey>> GetKeysAsync(CancellationToken ct)
    {
        var keys = _keys;
        if (keys is not null && time.GetUtcNow() - _fetchedAt < Ttl) return keys;
        return await RefreshAsync(force: false, ct).ConfigureAwait(false);
    }

    /// <summary>Refetches after an unknown key id; returns null when a refetch happened too recently.</summary>
    public async Task<IReadOnlyList<SecurityKey>?> RefreshForUnknownKeyAsync(CancellationToken ct)
    {
        if (time.GetUtcNow() - _fetchedAt < RefreshInterval) return null;
        return await RefreshAsync(force: true, ct).ConfigureAwait(false);
    }

    private async Task<IReadOnlyList<SecurityKey>> RefreshAsync(bool force, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var now = time.GetUtcNow();
            if (_keys is not null && (force ? now - _fetchedAt < RefreshInterval : now - _fetchedAt < Ttl)) return _keys;
            var doc = await metadata.GetAsync(ct).ConfigureAwait(false);
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(settings.Options.HttpTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, doc.JwksUri);
            var (status, body, _) = await http.SendAsync(request, IdpOperation.Jwks, cts.Token).ConfigureAwait(false);
            if (status is < 200 or > 299) throw new HttpRequestException($"The JWKS endpoint answered {status}.");
            var set = new JsonWebKeySet(Encoding.UTF8.GetString(body));
            var keys = set.GetSigningKeys().ToArray();
            _keys = keys;
            _fetchedAt = time.GetUtcNow();
            LogJwksFetched(logger, keys.Length);
            return keys;
        }
        finally { _gate.Release(); }
    }

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Fetched {Count} signing keys")]
    private static partial void LogJwksFetched(ILogger logger, int count);
}
