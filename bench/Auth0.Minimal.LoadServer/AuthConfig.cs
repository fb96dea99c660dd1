using Auth0.Minimal;

namespace Auth0.Minimal.LoadServer;

// Defaults only: the load test needs the session and the authentication scheme, not extra routes or APIs.
[Auth0Config]
public partial class AuthConfig;
