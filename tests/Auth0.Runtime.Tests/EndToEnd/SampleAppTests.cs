using System.Net;
using System.Text.Json;
using Auth0.Minimal.Tests.Support;

namespace Auth0.Minimal.Tests.EndToEnd;

/// <summary>
/// The whole sample as its own process, under the JIT and as the published Native AOT binary, against the
/// identity provider it starts by itself: login, the user, an API call with the user's token, logout.
/// </summary>
[Collection(SampleCollection.Name)]
public class SampleAppTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_user_logs_in_calls_the_orders_API_and_logs_out(bool native)
    {
        await using var sample = await SampleProcess.StartAsync(native);
        using var browser = new TestBrowser();
        var home = await (await browser.GetAsync(sample.BaseUrl + "/")).Content.ReadAsStringAsync();
        Assert.Contains("You are signed out.", home);

        var callback = await browser.LoginAsync(sample.BaseUrl);
        Assert.True(callback.StatusCode == HttpStatusCode.TemporaryRedirect, sample.Output);
        Assert.Equal(sample.BaseUrl + "/", callback.Headers.Location!.ToString());
        Assert.Contains("<strong id=\"user-name\">Alice Example</strong>", await (await browser.GetAsync(sample.BaseUrl + "/")).Content.ReadAsStringAsync());

        var me = JsonDocument.Parse(await (await browser.GetAsync(sample.BaseUrl + "/api/me")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("auth0|alice", me.GetProperty("sub").GetString());
        var orders = await browser.GetAsync(sample.BaseUrl + "/api/orders");
        var ordersBody = await orders.Content.ReadAsStringAsync();
        Assert.True(orders.StatusCode == HttpStatusCode.OK, ordersBody + "\n" + sample.Output);
        Assert.Equal("https://orders.example.com", JsonDocument.Parse(ordersBody).RootElement.GetProperty("audience").GetString());
        var token = JsonDocument.Parse(await (await browser.GetAsync(sample.BaseUrl + "/auth/access-token")).Content.ReadAsStringAsync()).RootElement;
        Assert.False(string.IsNullOrEmpty(token.GetProperty("token").GetString()));

        var logout = await browser.GetAsync(sample.BaseUrl + "/auth/logout");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, logout.StatusCode);
        var landed = await browser.FollowAsync(await browser.CompleteIdpLogoutAsync(await browser.FollowAsync(logout)));
        Assert.StartsWith(sample.BaseUrl, landed.RequestMessage!.RequestUri!.ToString());
        Assert.Contains("You are signed out.", await landed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync(sample.BaseUrl + "/api/me")).StatusCode);
        Assert.DoesNotContain("Exception", sample.Output);
    }
}

[CollectionDefinition(Name)]
public sealed class SampleCollection
{
    public const string Name = "sample processes";
}
