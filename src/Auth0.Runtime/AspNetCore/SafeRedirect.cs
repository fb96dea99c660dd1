namespace Auth0.Minimal.AspNetCore;

/// <summary>
/// Open-redirect defence for returnTo: a value is kept only when it resolves, the way a browser would read it,
/// to the app's own origin; then only its path, query and fragment are kept.
/// </summary>
public static class SafeRedirect
{
    /// <summary>The same-origin path+query+fragment of <paramref name="returnTo"/>, or null when it leaves the origin.</summary>
    public static string? ToLocalPath(string? returnTo, Uri baseUri)
    {
        if (string.IsNullOrEmpty(returnTo) || returnTo.Length > 8192) return null;

        // Browsers drop tab/CR/LF anywhere, trim C0 controls and spaces, and read '\' as '/' in http(s) URLs.
        Span<char> buffer = returnTo.Length <= 1024 ? stackalloc char[returnTo.Length] : new char[returnTo.Length];
        var length = 0;
        foreach (var c in returnTo)
        {
            if (c is '\t' or '\n' or '\r') continue;
            buffer[length++] = c == '\\' ? '/' : c;
        }
        var value = new string(buffer[..length]).Trim(TrimChars);
        if (value.Length == 0) return null;
        foreach (var c in value)
            if (c < 0x20 || c == 0x7f) return null;

        Uri? resolved;
        if (HasScheme(value))
        {
            if (!value.StartsWith("http://", StringComparison.OrdinalIgnoreCase) && !value.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                return null;
            if (!Uri.TryCreate(value, UriKind.Absolute, out resolved)) return null;
        }
        else if (value.StartsWith("//", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(baseUri.Scheme + ":" + value, UriKind.Absolute, out resolved)) return null;
        }
        else
        {
            // A relative value is relative to the app's base URL (its path kept); "/x" is the origin's /x.
            var root = new Uri(baseUri.GetLeftPart(UriPartial.Authority) + baseUri.AbsolutePath.TrimEnd('/') + "/");
            if (!Uri.TryCreate(root, value, out resolved)) return null;
        }

        if (!SameOrigin(resolved, baseUri)) return null;
        var local = resolved.GetComponents(UriComponents.PathAndQuery | UriComponents.Fragment, UriFormat.UriEscaped);
        // Never hand out a path a browser could read as protocol-relative.
        while (local.StartsWith("//", StringComparison.Ordinal)) local = local[1..];
        return local.StartsWith('/') ? local : "/" + local;
    }

    /// <summary>The absolute URL of an origin-relative path from <see cref="ToLocalPath"/>.</summary>
    public static string ToAbsolute(string localPath, Uri baseUri) =>
        baseUri.GetLeftPart(UriPartial.Authority) + (localPath.StartsWith('/') ? localPath : "/" + localPath);

    /// <summary>A logout returnTo must be an absolute URL on the app's origin; anything else is refused.</summary>
    public static string? ToSameOriginAbsolute(string? returnTo, Uri baseUri)
    {
        var local = ToLocalPath(returnTo, baseUri);
        return local is null ? null : baseUri.GetLeftPart(UriPartial.Authority) + local;
    }

    private static readonly char[] TrimChars = BuildTrimChars();

    private static char[] BuildTrimChars()
    {
        var chars = new char[33];
        for (var i = 0; i <= 32; i++) chars[i] = (char)i;
        return chars;
    }

    private static bool HasScheme(string value)
    {
        if (value.Length == 0 || !char.IsAsciiLetter(value[0])) return false;
        for (var i = 1; i < value.Length; i++)
        {
            var c = value[i];
            if (c == ':') return true;
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.')) return false;
        }
        return false;
    }

    internal static bool SameOrigin(Uri a, Uri b)
    {
        if (!string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) || a.Port != b.Port) return false;
        try
        {
            return string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase);
        }
        catch (UriFormatException)
        {
            // A host IDN rejects (fullwidth solidus, a lone surrogate) is no host of ours.
            return false;
        }
    }
}
