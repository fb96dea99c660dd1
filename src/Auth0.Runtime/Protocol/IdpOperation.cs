namespace Auth0.Minimal.Protocol;

/// <summary>Names of the activities around calls to the identity provider, one per kind of call.</summary>
internal static class IdpOperation
{
    public const string Discovery = "auth0 discovery";
    public const string Jwks = "auth0 jwks";
    public const string Token = "auth0 token";
    public const string Revoke = "auth0 revoke";
    public const string BackchannelAuthorize = "auth0 backchannel_authorize";
    public const string MyAccount = "auth0 my_account";
}
