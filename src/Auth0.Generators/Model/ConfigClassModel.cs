using System.Linq;

namespace Auth0.Generators.Model
{
    /// <summary>A type that encloses the configuration class; it needs a matching partial declaration.</summary>
    /// <param name="Keyword">The declaration keyword(s), for example <c>class</c> or <c>record struct</c>.</param>
    /// <param name="Name">The identifier as written, keeping a leading '@'.</param>
    internal sealed record ContainingTypeModel(string Keyword, string Name, bool IsPartial);

    /// <summary>Everything the generator needs from a class marked [Auth0Config].</summary>
    /// <param name="Namespace">The containing namespace, or null for the global namespace.</param>
    /// <param name="ClassName">The identifier as written, keeping a leading '@'.</param>
    /// <param name="TypeKeyword"><c>class</c> or <c>record</c>.</param>
    /// <param name="FullyQualifiedName">The <c>global::</c>-qualified name used from generated code.</param>
    /// <param name="ApiAccessibility">
    /// The accessibility of the generated API types: <c>public</c> when the class and every type containing it are
    /// public, else <c>internal</c>.
    /// </param>
    /// <param name="ContainingTypes">Enclosing types, outermost first.</param>
    /// <param name="Apis">The valid [Auth0Api] declarations, in source order.</param>
    /// <param name="Claims">The valid [Auth0Claim] declarations, in source order.</param>
    /// <param name="UseDPoP">[Auth0Config] sets <c>UseDPoP = true</c>: DPoP is on unless the configuration says otherwise.</param>
    internal sealed record ConfigClassModel(
        string? Namespace,
        string ClassName,
        string TypeKeyword,
        string Accessibility,
        string ApiAccessibility,
        bool IsPartial,
        string FullyQualifiedName,
        string DisplayName,
        EquatableArray<ContainingTypeModel> ContainingTypes,
        RoutesModel Routes,
        EquatableArray<ApiModel> Apis,
        EquatableArray<ClaimModel> Claims,
        bool UseDPoP,
        LocationInfo? Location);

    /// <summary>The result of reading one [Auth0Config] class; diagnostics stay apart from the model.</summary>
    /// <param name="Diagnostics">Errors in the class or its routes; any of them turns the generated methods into stubs.</param>
    /// <param name="ApiDiagnostics">Errors in [Auth0Api] declarations; only the declarations at fault are left out.</param>
    /// <param name="ClaimDiagnostics">Errors in [Auth0Claim] declarations; only the declarations at fault are left out.</param>
    internal sealed record ConfigParseResult(
        ConfigClassModel Config,
        EquatableArray<DiagnosticInfo> Diagnostics,
        EquatableArray<DiagnosticInfo> ApiDiagnostics,
        EquatableArray<DiagnosticInfo> ClaimDiagnostics);

    /// <summary>
    /// What the whole compilation generates: the class to emit for (null when there is none or it has
    /// errors) and every diagnostic to report.
    /// </summary>
    /// <param name="HasInvalidConfig">A class is marked [Auth0Config] but has errors, so only stubs are emitted.</param>
    /// <param name="ApiFiles">
    /// One entry per valid API of the first configuration class, even when that class has errors: the API types do
    /// not refer to it, and leaving them out would add errors wherever the application uses them.
    /// </param>
    /// <param name="ClaimsFile">
    /// The claim accessors of the first configuration class, null when it declares no valid claim; like the API
    /// files, emitted even when that class has errors.
    /// </param>
    internal sealed record GenerationModel(
        ConfigClassModel? Config,
        bool HasInvalidConfig,
        EquatableArray<DiagnosticInfo> Diagnostics,
        EquatableArray<ApiFileModel> ApiFiles,
        ClaimsFileModel? ClaimsFile)
    {
        public static readonly GenerationModel Empty =
            new(null, false, EquatableArray<DiagnosticInfo>.Empty, EquatableArray<ApiFileModel>.Empty, null);
    }

    /// <summary>
    /// The input of the routes file. It has no locations, so moving the class around does not re-emit.
    /// </summary>
    internal sealed record RoutesFileModel(
        string? Namespace,
        EquatableArray<ContainingTypeModel> ContainingTypes,
        string TypeKeyword,
        string ClassName,
        RoutesModel Routes)
    {
        public static RoutesFileModel From(ConfigClassModel config) =>
            new(config.Namespace, config.ContainingTypes, config.TypeKeyword, config.ClassName, config.Routes);
    }
}

namespace Auth0.Generators.Model
{
    /// <summary>The input of the endpoints file; null <paramref name="Routes"/> means emit a stub.</summary>
    internal sealed record EndpointsFileModel(RoutesModel? Routes);

    /// <summary>The input of the services file; null <paramref name="ConfigTypeName"/> means emit a stub.</summary>
    /// <param name="Namespace">Where the generated API types are, or null for the global namespace.</param>
    /// <param name="Claims">
    /// The claims declared with [Auth0Claim], kept in the session; only the claim strings, so renaming an accessor or
    /// changing its type leaves this file as it is.
    /// </param>
    /// <param name="UseDPoP">DPoP is on by default, so the generated code turns it on unless the configuration sets it.</param>
    internal sealed record ServicesFileModel(
        string? ConfigTypeName,
        string? Namespace,
        EquatableArray<ApiModel> Apis,
        EquatableArray<string> Claims,
        bool UseDPoP)
    {
        public static readonly ServicesFileModel Stub = new(null, null, EquatableArray<ApiModel>.Empty, EquatableArray<string>.Empty, false);

        public static ServicesFileModel From(ConfigClassModel config) =>
            new(config.FullyQualifiedName, config.Namespace, config.Apis, config.Claims.Select(c => c.Claim).ToEquatableArray(), config.UseDPoP);
    }
}
