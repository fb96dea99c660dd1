using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;

namespace Auth0.Minimal.Protocol;

/// <summary>POSTs to the token endpoint with client_secret_post, as Auth0 expects.</summary>
internal sealed class TokenEndpointClient(Auth0Settings settings, OidcMetadataCache metadata, Auth0HttpClient http)
{
    public Task<TokenEndpointResponse> ExchangeCodeAsync(string code, string codeVerifier, CancellationToken ct) =>
        PostAsync(
        [
            new("redirect_uri", settings.CallbackUrl),
            new("code", code),
            new("code_verifier", codeVerifier),
            new("grant_type", "authorization_code"),
        ], ct);

    public async Task<TokenEndpointResponse> PostAsync(List<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        var doc = await metadata.GetAsync(ct).ConfigureAwait(false);
        form.Add(new("client_id", settings.ClientId));
        form.Add(new("client_secret", settings.ClientSecret));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.Options.HttpTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Post, doc.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        var (status, body, _) = await http.SendAsync(request, cts.Token).ConfigureAwait(false);

        TokenEndpointResponse? response;
        try { response = JsonSerializer.Deserialize(body, Auth0JsonContext.Default.TokenEndpointResponse); }
        catch (JsonException) { response = null; }

        if (status is < 200 or > 299 || response?.Error is not null)
            throw new OAuth2Exception(response?.Error ?? "server_error", response?.ErrorDescription ?? $"The token endpoint answered {status}.", status);
        if (response is null || string.IsNullOrEmpty(response.AccessToken))
            throw new OAuth2Exception("invalid_response", "The token endpoint response has no access_token.", status);
        if (response.TokenType is not { } type || !(type.Equals("bearer", StringComparison.OrdinalIgnoreCase) || type.Equals("dpop", StringComparison.OrdinalIgnoreCase)))
            throw new OAuth2Exception("invalid_response", "The token endpoint response has an unsupported token_type.", status);
        return response;
    }
}
