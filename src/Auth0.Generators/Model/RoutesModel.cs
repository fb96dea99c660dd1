namespace Auth0.Generators.Model
{
    /// <summary>The route values read from [Auth0Config], with the runtime defaults for unset ones.</summary>
    internal sealed record RoutesModel(
        string Login,
        string Callback,
        string Logout,
        string Profile,
        string AccessToken,
        string BackchannelLogout,
        bool EnableAccessTokenEndpoint,
        bool EnableBackchannelLogout,
        string ConnectAccount,
        bool EnableConnectAccountEndpoint);
}
