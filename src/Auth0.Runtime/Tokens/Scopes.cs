namespace Auth0.Minimal;

/// <summary>Space-separated OAuth scope strings: merging keeps first-seen order, comparison is by token set.</summary>
public static class Scopes
{
    public static string Merge(string? first, string? second)
    {
        // The common case on the hot path: nothing to add to an already clean scope.
        if (string.IsNullOrEmpty(second) && first is not null && IsClean(first)) return first;
        var seen = new List<string>();
        foreach (var part in Split(first)) if (!seen.Contains(part)) seen.Add(part);
        foreach (var part in Split(second)) if (!seen.Contains(part)) seen.Add(part);
        return string.Join(' ', seen);
    }

    // Single spaces, no duplicates: then merging with nothing returns the string itself (no allocation).
    private static bool IsClean(string scope)
    {
        if (scope.Length == 0 || scope[0] == ' ' || scope[^1] == ' ' || scope.Contains("  ", StringComparison.Ordinal)) return false;
        var span = scope.AsSpan();
        var start = 0;
        while (start < span.Length)
        {
            var length = span[start..].IndexOf(' ');
            if (length < 0) length = span.Length - start;
            var token = span.Slice(start, length);
            var rest = span[(start + length)..];
            for (var at = rest.IndexOf(token); at >= 0; at = rest.IndexOf(token))
            {
                // At 0 the match follows the previous match's first character, so it is not a whole token.
                var before = at == 0 ? 'x' : rest[at - 1];
                var afterIndex = at + token.Length;
                if (before == ' ' && (afterIndex == rest.Length || rest[afterIndex] == ' ')) return false;
                rest = rest[(at + 1)..];
            }
            start += length + 1;
        }
        return true;
    }

    /// <summary>True when <paramref name="have"/> grants every scope in <paramref name="want"/>.</summary>
    public static bool Covers(string? have, string? want, bool strict = false)
    {
        if (string.Equals(have, want, StringComparison.Ordinal)) return true;
        if (string.IsNullOrWhiteSpace(have) || string.IsNullOrWhiteSpace(want)) return false;
        var haveSet = new HashSet<string>(Split(have), StringComparer.Ordinal);
        var wantSet = new HashSet<string>(Split(want), StringComparer.Ordinal);
        if (!wantSet.IsSubsetOf(haveSet)) return false;
        return !strict || wantSet.Count == haveSet.Count;
    }

    public static int Count(string? scope) => new HashSet<string>(Split(scope), StringComparer.Ordinal).Count;

    public static string[] Split(string? scope) =>
        string.IsNullOrWhiteSpace(scope) ? [] : scope.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Scope tokens are printable ASCII except space, '"' and '\' (RFC 6749 §3.3).</summary>
    public static bool IsValid(string? scope)
    {
        if (scope is null) return true;
        foreach (var c in scope)
            if (c != ' ' && (c < 0x21 || c > 0x7e || c == '"' || c == '\\')) return false;
        return true;
    }
}
