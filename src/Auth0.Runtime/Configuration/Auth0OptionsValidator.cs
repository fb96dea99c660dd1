using Microsoft.Extensions.Options;

namespace Auth0.Minimal.Configuration;

/// <summary>What the configuration binder could not read (a malformed number or flag), reported with the rest.</summary>
internal sealed class Auth0BindErrors
{
    public List<string> Errors { get; } = [];
}

/// <summary>
/// Validates <see cref="Auth0Options"/> through the options pipeline (so <c>ValidateOnStart</c> stops the host before it
/// serves anything) by building the settings the runtime uses; the first valid result is kept for reuse.
/// </summary>
internal sealed class Auth0OptionsValidator(Auth0Routes routes, Auth0BindErrors bindErrors, TimeProvider time) : IValidateOptions<Auth0Options>
{
    private readonly Lock _gate = new();
    private (Auth0Options Options, Auth0Settings Settings)? _built;

    public ValidateOptionsResult Validate(string? name, Auth0Options options)
    {
        try
        {
            Build(options);
            return ValidateOptionsResult.Success;
        }
        catch (Auth0ConfigurationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Problems);
        }
    }

    /// <exception cref="Auth0ConfigurationException">The settings are missing or invalid.</exception>
    public Auth0Settings Build(Auth0Options options)
    {
        lock (_gate)
        {
            // Built once per options instance: a generated DPoP key must be the one the app then uses.
            if (_built is { } built && ReferenceEquals(built.Options, options)) return built.Settings;
            var settings = Auth0Settings.Create(options, routes, bindErrors.Errors, time);
            _built = (options, settings);
            return settings;
        }
    }
}
