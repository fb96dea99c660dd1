using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Auth0.Minimal.Tests.Unit;

public class ConfigurationTests
{
    private static Auth0Settings Build(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddAuth0Core(configuration, new Auth0Routes());
        return services.BuildServiceProvider().GetRequiredService<Auth0Settings>();
    }

    private static Dictionary<string, string?> Valid() => new()
    {
        ["AUTH0_DOMAIN"] = "tenant.us.auth0.com",
        ["AUTH0_CLIENT_ID"] = "cid",
        ["AUTH0_CLIENT_SECRET"] = "csecret",
        ["AUTH0_SECRET"] = "0123456789abcdef0123456789abcdef",
        ["APP_BASE_URL"] = "https://app.example.com",
    };

    [Theory]
    [InlineData("/auth/login", true)]
    [InlineData("/AUTH/Access-Token", true)]
    [InlineData("/auth/backchannel-logout", true)]
    [InlineData("/auth/connect", true)]
    [InlineData("/auth/logins", false)]
    [InlineData("/auth/lOgin/", false)]
    [InlineData("/api/data", false)]
    [InlineData("/auth/profilx", false)] // the length of two routes
    [InlineData("/", false)]
    [InlineData("", false)]
    public void Knows_its_own_routes_ignoring_case(string path, bool expected)
    {
        Assert.Equal(expected, Build(Valid()).IsAuth0Route(new Microsoft.AspNetCore.Http.PathString(path)));
        var custom = new ServiceCollection().AddLogging()
            .AddAuth0Core(new ConfigurationBuilder().AddInMemoryCollection(Valid()).Build(),
                new Auth0Routes { Login = "/a-very-long-login-route-that-is-longer-than-sixty-four-characters-in-all" })
            .BuildServiceProvider().GetRequiredService<Auth0Settings>();
        Assert.True(custom.IsAuth0Route(new Microsoft.AspNetCore.Http.PathString("/A-very-long-login-route-that-is-longer-than-sixty-four-characters-in-all")));
        Assert.False(custom.IsAuth0Route(new Microsoft.AspNetCore.Http.PathString("/a-very-long-login-route-that-is-longer-than-sixty-four-characters-in-al!")));
        Assert.False(custom.IsAuth0Route(new Microsoft.AspNetCore.Http.PathString("/a-very-long-login-route-that-is-longer-than-sixty-four-characters-in-all-and-more")));
    }

    [Fact]
    public void Reads_the_nextjs_auth0_environment_variables()
    {
        var values = Valid();
        values["AUTH0_AUDIENCE"] = "https://orders.example.com";
        values["AUTH0_SCOPE"] = "openid profile";
        var settings = Build(values);
        Assert.Equal("https://tenant.us.auth0.com/", settings.Issuer);
        Assert.Equal("https://orders.example.com", settings.Options.Audience);
        Assert.Equal("openid profile", settings.Options.Scope);
        Assert.Equal("https://app.example.com/auth/callback", settings.CallbackUrl);
        Assert.True(settings.SecureCookies); // forced by the https base URL
    }

    [Fact]
    public void Reads_the_Auth0_section_and_lets_environment_variables_win()
    {
        var settings = Build(new()
        {
            ["Auth0:Domain"] = "section.auth0.com",
            ["Auth0:ClientId"] = "section-client",
            ["Auth0:ClientSecret"] = "s",
            ["Auth0:Secret"] = "0123456789abcdef0123456789abcdef",
            ["Auth0:AppBaseUrl"] = "http://localhost:3000",
            ["AUTH0_CLIENT_ID"] = "env-client",
        });
        Assert.Equal("https://section.auth0.com/", settings.Issuer);
        Assert.Equal("env-client", settings.ClientId);
        Assert.False(settings.SecureCookies);
    }

