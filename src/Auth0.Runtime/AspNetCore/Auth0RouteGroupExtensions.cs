using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

public static class Auth0RouteGroupExtensions
{
    /// <summary>
    /// Runs <paramref name="around"/> around every Auth0 route of the group that <c>MapAuth0Generated()</c> returns:
    /// code before the handler, after it, or instead of it (not calling <c>next</c>). Endpoint filters do not apply to
    /// these routes (they are plain RequestDelegates, for Native AOT), so this is the way to hook them.
    /// </summary>
    /// <example><code>
    /// app.MapAuth0Generated().WithAuth0Middleware(async (context, next) =>
    /// {
    ///     if (context.Request.Path == "/auth/login" &amp;&amp; context.Request.Query.ContainsKey("blocked")) { context.Response.StatusCode = 403; return; }
    ///     await next(context);
    /// });
    /// </code></example>
    public static TBuilder WithAuth0Middleware<TBuilder>(this TBuilder builder, Func<HttpContext, RequestDelegate, Task> around)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(around);
        builder.Add(endpoint =>
        {
            var next = endpoint.RequestDelegate;
            if (next is null) return;
            endpoint.RequestDelegate = context => around(context, next);
        });
        return builder;
    }
}
