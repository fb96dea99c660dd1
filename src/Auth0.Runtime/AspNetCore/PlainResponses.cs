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
        context.Response.Headers.Location = AsciiLocation(location);
    }

    /// <summary>
    /// A Location header value: an internationalised host as punycode, other non-ASCII and control characters
    /// percent-encoded (a raw one would make Kestrel throw when the headers are written).
    /// </summary>
    internal static string AsciiLocation(string location)
    {
        if (location.All(c => c is > ' ' and < (char)0x7f)) return location;
        var start = 0;
        var prefix = "";
        if (Uri.TryCreate(location, UriKind.Absolute, out var uri) && uri.IsAbsoluteUri && !string.IsNullOrEmpty(uri.Host))
        {
            try
            {
                prefix = uri.Scheme + "://" + (uri.UserInfo.Length > 0 ? uri.UserInfo + "@" : "") + uri.IdnHost + (uri.IsDefaultPort ? "" : ":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var authorityEnd = location.IndexOf('/', location.IndexOf("//", StringComparison.Ordinal) + 2);
                start = authorityEnd < 0 ? location.Length : authorityEnd;
            }
            catch (UriFormatException)
            {
                prefix = ""; // a host IDN rejects: percent-encode it with the rest
            }
        }
        var sb = new StringBuilder(prefix, location.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = start; i < location.Length; i++)
        {
            var c = location[i];
            if (c is > ' ' and < (char)0x7f) { sb.Append(c); continue; }
            var length = char.IsHighSurrogate(c) && i + 1 < location.Length
                ? Encoding.UTF8.GetBytes(location.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(location.AsSpan(i, 1), utf8);
            foreach (var b in utf8[..length]) sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>A browser navigation (a link or the address bar) rather than a fetch from script or another service.</summary>
    public static bool IsPageRequest(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method)) return false;
        var mode = request.Headers["Sec-Fetch-Mode"].ToString();
        if (mode.Length > 0) return mode.Equals("navigate", StringComparison.OrdinalIgnoreCase);
        return request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
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
