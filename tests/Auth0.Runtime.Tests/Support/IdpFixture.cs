using System.Net.Http.Json;
using Auth0.Minimal.Sample;

namespace Auth0.Minimal.Tests.Support;

/// <summary>One real oidc-provider instance for the whole collection, with its fault switches enabled.</summary>
public sealed class IdpFixture : IAsyncLifetime
{
    private LocalIdentityProvider? _idp;

    public string Issuer => _idp!.Issuer;

    public async Task InitializeAsync() => _idp = await LocalIdentityProvider.StartAsync(testControls: true);

    public async Task DisposeAsync()
    {
        if (_idp is not null) await _idp.DisposeAsync();
    }

    public async Task<System.Text.Json.JsonElement> StatsAsync()
    {
        using var http = new HttpClient();
        return await http.GetFromJsonAsync<System.Text.Json.JsonElement>(Issuer + "__test/stats");
    }

    public async Task ResetStatsAsync()
    {
        using var http = new HttpClient();
        (await http.PostAsync(Issuer + "__test/stats/reset", null)).EnsureSuccessStatusCode();
    }

    public async Task RevokeRefreshTokensAsync(string sub)
    {
        using var http = new HttpClient();
        (await http.PostAsJsonAsync(Issuer + "__test/revoke-refresh-tokens", new { sub })).EnsureSuccessStatusCode();
    }

    public async Task SetBackchannelLogoutUriAsync(string? uri)
    {
        using var http = new HttpClient();
        (await http.PostAsJsonAsync(Issuer + "__test/backchannel-logout-uri", new { uri })).EnsureSuccessStatusCode();
    }

    /// <summary>Ends the user's sessions at the provider, which then POSTs logout tokens to the registered app.</summary>
    public async Task<System.Text.Json.JsonElement> LogoutUserAsync(string sub)
    {
        using var http = new HttpClient();
        var response = await http.PostAsJsonAsync(Issuer + "__test/logout-user", new { sub });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
    }

    /// <summary>A logout token with exactly these claims, signed by the provider (or not, or with an unknown key).</summary>
    public async Task<string> SignLogoutTokenAsync(object claims, string alg = "RS256", string? kid = null, object? header = null)
    {
        using var http = new HttpClient();
        var response = await http.PostAsJsonAsync(Issuer + "__test/sign-logout-token", new { claims, alg, kid, header });
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<System.Text.Json.JsonElement> PendingCibaAsync()
    {
        using var http = new HttpClient();
        return await http.GetFromJsonAsync<System.Text.Json.JsonElement>(Issuer + "__test/ciba");
    }

    public async Task DecideCibaAsync(string authReqId, bool approve)
    {
        using var http = new HttpClient();
        (await http.PostAsJsonAsync(Issuer + "__test/ciba/" + (approve ? "approve" : "deny"), new { auth_req_id = authReqId })).EnsureSuccessStatusCode();
    }

    /// <summary>Gives the user connected accounts at the provider's My Account API, without a connect flow.</summary>
    public async Task SeedConnectedAccountsAsync(string sub, params (string Connection, string[] Scopes)[] accounts)
    {
        using var http = new HttpClient();
        (await http.PostAsJsonAsync(Issuer + "__test/connected-accounts",
            new { sub, accounts = accounts.Select(a => new { connection = a.Connection, scopes = a.Scopes }) })).EnsureSuccessStatusCode();
    }

    public async Task ClearConnectedAccountsAsync()
    {
        using var http = new HttpClient();
        (await http.DeleteAsync(Issuer + "__test/connected-accounts")).EnsureSuccessStatusCode();
    }

    public async Task SetFaultsAsync(object faults)
    {
        using var http = new HttpClient();
        var response = await http.PostAsJsonAsync(Issuer + "__test/faults", faults);
        response.EnsureSuccessStatusCode();
    }
}

[CollectionDefinition(Name)]
public sealed class IdpCollection : ICollectionFixture<IdpFixture>
{
    public const string Name = "identity provider";
}
