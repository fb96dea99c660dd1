using System.Text;
using System.Text.Json;
using Auth0.Minimal.Json;
using Auth0.Minimal.Protocol;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.AspNetCore;

internal static class PlainResponses
{
    /// <summary>A text/plain error: never HTML, never sniffed, provider-supplied text reduced to safe characters.</summary>
    public static Task TextAsync(HttpContext context, int status, string message, string? code = null, string? detail = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.XContentTypeOptions = "nosniff";
        var body = new StringBuilder(message);
        if (code is not null) body.Append("\nerror: ").Append(code);
        if (!string.IsNullOrEmpty(detail)) body.Append("\ndetail: ").Append(Sanitize(detail, 300));
        body.Append('\n');
        return response.WriteAsync(body.ToString(), context.RequestAborted);
    }

    public static async Task JsonErrorAsync(HttpContext context, int status, string code, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body,
            new ErrorResponse { Error = new ErrorBody { Code = code, Message = message } },
            Auth0JsonContext.Default.ErrorResponse, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The 401 body nextjs-auth0's withApiAuthRequired sends.</summary>
    public static Task NotAuthenticatedAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync("""{"error":"not_authenticated","description":"The user does not have an active session or is not authenticated"}""", context.RequestAborted);
    }

    public static void Redirect(HttpContext context, string location, int status = StatusCodes.Status307TemporaryRedirect)
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
    }

    internal static string Sanitize(string value, int max)
    {
        var sb = new StringBuilder(Math.Min(value.Length, max));
        foreach (var c in value)
        {
            if (sb.Length >= max) { sb.Append('…'); break; }
            sb.Append(c is >= ' ' and <= '~' ? c : '?');
        }
        return sb.ToString();
    }
}
