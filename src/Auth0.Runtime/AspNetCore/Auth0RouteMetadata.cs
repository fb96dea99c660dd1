namespace Auth0.Minimal.AspNetCore;

/// <summary>The routes <c>MapAuth0Generated()</c> maps.</summary>
public enum Auth0RouteKind
{
    Login,
    Callback,
    Logout,
    Profile,
    AccessToken,
    BackchannelLogout,
    ConnectAccount,
}

/// <summary>
/// Endpoint metadata naming the Auth0 route an endpoint serves. The generated mapping adds it to every Auth0 route;
/// the OpenAPI description finds the JSON routes, wherever they are mapped, by it.
/// </summary>
public sealed class Auth0RouteMetadata(Auth0RouteKind kind)
{
    public Auth0RouteKind Kind { get; } = kind;
}