    [Fact]
    public async Task A_bad_configuration_stops_the_host_at_start_through_the_options_pipeline()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        var values = Valid();
        values["AUTH0_SECRET"] = "short";
        values["AUTH0_DOMAIN"] = null;
        builder.Configuration.AddInMemoryCollection(values);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddAuth0Core(builder.Configuration, new Auth0Routes());
        await using var app = builder.Build();

        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => app.StartAsync());
        Assert.Contains(ex.Failures, f => f.StartsWith("AUTH0_SECRET", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("AUTH0_DOMAIN", StringComparison.Ordinal));
    }

    [Fact]
    public void The_options_are_also_served_as_IOptions_and_are_the_ones_the_runtime_uses()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Valid()).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddAuth0Core(configuration, new Auth0Routes(), o => o.Audience = "https://orders.example.com");
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Auth0Options>>().Value;
        Assert.Equal("https://orders.example.com", options.Audience);
        Assert.Same(options, provider.GetRequiredService<Auth0Settings>().Options);
    }

    [Fact]
    public void The_role_claim_is_kept_in_the_session_so_role_policies_can_read_it()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Valid()).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddAuth0Core(configuration, new Auth0Routes(), o => o.RoleClaimType = "https://example.com/roles");
        using var provider = services.BuildServiceProvider();
        Assert.Contains("https://example.com/roles", provider.GetRequiredService<Auth0Settings>().Options.IdTokenClaimsToKeep);
    }

    [Theory]
    [InlineData("AUTH0_COOKIE_PATH", "/; Domain=evil.example; SameSite=None")]
    [InlineData("AUTH0_COOKIE_PATH", "/\r\nX-Injected: 1")]
    [InlineData("AUTH0_COOKIE_PATH", "/caf\u00e9")]
    [InlineData("AUTH0_COOKIE_DOMAIN", "a\u0001b")]
    [InlineData("AUTH0_COOKIE_DOMAIN", "evil.example; Path=/")]
    [InlineData("AUTH0_SECRET", "                                ")]
    [InlineData("AUTH0_CLIENT_ID", "client\r\nid")]
    [InlineData("AUTH0_AUDIENCE", "not a uri")]
    public void Values_that_would_break_headers_or_requests_stop_the_start(string name, string value)
    {
        var values = Valid();
        values[name] = value;
        var ex = Assert.Throws<Auth0ConfigurationException>(() => Build(values));
        Assert.Contains(ex.Problems, p => p.StartsWith(name, StringComparison.Ordinal));
    }

    [Fact]
    public void Names_every_missing_setting_in_one_message()
    {
        var ex = Assert.Throws<Auth0ConfigurationException>(() => Build(new()));
        foreach (var name in (string[])["AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_SECRET", "APP_BASE_URL"])
            Assert.Contains(name, ex.Message);
        Assert.Equal(5, ex.Problems.Count);
    }

    [Fact]
    public void Rejects_a_short_secret()
    {
        var values = Valid();
        values["AUTH0_SECRET"] = "too-short";
        var ex = Assert.Throws<Auth0ConfigurationException>(() => Build(values));
        Assert.Contains("AUTH0_SECRET", Assert.Single(ex.Problems));
    }

    [Theory]
    [InlineData("http://127.0.0.1:4000", false, null)]
    [InlineData("http://127.0.0.1:4000", true, "http://127.0.0.1:4000/")]
    [InlineData("https://tenant.auth0.com/custom/path", false, "https://tenant.auth0.com/custom/path")]
    [InlineData("TENANT.Auth0.com", false, "https://tenant.auth0.com/")]
    [InlineData("localhost", false, null)]
    [InlineData("tenant.auth0.com:8443", false, null)]
    [InlineData("https://tenant.auth0.com/?x=1", false, null)]
    [InlineData("ftp://tenant.auth0.com", false, null)]
    [InlineData("10.0.0.1", false, null)]
    public void Normalises_the_domain(string domain, bool insecure, string? expected)
    {
        var errors = new List<string>();
        var issuer = Auth0Settings.NormalizeIssuer(domain, insecure, errors);
        Assert.Equal(expected, issuer);
        Assert.Equal(expected is null ? 1 : 0, errors.Count);
    }

    [Fact]
    public void SameSite_none_without_secure_is_a_start_up_error()
    {
        var values = Valid();
        values["APP_BASE_URL"] = "http://localhost:3000";
        values["AUTH0_COOKIE_SAME_SITE"] = "none";
        var ex = Assert.Throws<Auth0ConfigurationException>(() => Build(values));
        Assert.Contains("AUTH0_COOKIE_SAME_SITE", Assert.Single(ex.Problems));
    }

    [Fact]
    public void Rejects_bad_values_with_their_names()
    {
        var values = Valid();
        values["APP_BASE_URL"] = "not a url";
        values["AUTH0_SCOPE"] = "profile email";
        values["AUTH0_ALLOW_INSECURE_REQUESTS"] = "yes";
        var ex = Assert.Throws<Auth0ConfigurationException>(() => Build(values));
        Assert.Contains(ex.Problems, p => p.StartsWith("APP_BASE_URL"));
        Assert.Contains(ex.Problems, p => p.StartsWith("AUTH0_SCOPE"));
        Assert.Contains(ex.Problems, p => p.StartsWith("AUTH0_ALLOW_INSECURE_REQUESTS"));
    }
}

public class ScopesTests
{
    [Theory]
    [InlineData("openid profile", null, "openid profile")]
    [InlineData("openid profile", "", "openid profile")]
    [InlineData("openid profile openid", null, "openid profile")]
    [InlineData("openid  profile", null, "openid profile")]
    [InlineData(" a b ", null, "a b")]
    [InlineData("a b", "b c", "a b c")]
    [InlineData("read:orders read:order", null, "read:orders read:order")]
    [InlineData("read:order read:orders", null, "read:order read:orders")]
    [InlineData("x xy x", null, "x xy")]
    [InlineData("openid x xx", null, "openid x xx")]
    [InlineData("a aa", null, "a aa")]
    [InlineData("aa a", null, "aa a")]
    [InlineData("a aaa aa", null, "a aaa aa")]
    [InlineData("a a", null, "a")]
    [InlineData("ab a ab", null, "ab a")]
    public void Merge_dedupes_in_first_seen_order(string first, string? second, string expected) =>
        Assert.Equal(expected, Scopes.Merge(first, second));

    [Fact]
    public void Merging_nothing_into_a_clean_scope_returns_the_same_string()
    {
        var input = string.Join(' ', "openid", "profile", "email"); // a fresh instance, not an interned literal
        Assert.Same(input, Scopes.Merge(input, null));
        Assert.NotSame(input + " openid", Scopes.Merge(input + " openid", null));
    }
}
