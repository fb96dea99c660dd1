using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Tests.Support;

/// <summary>
/// A second authentication scheme for tests: it signs in whoever names themselves in a header (as "other|name"), and
/// its challenge (418) and forbid (451) are easy to tell apart from the Auth0 scheme's.
/// </summary>
public sealed class HeaderSchemeHandler : IAuthenticationHandler
{
    public const string Scheme = "Other";
    public const string UserHeader = "X-Other-User";

    private HttpContext _context = null!;

    public Task InitializeAsync(AuthenticationScheme scheme, HttpContext context)
    {
        _context = context;
        return Task.CompletedTask;
    }

    public Task<AuthenticateResult> AuthenticateAsync()
    {
        if (_context.Request.Headers[UserHeader] is not [{ Length: > 0 } name]) return Task.FromResult(AuthenticateResult.NoResult());
        var identity = new ClaimsIdentity([new Claim("sub", "other|" + name)], Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme)));
    }

    public Task ChallengeAsync(AuthenticationProperties? properties)
    {
        _context.Response.StatusCode = 418;
        return Task.CompletedTask;
    }

    public Task ForbidAsync(AuthenticationProperties? properties)
    {
        _context.Response.StatusCode = 451;
        return Task.CompletedTask;
    }
}
