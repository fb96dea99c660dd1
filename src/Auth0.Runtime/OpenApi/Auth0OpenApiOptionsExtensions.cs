using Auth0.Minimal.OpenApi;

using Microsoft.AspNetCore.OpenApi;

// Beside AddOpenApi, so the one is found wherever the other is.
namespace Microsoft.Extensions.DependencyInjection;

public static class Auth0OpenApiOptionsExtensions
{
    /// <summary>
    /// Adds the Auth0 JSON routes (profile and, when mapped, access token) to the OpenAPI document, with the session
    /// cookie as a security scheme required by them and by every endpoint that authenticates with it:
    /// <c>RequireAuth0Session()</c>, <c>RequireAuth0Login()</c>, and <c>[Authorize]</c> or <c>RequireAuthorization()</c>
    /// on the Auth0 scheme. The redirect routes and the back-channel logout are left out.
    /// </summary>
    /// <example><code>builder.Services.AddOpenApi(options => options.AddAuth0());</code></example>
    public static OpenApiOptions AddAuth0(this OpenApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var transformer = new Auth0OpenApiTransformer();
        options.AddDocumentTransformer(transformer);
        options.AddOperationTransformer(transformer);
        return options;
    }
}
