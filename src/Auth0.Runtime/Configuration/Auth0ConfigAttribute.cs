namespace Auth0.Minimal;

/// <summary>
/// Marks the partial class that configures Auth0 for this application. The Auth0.Minimal source
/// generator reads it and emits <c>AddAuth0Generated</c> and <c>MapAuth0Generated</c>.
/// </summary>
/// <remarks>Only literal values are read; every route path must start with '/'.</remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class Auth0ConfigAttribute : Attribute
{
    public string LoginPath { get; set; } = Auth0Routes.DefaultLogin;
    public string CallbackPath { get; set; } = Auth0Routes.DefaultCallback;
    public string LogoutPath { get; set; } = Auth0Routes.DefaultLogout;
    public string ProfilePath { get; set; } = Auth0Routes.DefaultProfile;
    public string AccessTokenPath { get; set; } = Auth0Routes.DefaultAccessToken;
    public string BackchannelLogoutPath { get; set; } = Auth0Routes.DefaultBackchannelLogout;
    public string ConnectAccountPath { get; set; } = Auth0Routes.DefaultConnectAccount;

    /// <summary>Maps the access-token route (default true).</summary>
    public bool EnableAccessTokenEndpoint { get; set; } = true;

    /// <summary>Maps the back-channel logout route (default true).</summary>
    public bool EnableBackchannelLogout { get; set; } = true;

    /// <summary>Maps the connect-account route for linking accounts through the My Account API (default false).</summary>
    public bool EnableConnectAccountEndpoint { get; set; }

    /// <summary>
    /// Turns DPoP on by default (AUTH0_USE_DPOP still overrides at run time); required when any [Auth0Api] sets UseDPoP.
    /// </summary>
    public bool UseDPoP { get; set; }
}

/// <summary>
/// Declares an API the application calls. The generator emits <c>I{Name}ApiTokenClient</c>
/// bound to <see cref="Audience"/> and <see cref="Scope"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Auth0ApiAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public string? Audience { get; set; }
    public string? Scope { get; set; }
    public string? BaseAddress { get; set; }
    public bool UseDPoP { get; set; }
}

/// <summary>
/// Keeps a custom ID-token claim in the session (the default filter keeps only the standard profile claims) and
/// has the generator emit a typed accessor for it, e.g. <c>user.GetRoles()</c>.
/// </summary>
/// <param name="claim">The claim name, e.g. <c>https://example.com/roles</c>.</param>
/// <param name="type">string, bool, int, long, double or string[].</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class Auth0ClaimAttribute(string claim, Type type) : Attribute
{
    public string Claim { get; } = claim;
    public Type Type { get; } = type;
    /// <summary>The accessor is named Get{Name}; defaults to a name derived from the claim.</summary>
    public string? Name { get; set; }
}
