using System.Net;
using Auth0.Minimal.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Xunit;

namespace PackagedApp.Tests;

public sealed class AppTests
{
    [Fact]
    public async Task StartsAndAcceptsATestSession()
    {
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web => web
            .UseSetting("AUTH0_DOMAIN", "tenant.example.com")
            .UseSetting("AUTH0_CLIENT_ID", "client-id")
            .UseSetting("AUTH0_CLIENT_SECRET", "client-secret")
            .UseSetting("AUTH0_SECRET", "packaged-app-secret-0123456789abcdefghij")
            .UseSetting("APP_BASE_URL", "http://localhost"));
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/auth/profile")).StatusCode);

        var session = Auth0TestSessions.CreateSession("auth0|packaged", name: "Packaged");
        client.DefaultRequestHeaders.Add("Cookie", "__session=" + await Auth0TestSessions.GenerateSessionCookieAsync(factory.Services, session));
        var profile = await client.GetAsync("/auth/profile");
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Contains("auth0|packaged", await profile.Content.ReadAsStringAsync());

        // The injected Orders client needs a refresh token this session lacks, so it answers with the SDK's error.
        var orders = await client.GetAsync("/api/orders-token");
        Assert.Equal(HttpStatusCode.Unauthorized, orders.StatusCode);
        Assert.Contains("missing_refresh_token", await orders.Content.ReadAsStringAsync());

        // OpenAPI works from the package alone (its interceptors are switched on by the package's build file).
        var document = await client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("\"/auth/profile\"", document);
        Assert.Contains("Auth0Session", document);
    }
}
