using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Diagnostics;
using Auth0.Minimal.Json;

namespace Auth0.Minimal.Protocol;

/// <summary>POSTs to the token endpoint with client_secret_post, as Auth0 expects.</summary>
internal sealed class TokenEndpointClient(Auth0Settings settings, OidcMetadataCache metadata, Auth0HttpClient http, Auth0Telemetry telemetry)
{
    public Task<TokenEndpointResponse> ExchangeCodeAsync(string code, string codeVerifier, CancellationToken ct) =>
        PostAsync(
        [
            new("redirect_uri", settings.CallbackUrl),
            new("code", code),
            new("code_verifier", codeVerifier),
            new("grant_type", "authorization_code"),
        ], ct);

    /// <summary>
    /// One POST without interpreting errors (CIBA polling needs the status and Retry-After); no DPoP. Traced as
    /// <paramref name="operation"/>: <see cref="IdpOperation.Token"/> or <see cref="IdpOperation.BackchannelAuthorize"/>.
    /// </summary>
    public async Task<(int Status, TokenEndpointResponse? Response, System.Net.Http.Headers.HttpResponseHeaders Headers)> PostRawAsync(
        string endpoint, List<KeyValuePair<string, string>> form, string operation, CancellationToken ct)
    {
        form.Add(new("client_id", settings.ClientId));
        form.Add(new("client_secret", settings.ClientSecret));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Options.HttpTimeout);
        var (status, _, response, headers) = await SendOnceAsync(new Uri(endpoint), form, operation, cts.Token, withDPoP: false).ConfigureAwait(false);
        return (status, response, headers);
    }

    public async Task<TokenEndpointResponse> PostAsync(List<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        var doc = await metadata.GetAsync(ct).ConfigureAwait(false);
        form.Add(new("client_id", settings.ClientId));
        form.Add(new("client_secret", settings.ClientSecret));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Options.HttpTimeout);
        var endpoint = new Uri(doc.TokenEndpoint!);
        var (status, body, response, _) = await SendOnceAsync(endpoint, form, IdpOperation.Token, cts.Token).ConfigureAwait(false);
        if (settings.DPoP is not null && IsNonceError(status, response))
        {
            // Exactly one retry, with the nonce the server just handed out.
            telemetry.TokenEndpointNonceRetried();
            await Task.Delay(settings.NonceRetryDelay(), cts.Token).ConfigureAwait(false);
            (status, body, response, _) = await SendOnceAsync(endpoint, form, IdpOperation.Token, cts.Token).ConfigureAwait(false);
        }

        if (status is < 200 or > 299 || response?.Error is not null)
            throw new OAuth2Exception(response?.Error ?? "server_error", response?.ErrorDescription ?? $"The token endpoint answered {status}.", status);
        if (response is null || string.IsNullOrEmpty(response.AccessToken))
            throw new OAuth2Exception("invalid_response", "The token endpoint response has no access_token.", status);
        if (response.TokenType is not { } type || !(type.Equals("bearer", StringComparison.OrdinalIgnoreCase) || type.Equals("dpop", StringComparison.OrdinalIgnoreCase)))
            throw new OAuth2Exception("invalid_response", "The token endpoint response has an unsupported token_type.", status);
        return response;
    }

    /// <summary>RFC 7009 revocation of a refresh token (client_secret_post).</summary>
    public async Task RevokeAsync(string revocationEndpoint, string refreshToken, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Options.HttpTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, revocationEndpoint)
        {
            Content = new FormUrlEncodedContent(
            [
                new("token_type_hint", "refresh_token"),
                new("token", refreshToken),
                new("client_id", settings.ClientId),
                new("client_secret", settings.ClientSecret),
            ]),
        };
        var (status, _, _) = await http.SendAsync(request, IdpOperation.Revoke, cts.Token).ConfigureAwait(false);
        if (status is < 200 or > 299) throw new OAuth2Exception("revocation_failed", $"The revocation endpoint answered {status}.", status);
    }

    private async Task<(int Status, byte[] Body, TokenEndpointResponse? Response, System.Net.Http.Headers.HttpResponseHeaders Headers)> SendOnceAsync(
        Uri endpoint, List<KeyValuePair<string, string>> form, string operation, CancellationToken ct, bool withDPoP = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new FormUrlEncodedContent(form) };
        var dpop = withDPoP ? settings.DPoP : null;
        if (dpop is not null) request.Headers.TryAddWithoutValidation("DPoP", dpop.CreateProof("POST", endpoint, nonce: dpop.NonceFor(endpoint)));
        var (status, body, headers) = await http.SendAsync(request, operation, ct).ConfigureAwait(false);
        if (dpop is not null && headers.TryGetValues("DPoP-Nonce", out var nonces)) dpop.RememberNonce(endpoint, nonces.FirstOrDefault());
        TokenEndpointResponse? response;
        try { response = JsonSerializer.Deserialize(body, Auth0JsonContext.Default.TokenEndpointResponse); }
        catch (JsonException) { response = null; }
        return (status, body, response, headers);
    }

    private static bool IsNonceError(int status, TokenEndpointResponse? response) =>
        status is 400 or 401 && response?.Error == "use_dpop_nonce";
}
