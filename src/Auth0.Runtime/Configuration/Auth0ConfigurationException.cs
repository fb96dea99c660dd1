namespace Auth0.Minimal;

/// <summary>Thrown at start-up when settings are missing or invalid; the message names every bad setting.</summary>
public sealed class Auth0ConfigurationException(IReadOnlyList<string> problems)
    : Exception("Auth0 is not configured correctly:" + Environment.NewLine + "  - " + string.Join(Environment.NewLine + "  - ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
