using System.Net.Http.Headers;
using System.Text.Json.Serialization.Metadata;
using System.Text.Json;
using Auth0.Minimal.Diagnostics;

namespace Auth0.Minimal.Protocol;

/// <summary>Every call to the identity provider: one named IHttpClientFactory client, no redirects, 1 MiB body cap.</summary>
internal sealed class Auth0HttpClient(IHttpClientFactory factory, IHttpMessageHandlerFactory handlers, Configuration.Auth0Settings settings)
{
    public const string ClientName = "Auth0.Minimal";
    internal const int MaxResponseBytes = 1024 * 1024;

    public HttpClient Create() => factory.CreateClient(ClientName);

    /// <summary>One call to the provider, traced as an activity named <paramref name="operation"/> (an <see cref="IdpOperation"/>).</summary>
    public async Task<(int Status, byte[] Body, HttpResponseHeaders Headers)> SendAsync(HttpRequestMessage request, string operation, CancellationToken ct)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var activity = Auth0Telemetry.StartIdpCall(operation, request);
        try
        {
            using var response = await Create().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            Auth0Telemetry.IdpCallAnswered(activity, (int)response.StatusCode);
            var body = await ReadCappedAsync(response.Content, ct).ConfigureAwait(false);
            return ((int)response.StatusCode, body, response.Headers);
        }
        catch (Exception ex)
        {
            Auth0Telemetry.IdpCallFailed(activity, ex);
            throw;
        }
    }

    /// <summary>
    /// Sends through <paramref name="handler"/> (token and DPoP handling) in front of the named client's pooled handler,
    /// with the same timeout and body cap as every other call to the provider. Traced like <see cref="SendAsync"/>;
    /// <paramref name="urlPath"/>, when set, is reported instead of a path that holds an identifier.
    /// </summary>
    public async Task<(int Status, byte[] Body, HttpResponseHeaders Headers)> SendThroughAsync(DelegatingHandler handler, HttpRequestMessage request,
        string operation, string? urlPath, CancellationToken ct)
    {
        // The factory's handlers ignore Dispose (their lifetime is pooled), so the wrapper can be disposed freely.
        handler.InnerHandler = handlers.CreateHandler(ClientName);
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(settings.Options.HttpTimeout);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.ParseAdd(UserAgent);
        using var activity = Auth0Telemetry.StartIdpCall(operation, request, urlPath);
        try
        {
            using var response = await invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
            Auth0Telemetry.IdpCallAnswered(activity, (int)response.StatusCode);
            var body = await ReadCappedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            return ((int)response.StatusCode, body, response.Headers);
        }
        catch (Exception ex)
        {
            Auth0Telemetry.IdpCallFailed(activity, ex);
            throw;
        }
    }

    internal static readonly string UserAgent = "Auth0.Minimal/" + typeof(Auth0Options).Assembly.GetName().Version?.ToString(3);

    public async Task<T> GetJsonAsync<T>(string url, JsonTypeInfo<T> type, string operation, CancellationToken ct) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        var (status, body, _) = await SendAsync(request, operation, ct).ConfigureAwait(false);
        if (status is < 200 or > 299) throw new HttpRequestException($"GET {url} answered {status}.");
        return JsonSerializer.Deserialize(body, type) ?? throw new JsonException($"GET {url} returned null.");
    }

    private static async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken ct)
    {
        if (content.Headers.ContentLength > MaxResponseBytes)
            throw new HttpRequestException("The identity provider's response exceeds 1 MiB.");
        await using var stream = await content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var buffer = new MemoryStream(content.Headers.ContentLength is { } length ? (int)length : 1024);
        // A pooled read buffer: these bodies are small, and every call to the provider goes through here.
        var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxResponseBytes)
                    throw new HttpRequestException("The identity provider's response exceeds 1 MiB.");
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
        }
        return buffer.ToArray();
    }
}
