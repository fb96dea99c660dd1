using Auth0.Minimal;

namespace Auth0.Minimal.Sample;

// ORDERS_API_URL overrides the Orders API base address per environment; the bundled identity provider serves one.
[Auth0Config(EnableConnectAccountEndpoint = true)]
[Auth0Api("Orders", Audience = "https://orders.example.com", Scope = "read:orders", BaseAddress = "https://orders.example.com/")]
[Auth0Api("Analytics", Audience = "https://analytics.example.com", Scope = "read:analytics")]
[Auth0Claim("https://example.com/roles", typeof(string[]))]
public partial class AuthConfig;

// Declared here so ASP.NET's request delegate generator (which cannot see other generators' output) can bind
// them as handler parameters under Native AOT; Auth0.Minimal completes them.
public partial interface IOrdersApiTokenClient : IAuth0ApiTokenClient;
public partial class OrdersApiHttpClient : Auth0.Minimal.Http.Auth0ApiHttpClient;
