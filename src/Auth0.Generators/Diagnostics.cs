using Microsoft.CodeAnalysis;

namespace Auth0.Generators
{
    /// <summary>Every diagnostic the Auth0 source generator reports.</summary>
    internal static class Diagnostics
    {
        public const string Category = "Auth0.Minimal";

        public static readonly DiagnosticDescriptor ClassNotPartial = Create(
            "AUTH0001",
            "Auth0 configuration class must be partial",
            "Make '{0}' partial: the Auth0 source generator adds a 'Routes' property to '{1}', so it and every type that contains it must be declared 'partial'",
            "The source generator adds members to the class marked [Auth0Config], which is only possible for partial types.");

        public static readonly DiagnosticDescriptor InvalidRoutePath = Create(
            "AUTH0002",
            "Invalid Auth0 route path",
            "'{0}' is set to '{1}', which is not a valid route path: it must start with '/' and must not contain whitespace, '?', '#', '{{' or '}}'",
            "Auth0 routes are mapped as literal paths, so they must be absolute and free of query, fragment and route-parameter syntax.");

        public static readonly DiagnosticDescriptor DuplicateRoutePath = Create(
            "AUTH0003",
            "Duplicate Auth0 route path",
            "'{0}' and '{1}' both use the path '{2}'; give each Auth0 route its own path (paths compare case-insensitively, ignoring a trailing '/')",
            "Two mapped Auth0 routes with the same path would make requests ambiguous at run time.");

        public static readonly DiagnosticDescriptor MultipleConfigClasses = Create(
            "AUTH0004",
            "More than one Auth0 configuration class",
            "Remove [Auth0Config] from '{0}': '{1}' is already the Auth0 configuration class, and a compilation can have only one because the generated AddAuth0Generated and MapAuth0Generated would be ambiguous",
            "Only one class in a compilation may be marked [Auth0Config]; code is generated for the first one only.");

        public static readonly DiagnosticDescriptor NonConstantRoutePath = Create(
            "AUTH0005",
            "Auth0 route path must be a constant string",
            "The value of '{0}' is null or not a compile-time constant string; use a string literal or a 'const string' so the path is known while compiling",
            "The source generator reads route paths at compile time, so each must be a non-null constant.");

        public static readonly DiagnosticDescriptor GenericConfigClass = Create(
            "AUTH0006",
            "Auth0 configuration class must not be generic",
            "Remove the type parameters from '{0}' and the types containing it: the generated code refers to the Auth0 configuration class without type arguments",
            "Generated code refers to the configuration class by name, which is not possible for an open generic type.");

        public static readonly DiagnosticDescriptor InaccessibleConfigClass = Create(
            "AUTH0007",
            "Auth0 configuration class must be accessible in its assembly",
            "Make '{0}' internal or public, and the types containing it too: the generated AddAuth0Generated method refers to it from outside the class",
            "Generated extension methods read the configuration class's Routes property, so the class cannot be private, protected or file-local.");

        public static readonly DiagnosticDescriptor DuplicateApiName = Create(
            "AUTH0008",
            "Duplicate Auth0 API name",
            "An [Auth0Api] named '{0}' is already declared; give each API its own name (names compare case-insensitively, since they name generated types and files)",
            "Each API name becomes the name of generated types, files and an HttpClient, so it must be unique.");

        public static readonly DiagnosticDescriptor DuplicateApiAudience = Create(
            "AUTH0009",
            "Duplicate Auth0 API audience",
            "The APIs '{0}' and '{1}' both use the audience '{2}'; give each [Auth0Api] its own audience, because access tokens are requested, cached and scoped by audience",
            "Two APIs with one audience would share cached tokens and only one of their scopes would ever be requested.");

        public static readonly DiagnosticDescriptor InvalidApiAudience = Create(
            "AUTH0010",
            "Auth0 API audience must be an absolute URI",
            "The Audience of the API '{0}' is {1}; set it to the API's identifier in Auth0, an absolute URI such as 'https://api.example.com'",
            "Access tokens are requested for an audience, the identifier of the API in Auth0, which is an absolute URI.");

        public static readonly DiagnosticDescriptor InvalidApiScope = Create(
            "AUTH0011",
            "Invalid Auth0 API scope",
            "The Scope of the API '{0}' is {1}, which is not an OAuth scope: {2}; a scope is one or more space-separated tokens of printable ASCII other than '\"' and '\\' (RFC 6749, section 3.3), or null to ask for none",
            "The scope is sent to the authorization server as is, so it must follow the OAuth scope syntax.");

        public static readonly DiagnosticDescriptor InvalidApiName = Create(
            "AUTH0012",
            "Auth0 API name must be a C# identifier",
            "The API name {0} is not a C# identifier or is a keyword; use a name such as 'Orders', because it becomes part of the generated type names I<Name>ApiTokenClient and <Name>ApiTokenClient",
            "The generated token client and HttpClient types are named after the API, so the name must be a valid identifier.");

