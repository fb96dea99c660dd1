using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Http;
using Auth0.Minimal.Json;

namespace Auth0.Minimal.Protocol;

/// <summary>
/// Auth0's My Account API (<c>/me/v1/connected-accounts/*</c> on the tenant's origin), called with the user's own
/// token for the <c>&lt;issuer&gt;me/</c> audience, as Bearer or DPoP.
/// </summary>
internal sealed class MyAccountClient(Auth0Settings settings, Auth0HttpClient http, Diagnostics.Auth0Telemetry telemetry)
{
    public const string CreateScope = "create:me:connected_accounts";
    public const string ReadScope = "read:me:connected_accounts";
    public const string DeleteScope = "delete:me:connected_accounts";
    private const string BasePath = "/me/v1/connected-accounts/";

    public string Audience => field ??= settings.Issuer.EndsWith('/') ? settings.Issuer + "me/" : settings.Issuer + "/me/";

    // The API lives at the root of the tenant's origin whatever path the issuer has.
    private Uri Origin => field ??= new Uri(settings.IssuerUri.GetLeftPart(UriPartial.Authority) + "/");

    public Task<MyAccountResult<ConnectAccountResponse>> ConnectAsync(ConnectAccountRequest body, TokenSource tokens, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "connect", null, Json(body, Auth0JsonContext.Default.ConnectAccountRequest), tokens, Auth0JsonContext.Default.ConnectAccountResponse, ct);

    public Task<MyAccountResult<ConnectedAccountWire>> CompleteAsync(CompleteConnectAccountRequest body, TokenSource tokens, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, "complete", null, Json(body, Auth0JsonContext.Default.CompleteConnectAccountRequest), tokens, Auth0JsonContext.Default.ConnectedAccountWire, ct);

    public Task<MyAccountResult<ConnectedAccountsPage>> ListAsync(string? next, TokenSource tokens, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, next is null ? "accounts" : "accounts?next=" + Uri.EscapeDataString(next), null, null, tokens, Auth0JsonContext.Default.ConnectedAccountsPage, ct);

    public Task<MyAccountResult<ConnectedAccountWire>> DeleteAsync(string id, TokenSource tokens, CancellationToken ct) =>
        SendAsync<ConnectedAccountWire>(HttpMethod.Delete, "accounts/" + Uri.EscapeDataString(id), AccountPathTemplate, null, tokens, null, ct);

    /// <summary>Gets the token; <c>true</c> asks for a forced refresh after the API refused the first one.</summary>
    public delegate Task<AccessTokenResult> TokenSource(bool forceRefresh, CancellationToken ct);

    private static ByteArrayContent Json<T>(T body, JsonTypeInfo<T> type)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, type));
        content.Headers.ContentType = new("application/json");
        return content;
    }

    // Telemetry reports this instead of the path of one account, which holds the account's id.
    private const string AccountPathTemplate = BasePath + "accounts/{id}";

    // pathTemplate: what telemetry reports when the relative path holds an identifier.
    private async Task<MyAccountResult<T>> SendAsync<T>(HttpMethod method, string relative, string? pathTemplate, HttpContent? content, TokenSource tokens,
        JsonTypeInfo<T>? type, CancellationToken ct) where T : class
    {
        var uri = new Uri(Origin, BasePath + relative);
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        var handler = new Auth0ApiHttpHandler("My Account", (force, token) => tokens(force, token), Origin, settings.DPoP, settings.NonceRetryDelay, telemetry);
        var (status, body, _) = await http.SendThroughAsync(handler, request, IdpOperation.MyAccount, pathTemplate, ct).ConfigureAwait(false);
        if (status is < 200 or > 299) return new(status, null, ReadProblem(body, status));
        if (type is null || body.Length == 0) return new(status, null, null);
        try
        {
            return new(status, JsonSerializer.Deserialize(body, type), null);
        }
        catch (JsonException)
        {
            return new(status, null, null);
        }
    }

    private static MyAccountApiError ReadProblem(byte[] body, int status)
    {
        MyAccountProblem? problem = null;
        try { if (body.Length > 0) problem = JsonSerializer.Deserialize(body, Auth0JsonContext.Default.MyAccountProblem); }
        catch (JsonException) { }
        return new MyAccountApiError(
            problem?.Type,
            problem?.Title,
            problem?.Detail,
            status,
            problem?.ValidationErrors?.Where(e => e is not null).Select(e => new MyAccountValidationError(e.Detail, e.Field)).ToArray() ?? []);
    }
}

internal readonly record struct MyAccountResult<T>(int Status, T? Value, MyAccountApiError? Error) where T : class
{
    public bool Succeeded => Error is null;
}
