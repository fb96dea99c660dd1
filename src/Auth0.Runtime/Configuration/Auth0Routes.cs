namespace Auth0.Minimal;

/// <summary>The route paths the application serves, fixed at compile time by <see cref="Auth0ConfigAttribute"/>.</summary>
public sealed class Auth0Routes
{
    public const string DefaultLogin = "/auth/login";
    public const string DefaultCallback = "/auth/callback";
    public const string DefaultLogout = "/auth/logout";
    public const string DefaultProfile = "/auth/profile";
    public const string DefaultAccessToken = "/auth/access-token";
    public const string DefaultBackchannelLogout = "/auth/backchannel-logout";
    public const string DefaultConnectAccount = "/auth/connect";

    public string Login { get; init; } = DefaultLogin;
    public string Callback { get; init; } = DefaultCallback;
    public string Logout { get; init; } = DefaultLogout;
    public string Profile { get; init; } = DefaultProfile;
    public string AccessToken { get; init; } = DefaultAccessToken;
    public string BackchannelLogout { get; init; } = DefaultBackchannelLogout;
    public bool EnableAccessTokenEndpoint { get; init; } = true;
    public bool EnableBackchannelLogout { get; init; } = true;
    public string ConnectAccount { get; init; } = DefaultConnectAccount;
    /// <summary>Maps the connect-account route (default false).</summary>
    public bool EnableConnectAccountEndpoint { get; init; }
}
