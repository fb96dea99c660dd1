using Auth0.Minimal;
using Auth0.Minimal.AspNetCore;
using Auth0.Minimal.Sessions;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

public static class Auth0EndpointConventionBuilderExtensions
{
    /// <summary>
    /// For APIs: without an Auth0 session the endpoint answers 401 with a JSON error. An SDK error the handler does not
    /// catch (a token that cannot be refreshed, a failed connect) becomes its JSON error response, not a 500.
    /// </summary>
    public static TBuilder RequireAuth0Session<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0ApiEndpointMetadata());
        builder.Add(Auth0ErrorGate.Apply);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }

    /// <summary>
    /// For pages: without an Auth0 session the browser is sent to login and comes back to the same URL. Uncaught SDK
    /// errors become their JSON error responses, as with <see cref="RequireAuth0Session"/>.
    /// </summary>
    public static TBuilder RequireAuth0Login<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new Auth0LoginRedirectMetadata());
        builder.Add(Auth0ErrorGate.Apply);
        return builder.RequireAuthorization(Auth0Defaults.SessionPolicy);
    }
}

/// <summary>
/// Wraps a RequireAuth0Session / RequireAuth0Login endpoint so that SDK errors escaping it become their JSON answers
/// (<see cref="Auth0ErrorResults.ToResult"/> rather than a bare 500), for delegate and RequestDelegate endpoints alike. The session itself is
/// checked by the <c>Auth0.Session</c> policy, in the authorization middleware (see <see cref="Auth0PolicyEvaluator"/>).
/// </summary>
internal sealed class Auth0ErrorGate
{
    private static readonly Auth0ErrorGate Marker = new();

    // A convention (Add), not Finally: some libraries' convention builders implement only Add.
    public static void Apply(EndpointBuilder endpoint)
    {
        // Applied once, however many groups and calls ask for it.
        foreach (var item in endpoint.Metadata)
            if (item is Auth0ErrorGate) return;
        if (endpoint.RequestDelegate is not { } next) return;
        endpoint.Metadata.Add(Marker);
        endpoint.RequestDelegate = context => GuardAsync(context, next);
    }

    private static async Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (AnswerFor(context, ex) is { } answer)
        {
            await answer.ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>The response for <paramref name="exception"/>, or null when it stays the app's (the server's own 500).</summary>
    private static IResult? AnswerFor(HttpContext context, Exception exception)
    {
        if (exception is OperationCanceledException || context.Response.HasStarted) return null;
        if (exception is Auth0Exception sdk && Auth0ErrorResults.StatusCodeFor(sdk) != StatusCodes.Status500InternalServerError)
            return sdk.ToResult();
        if (!Auth0RequestState.For(context).HasUnwrittenChange) return null;
        // The server's own 500 would drop the Set-Cookie, and with it a refresh token the provider has already
        // rotated: answer the 500 here, so the session change still goes out. Other failures stay the app's.
        if (context.RequestServices.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) is Microsoft.Extensions.Logging.ILoggerFactory logger)
            Auth0FilterLog.Unhandled(logger.CreateLogger("Auth0.Minimal.AspNetCore.Auth0ExceptionFilter"), exception.GetType().Name, exception);
        return PlainError.Instance;
    }

    private sealed class PlainError : IResult
    {
        public static readonly PlainError Instance = new();

        public Task ExecuteAsync(HttpContext httpContext) =>
            PlainResponses.TextAsync(httpContext, StatusCodes.Status500InternalServerError, "The request could not be completed.", "internal_error");
    }
}
