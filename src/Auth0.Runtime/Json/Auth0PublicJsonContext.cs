using System.Text.Json.Serialization;

namespace Auth0.Minimal;

/// <summary>Source-generated JSON metadata for the session types, e.g. <c>Results.Json(user, Auth0PublicJsonContext.Default.Auth0User)</c>.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Auth0User))]
[JsonSerializable(typeof(Auth0Session))]
public sealed partial class Auth0PublicJsonContext : JsonSerializerContext;