        public static readonly DiagnosticDescriptor InvalidApiBaseAddress = Create(
            "AUTH0013",
            "Auth0 API base address must be an absolute http(s) URL",
            "The BaseAddress of the API '{0}' is {1}, which is not an absolute http:// or https:// URL without query or fragment, such as 'https://api.example.com/'",
            "The API's HttpClient sends the access token only to the origin of its base address, so it must be an absolute web URL.");

        public static readonly DiagnosticDescriptor NonConstantApiArgument = Create(
            "AUTH0014",
            "Auth0 API argument must be a constant",
            "The value of '{0}' in [Auth0Api] is not a compile-time constant; use a literal or a 'const' so it is known while compiling",
            "The source generator reads [Auth0Api] while compiling, so every argument must be a constant.");

        public static readonly DiagnosticDescriptor UnsupportedClaimType = Create(
            "AUTH0015",
            "Unsupported Auth0 claim type",
            "The claim '{0}' is declared as '{1}', which has no typed accessor; use string, bool, int, long, double or string[]",
            "The generated accessor reads the claim's JSON value without reflection, which is only done for these types.");

        public static readonly DiagnosticDescriptor DuplicateClaim = Create(
            "AUTH0016",
            "Duplicate Auth0 claim or claim accessor",
            "The claim '{0}' {1}; declare each claim once, and give each [Auth0Claim] a Name of its own",
            "Each claim gets the generated members Get<Name> and <Name>Claim, so claims and their names must be unique.");

        public static readonly DiagnosticDescriptor InvalidClaimName = Create(
            "AUTH0017",
            "Auth0 claim is empty or its accessor name is not a C# identifier",
            "The claim {0} {1}; a claim must not be empty, and its Name must be a C# identifier such as 'Roles', because it names the generated members Get<Name> and <Name>Claim",
            "The accessor is named after the claim's last path segment or its Name, so that must make a valid identifier.");

        public static readonly DiagnosticDescriptor NonConstantClaimArgument = Create(
            "AUTH0018",
            "Auth0 claim argument must be a constant",
            "The value of '{0}' in [Auth0Claim] is not a compile-time constant; use a literal, a 'const' or typeof(...) so it is known while compiling",
            "The source generator reads [Auth0Claim] while compiling, so every argument must be a constant.");

        public static readonly DiagnosticDescriptor DPoPApiWithoutBaseAddress = Create(
            "AUTH0019",
            "Auth0 API that uses DPoP must have a base address",
            "The API '{0}' sets UseDPoP = true but has no BaseAddress; a DPoP proof binds each request to its URL, and proofs are sent only by the API's generated HttpClient, which needs the base address: set BaseAddress to the API's absolute http(s) URL, or remove UseDPoP",
            "DPoP proofs are made per request by the API's HttpClient, which exists only for an API with a base address.");

        public static readonly DiagnosticDescriptor DPoPApiWhileDPoPOff = Create(
            "AUTH0020",
            "Auth0 API uses DPoP while DPoP is globally off",
            "The API '{0}' sets UseDPoP = true, but DPoP is globally off: set UseDPoP = true on [Auth0Config] of '{1}' as well (AUTH0_USE_DPOP can still turn it off at run time), or remove UseDPoP from this [Auth0Api]",
            "An API can only use DPoP when the application has a DPoP key, which [Auth0Config(UseDPoP = true)] turns on by default.");

        public static DiagnosticDescriptor GetById(string id) => id switch
        {
            "AUTH0001" => ClassNotPartial,
            "AUTH0002" => InvalidRoutePath,
            "AUTH0003" => DuplicateRoutePath,
            "AUTH0004" => MultipleConfigClasses,
            "AUTH0005" => NonConstantRoutePath,
            "AUTH0006" => GenericConfigClass,
            "AUTH0007" => InaccessibleConfigClass,
            "AUTH0008" => DuplicateApiName,
            "AUTH0009" => DuplicateApiAudience,
            "AUTH0010" => InvalidApiAudience,
            "AUTH0011" => InvalidApiScope,
            "AUTH0012" => InvalidApiName,
            "AUTH0013" => InvalidApiBaseAddress,
            "AUTH0014" => NonConstantApiArgument,
            "AUTH0015" => UnsupportedClaimType,
            "AUTH0016" => DuplicateClaim,
            "AUTH0017" => InvalidClaimName,
            "AUTH0018" => NonConstantClaimArgument,
            "AUTH0019" => DPoPApiWithoutBaseAddress,
            "AUTH0020" => DPoPApiWhileDPoPOff,
            _ => throw new System.ArgumentOutOfRangeException(nameof(id), id, "Unknown Auth0 diagnostic id."),
        };

        private static DiagnosticDescriptor Create(string id, string title, string messageFormat, string description) =>
            new(
                id,
                title,
                messageFormat,
                Category,
                DiagnosticSeverity.Error,
                isEnabledByDefault: true,
                description: description,
                helpLinkUri: "https://github.com/auth0-minimal/auth0-minimal/blob/main/docs/diagnostics/" + id + ".md");
    }
}
