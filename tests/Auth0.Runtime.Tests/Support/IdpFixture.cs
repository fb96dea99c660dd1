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
