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
        Assert.Equal(Auth0Routes.DefaultConnectAccount, RoutesParser.DefaultConnectAccount);
    }

    [Fact]
    public void ConfigAttribute_HasExactlyThePropertiesTheGeneratorReads()
    {
        Assert.Equal(
            [
                "AccessTokenPath", "BackchannelLogoutPath", "CallbackPath", "ConnectAccountPath", "EnableAccessTokenEndpoint",
                "EnableBackchannelLogout", "EnableConnectAccountEndpoint", "LoginPath", "LogoutPath", "ProfilePath", ConfigParser.UseDPoPProperty,
            ],
            typeof(Auth0ConfigAttribute).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(ConfigParser.ConfigAttributeMetadataName, typeof(Auth0ConfigAttribute).FullName);
        Assert.Equal(ApiParser.ApiAttributeName, typeof(Auth0ApiAttribute).Name);
        Assert.Equal(ApiParser.ApiAttributeNamespace, typeof(Auth0ApiAttribute).Namespace);
        Assert.Equal(ClaimParser.ClaimAttributeName, typeof(Auth0ClaimAttribute).Name);
        Assert.Equal(ClaimParser.ClaimAttributeNamespace, typeof(Auth0ClaimAttribute).Namespace);
    }

    [Fact]
    public void ClaimAttribute_HasExactlyTheArgumentsTheGeneratorReads()
    {
        Assert.Equal(
            [ClaimParser.NameProperty],
            typeof(Auth0ClaimAttribute).GetProperties().Where(p => p.CanWrite).Select(p => p.Name));
        var constructor = Assert.Single(typeof(Auth0ClaimAttribute).GetConstructors());
        Assert.Equal([ClaimParser.ClaimParameter, ClaimParser.TypeParameter], constructor.GetParameters().Select(p => p.Name));
        Assert.Equal([typeof(string), typeof(Type)], constructor.GetParameters().Select(p => p.ParameterType));
        var usage = typeof(Auth0ClaimAttribute).GetCustomAttributes(typeof(AttributeUsageAttribute), false).Cast<AttributeUsageAttribute>().Single();
        Assert.True(usage.AllowMultiple);
        Assert.Equal(AttributeTargets.Class, usage.ValidOn);
    }

    [Fact]
    public void GeneratedClaimsCode_MatchesTheRuntimeContract()
    {
        // The accessors read Auth0User.Claims; AddAuth0Generated adds to Auth0Options.IdTokenClaimsToKeep.
        Assert.Equal(
            typeof(Dictionary<string, System.Text.Json.JsonElement>),
            typeof(Auth0User).GetProperty(nameof(Auth0User.Claims))!.PropertyType);
        Assert.NotNull(typeof(Auth0User).GetConstructor([typeof(Dictionary<string, System.Text.Json.JsonElement>)]));
        Assert.Equal(typeof(ISet<string>), typeof(Auth0Options).GetProperty(nameof(Auth0Options.IdTokenClaimsToKeep))!.PropertyType);
    }

    [Fact]
    public void ApiAttribute_HasExactlyTheArgumentsTheGeneratorReads()
    {
        Assert.Equal(
            [ApiParser.AudienceProperty, ApiParser.BaseAddressProperty, ApiParser.ScopeProperty, ApiParser.UseDPoPProperty],
            typeof(Auth0ApiAttribute).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal));
        var constructor = Assert.Single(typeof(Auth0ApiAttribute).GetConstructors());
        Assert.Equal([ApiParser.NameParameter], constructor.GetParameters().Select(p => p.Name));
        var usage = typeof(Auth0ApiAttribute).GetCustomAttributes(typeof(AttributeUsageAttribute), false).Cast<AttributeUsageAttribute>().Single();
        Assert.True(usage.AllowMultiple);
    }

    [Fact]
    public void GeneratedCode_MatchesTheRuntimeApiContract()
    {
        Assert.Equal(
            Auth0.Generators.Emitting.ApiEmitter.HttpClientNamePrefix + "Orders",
            Auth0.Minimal.AspNetCore.Auth0ApiServiceCollectionExtensions.HttpClientName("Orders"));

        // The generated code passes these positionally.
        var definition = typeof(Auth0ApiDefinition).GetConstructors().Single(c => c.GetParameters().Length == 5);
        Assert.Equal(["Name", "Audience", "Scope", "BaseAddress", "UseDPoP"], definition.GetParameters().Select(p => p.Name));
        var tokenClient = Assert.Single(typeof(Auth0ApiTokenClient).GetConstructors(
            System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic));
        Assert.Equal(
            ["httpContextAccessor", "tokens", "apiName", "audience", "scope"],
            tokenClient.GetParameters().Select(p => p.Name));
    }
}
