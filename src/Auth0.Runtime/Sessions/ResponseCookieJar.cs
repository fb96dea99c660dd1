using System.Globalization;
using System.Text;
using Auth0.Minimal.Configuration;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// Collects the cookies of one response so the last write of a name wins, then emits one Set-Cookie per name
/// when the response starts (a later delete cannot leave an earlier set behind).
/// </summary>
internal sealed class ResponseCookieJar
{
    private readonly Dictionary<string, string> _headers = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public void Set(in CookieSettings cookie, string name, string value, long? maxAgeSeconds, DateTimeOffset now) =>
        Put(name, Format(cookie, name, value, maxAgeSeconds, now));

    public void Delete(in CookieSettings cookie, string name, DateTimeOffset now) =>
        Put(name, Format(cookie, name, "", 0, now));

    public bool IsEmpty => _order.Count == 0;

    private void Put(string name, string header)
    {
        if (!_headers.ContainsKey(name)) _order.Add(name);
        _headers[name] = header;
    }

    public void WriteTo(HttpResponse response)
    {
        if (_order.Count == 0) return;
        var values = new string[_order.Count];
        for (var i = 0; i < values.Length; i++) values[i] = _headers[_order[i]];
        response.Headers.Append("Set-Cookie", values);
        _order.Clear();
        _headers.Clear();
    }

    private static string Format(in CookieSettings cookie, string name, string value, long? maxAge, DateTimeOffset now)
    {
        var sb = new StringBuilder(name.Length + value.Length + 96);
        sb.Append(name).Append('=').Append(Uri.EscapeDataString(value));
        sb.Append("; Path=").Append(cookie.Path);
        if (maxAge is { } seconds)
        {
            if (seconds > 0)
                sb.Append("; Expires=").Append(now.AddSeconds(seconds).UtcDateTime.ToString("R", CultureInfo.InvariantCulture));
            sb.Append("; Max-Age=").Append(seconds.ToString(CultureInfo.InvariantCulture));
        }
        if (!string.IsNullOrEmpty(cookie.Domain)) sb.Append("; Domain=").Append(cookie.Domain);
        if (cookie.Secure) sb.Append("; Secure");
        sb.Append("; HttpOnly");
        sb.Append(cookie.SameSite switch
        {
            SameSiteMode.Strict => "; SameSite=strict",
            SameSiteMode.None => "; SameSite=none",
            _ => "; SameSite=lax",
        });
        return sb.ToString();
    }
}
