namespace Auth0.Generators.Model
{
    /// <summary>The .NET type a claim is read as; each has its own generated accessor shape.</summary>
    internal enum ClaimValueType
    {
        String,
        Boolean,
        Int32,
        Int64,
        Double,
        StringArray,
    }

    /// <summary>
    /// One valid [Auth0Claim] declaration on the configuration class. It has no location, so moving the
    /// attribute does not re-emit; invalid declarations are reported while parsing and never get here.
    /// </summary>
    /// <param name="Claim">The claim name as it appears in the ID token, never empty.</param>
    /// <param name="Name">A C# identifier; the generated members are <c>Get{Name}</c> and <c>{Name}Claim</c>.</param>
    internal sealed record ClaimModel(string Claim, string Name, ClaimValueType Type);

    /// <summary>The input of the claims file: the claims and where their accessors go.</summary>
    /// <param name="Namespace">The namespace of the configuration class, or null for the global namespace.</param>
    /// <param name="Accessibility"><c>public</c> when the configuration class is visible outside its assembly, else <c>internal</c>.</param>
    /// <param name="ConfigClassName">The name of the configuration class without a leading '@', for the class name and docs.</param>
    internal sealed record ClaimsFileModel(
        string? Namespace,
        string Accessibility,
        string ConfigClassName,
        EquatableArray<ClaimModel> Claims)
    {
        public static ClaimsFileModel From(ConfigClassModel config) =>
            new(config.Namespace, config.ApiAccessibility, config.ClassName.TrimStart('@'), config.Claims);
    }
}
