namespace Auth0.Generators.Model
{
    /// <summary>
    /// One valid [Auth0Api] declaration on the configuration class. It has no location, so moving the
    /// attribute does not re-emit; invalid declarations are reported while parsing and never get here.
    /// </summary>
    /// <param name="Name">A C# identifier; it names the generated types.</param>
    /// <param name="Audience">An absolute URI.</param>
    /// <param name="Scope">Space-separated scope tokens, or null to ask for none.</param>
    /// <param name="BaseAddress">An absolute http(s) URL, or null when no HttpClient is generated.</param>
    /// <param name="UseDPoP">
    /// Only ever true with a base address, and with [Auth0Config(UseDPoP = true)] unless that value itself does not compile.
    /// </param>
    internal sealed record ApiModel(
        string Name,
        string Audience,
        string? Scope,
        string? BaseAddress,
        bool UseDPoP);

    /// <summary>The input of one API's file: the API and where its types go.</summary>
    /// <param name="Namespace">The namespace of the configuration class, or null for the global namespace.</param>
    /// <param name="Accessibility"><c>public</c> when the configuration class is visible outside its assembly, else <c>internal</c>.</param>
    /// <param name="InterfaceDeclaredByUser">The app declares <c>partial interface I{Name}ApiTokenClient</c> itself (its access modifier wins).</param>
    /// <param name="HttpClientDeclaredByUser">The app declares <c>partial class {Name}ApiHttpClient</c> itself.</param>
    internal sealed record ApiFileModel(
        string? Namespace,
        string Accessibility,
        string Name,
        string Audience,
        string? Scope,
        string? BaseAddress,
        bool InterfaceDeclaredByUser = false,
        bool HttpClientDeclaredByUser = false)
    {
        public static ApiFileModel From(ConfigClassModel config, ApiModel api) =>
            new(config.Namespace, config.ApiAccessibility, api.Name, api.Audience, api.Scope, api.BaseAddress);
    }
}
