using System.Text.Json;
using System.Text.Json.Serialization;
using Auth0.Minimal.Protocol;

namespace Auth0.Minimal.Json;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Auth0Session))]
[JsonSerializable(typeof(Auth0User))]
[JsonSerializable(typeof(OidcMetadata))]
[JsonSerializable(typeof(TokenEndpointResponse))]
[JsonSerializable(typeof(BackchannelAuthorizeResponse))]
[JsonSerializable(typeof(TransactionState))]
[JsonSerializable(typeof(AccessTokenResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(List<ConnectionTokenSet>))]
[JsonSerializable(typeof(ConnectAccountRequest))]
[JsonSerializable(typeof(ConnectAccountResponse))]
[JsonSerializable(typeof(CompleteConnectAccountRequest))]
[JsonSerializable(typeof(ConnectedAccountWire))]
[JsonSerializable(typeof(ConnectedAccountsPage))]
[JsonSerializable(typeof(MyAccountProblem))]
internal sealed partial class Auth0JsonContext : JsonSerializerContext;
