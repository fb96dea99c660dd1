using Auth0.Minimal;

namespace PackagedApp;

[Auth0Config]
[Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders", BaseAddress = "https://orders.example.com/")]
public partial class AuthConfig;

public partial interface IOrdersApiTokenClient : IAuth0ApiTokenClient;
