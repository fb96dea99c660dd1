namespace Auth0.Minimal;

public sealed class Auth0Options
{
}
