namespace Auth0.Generators.Model
{
    /// <summary>One [Auth0Api] declaration on the configuration class.</summary>
    internal sealed record ApiModel(
        string Name,
        string? Audience,
        string? Scope,
        string? BaseAddress,
        bool UseDPoP,
        LocationInfo? Location);
}
