using System.Text.Json.Nodes;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Auth0.Minimal.OpenApi;

/// <summary>
/// Describes the Auth0 JSON routes and the session cookie. The Auth0 routes are RequestDelegates (for Native AOT),
/// which the API explorer skips, so they are found by their <see cref="Auth0RouteMetadata"/> and described by hand.
/// </summary>
internal sealed class Auth0OpenApiTransformer : IOpenApiDocumentTransformer, IOpenApiOperationTransformer
{
    public const string SecuritySchemeId = "Auth0Session";
    public const string UserSchemaId = "Auth0User";
    public const string AccessTokenSchemaId = "Auth0AccessToken";
    public const string ErrorSchemaId = "Auth0Error";
    public const string Tag = "Auth0";

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var services = context.ApplicationServices;
        var settings = services.GetService<Auth0Settings>()
            ?? throw new InvalidOperationException("OpenApiOptions.AddAuth0() describes the routes registered by AddAuth0Generated(); call builder.Services.AddAuth0Generated(...) as well.");
        AddComponents(document, settings.Options.Session.Cookie.Name);

        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints)
        {
            if (endpoint is not RouteEndpoint route || endpoint.Metadata.GetMetadata<Auth0RouteMetadata>() is not { } auth0
                || !IsDescribed(endpoint, context.DocumentName))
                continue;
            var operation = auth0.Kind switch
            {
                Auth0RouteKind.Profile => ProfileOperation(document),
                Auth0RouteKind.AccessToken => AccessTokenOperation(document),
                _ => null, // redirects and the back-channel logout are for browsers and the provider, not API clients
            };
            if (operation is null) continue;
            operation.OperationId = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName;
            operation.Tags = new HashSet<OpenApiTagReference> { new(Tag, document) };
            operation.Security = [SessionRequirement(document)];
            AddOperation(document, PathOf(route), operation);
        }
        return Task.CompletedTask;
    }

    // Endpoints of the app's own that authenticate with the session: the cookie is their security requirement.
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.Document is { } document && UsesSession(context.Description.ActionDescriptor.EndpointMetadata, context.ApplicationServices))
        {
            operation.Security ??= [];
            operation.Security.Add(SessionRequirement(document));
        }
        return Task.CompletedTask;
    }

    // The schemes the authorization middleware would authenticate with: those of every authorize attribute and policy
    // on the endpoint (RequireAuth0Session's policy names Auth0), or the default scheme (Auth0 after AddAuth0Generated)
    // when none names any.
    private static bool UsesSession(IList<object> metadata, IServiceProvider services)
    {
        var policies = services.GetService<IOptions<AuthorizationOptions>>()?.Value;
        var schemes = new HashSet<string>(StringComparer.Ordinal);
        var authorized = false;
        foreach (var item in metadata)
        {
            switch (item)
            {
                case IAllowAnonymous:
                    return false; // authorization never challenges such an endpoint
                case IAuthorizeData data:
                    authorized = true;
                    foreach (var scheme in (data.AuthenticationSchemes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        schemes.Add(scheme);
                    if ((data.Policy is { } name ? policies?.GetPolicy(name) : policies?.DefaultPolicy) is { } named)
                        schemes.UnionWith(named.AuthenticationSchemes);
                    break;
                case AuthorizationPolicy policy:
                    authorized = true;
                    schemes.UnionWith(policy.AuthenticationSchemes);
                    break;
            }
        }
        if (!authorized) return false;
        if (schemes.Count > 0) return schemes.Contains(Auth0Defaults.AuthenticationScheme);
        var authentication = services.GetService<IOptions<AuthenticationOptions>>()?.Value;
        return (authentication?.DefaultAuthenticateScheme ?? authentication?.DefaultScheme) == Auth0Defaults.AuthenticationScheme;
    }

    // The rules the API explorer applies to the endpoints it sees, so the usual conventions hide these too.
    private static bool IsDescribed(Endpoint endpoint, string documentName)
    {
        if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true }) return false;
        var group = endpoint.Metadata.GetMetadata<IEndpointGroupNameMetadata>()?.EndpointGroupName;
        return group is null || string.Equals(group, documentName, StringComparison.OrdinalIgnoreCase);
    }

    private static string PathOf(RouteEndpoint route)
    {
        var raw = route.RoutePattern.RawText ?? "";
        return raw.StartsWith('/') ? raw : "/" + raw;
    }

    private static void AddOperation(OpenApiDocument document, string path, OpenApiOperation operation)
    {
        // The app may serve other methods on the same path.
        if (document.Paths.TryGetValue(path, out var existing) && existing is OpenApiPathItem item)
        {
            item.Operations ??= [];
            item.Operations[HttpMethod.Get] = operation;
            return;
        }
        document.Paths[path] = new OpenApiPathItem { Operations = new() { [HttpMethod.Get] = operation } };
    }

    private static OpenApiSecurityRequirement SessionRequirement(OpenApiDocument document) =>
        new() { [new OpenApiSecuritySchemeReference(SecuritySchemeId, document)] = [] };

    private static OpenApiOperation ProfileOperation(OpenApiDocument document) => new()
    {
        Summary = "The signed-in user's claims",
        Description = "The claims kept in the session. 401 with an empty body without a session.",
        Responses = new OpenApiResponses
        {
            ["200"] = Json("The user's claims.", UserSchemaId, document),
            ["401"] = new OpenApiResponse { Description = "No session." },
        },
    };

    private static OpenApiOperation AccessTokenOperation(OpenApiDocument document) => new()
    {
        Summary = "An access token for the signed-in user",
        Description = "The login token without an audience, else a token for that API; refreshed when it has expired. Never cached.",
        Parameters =
        [
            Query("audience", "The API audience; the login audience when omitted.", new OpenApiSchema { Type = JsonSchemaType.String }),
            Query("scope", "Space-separated scopes to ask for.", new OpenApiSchema { Type = JsonSchemaType.String }),
            Query("mergeScopes", "false asks for exactly `scope`, without the audience's configured scope.",
                new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(true) }),
        ],
        Responses = new OpenApiResponses
        {
            ["200"] = Json("The access token.", AccessTokenSchemaId, document),
            ["400"] = Json("The audience or scope is invalid (`invalid_request`).", ErrorSchemaId, document),
            ["401"] = Json("No session, or no token could be had (`missing_session`, `missing_refresh_token`, `failed_to_refresh_token`, `session_expired`).", ErrorSchemaId, document),
        },
    };

    private static OpenApiParameter Query(string name, string description, OpenApiSchema schema) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema };

    private static OpenApiResponse Json(string description, string schemaId, OpenApiDocument document) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/json"] = new() { Schema = new OpenApiSchemaReference(schemaId, document) },
        },
    };

    private static void AddComponents(OpenApiDocument document, string cookieName)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[SecuritySchemeId] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Cookie,
            Name = cookieName,
            Description = $"The encrypted Auth0 session cookie set by the login callback (split into {cookieName}__0, {cookieName}__1, ... when large).",
        };

        // Auth0User replaces the empty schema the framework would make for the type (its converter hides the shape).
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[UserSchemaId] = UserSchema();
        document.Components.Schemas[AccessTokenSchemaId] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "token", "expires_at", "expires_in" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["token"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The access token." },
                ["scope"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The scopes granted, space-separated." },
                ["expires_at"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "Expiry in seconds since the Unix epoch." },
                ["expires_in"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Description = "Seconds until expiry." },
                ["token_type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "`bearer` or `dpop`; absent for a login token that was never refreshed." },
            },
        };
        document.Components.Schemas[ErrorSchemaId] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string> { "error" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["error"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "message", "code" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                        ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A stable error code." },
                    },
                },
            },
        };

        document.Tags ??= new HashSet<OpenApiTag>();
        if (!document.Tags.Any(t => t.Name == Tag))
            document.Tags.Add(new OpenApiTag { Name = Tag, Description = "Routes served by Auth0.Minimal." });
    }

    // The claims object: the usual ID-token claims, and whatever else the session keeps.
    private static OpenApiSchema UserSchema()
    {
        var text = new OpenApiSchema { Type = JsonSchemaType.String };
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The ID-token claims kept in the session.",
            Required = new HashSet<string> { "sub" },
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["sub"] = text,
                ["name"] = text,
                ["nickname"] = text,
                ["given_name"] = text,
                ["family_name"] = text,
                ["picture"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri" },
                ["email"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "email" },
                ["email_verified"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                ["org_id"] = text,
            },
            // Any other claim the session keeps, of any JSON type; said explicitly so clients keep them.
            AdditionalProperties = new OpenApiSchema(),
        };
    }
}
