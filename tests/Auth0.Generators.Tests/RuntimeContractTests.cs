using Auth0.Generators.Parsing;
using Auth0.Minimal;

namespace Auth0.Generators.Tests;

/// <summary>Guards against the generator and the runtime drifting apart.</summary>
public class RuntimeContractTests
{
    [Fact]
    public void GeneratorDefaults_MatchTheRuntimeDefaults()
    {
        Assert.Equal(Auth0Routes.DefaultLogin, RoutesParser.DefaultLogin);
        Assert.Equal(Auth0Routes.DefaultCallback, RoutesParser.DefaultCallback);
        Assert.Equal(Auth0Routes.DefaultLogout, RoutesParser.DefaultLogout);
        Assert.Equal(Auth0Routes.DefaultProfile, RoutesParser.DefaultProfile);
        Assert.Equal(Auth0Routes.DefaultAccessToken, RoutesParser.DefaultAccessToken);
        Assert.Equal(Auth0Routes.DefaultBackchannelLogout, RoutesParser.DefaultBackchannelLogout);
    }

    [Fact]
    public void ConfigAttribute_HasExactlyThePropertiesTheGeneratorReads()
    {
        Assert.Equal(
            [
                "AccessTokenPath", "BackchannelLogoutPath", "CallbackPath", "EnableAccessTokenEndpoint",
                "EnableBackchannelLogout", "LoginPath", "LogoutPath", "ProfilePath",
            ],
            typeof(Auth0ConfigAttribute).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(ConfigParser.ConfigAttributeMetadataName, typeof(Auth0ConfigAttribute).FullName);
        Assert.Equal(ApiParser.ApiAttributeName, typeof(Auth0ApiAttribute).Name);
        Assert.Equal(ApiParser.ApiAttributeNamespace, typeof(Auth0ApiAttribute).Namespace);
    }
}
