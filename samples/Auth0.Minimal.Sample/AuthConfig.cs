using Auth0.Minimal;

namespace Auth0.Minimal.Sample;

[Auth0Config]
public partial class AuthConfig;
