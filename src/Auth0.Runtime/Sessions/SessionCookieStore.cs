using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// The stateless session store: the whole session, encrypted, in the <c>__session</c> cookie, split into
/// <c>__session__0..N</c> chunks above 3500 bytes.
/// </summary>
internal sealed class SessionCookieStore(Auth0Settings settings, TimeProvider time)
{
    internal const int MaxChunkSize = 3500;

    private string CookieName => settings.Options.Session.Cookie.Name;

    /// <summary>The raw (reassembled) cookie value, or null when there is none or the chunks are incomplete.</summary>
    public string? ReadRaw(IRequestCookieCollection cookies)
    {
        if (cookies.TryGetValue(CookieName, out var single) && !string.IsNullOrEmpty(single)) return single;

        var chunks = ChunkIndexes(cookies);
        if (chunks.Count == 0) return null;
        chunks.Sort((a, b) => a.Index.CompareTo(b.Index));
        for (var i = 0; i < chunks.Count; i++)
            if (chunks[i].Index != i) return null; // a gap: an incomplete chunk set is no session
        return string.Concat(chunks.Select(c => c.Value));
    }

    /// <summary>True when the request carries any cookie belonging to the session (base or chunk).</summary>
    public bool HasAnySessionCookie(IRequestCookieCollection cookies) =>
        cookies.ContainsKey(CookieName) || ChunkIndexes(cookies).Count > 0;

    public Auth0Session? Decode(string? raw)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var plaintext = settings.Crypto.Decrypt(raw, now);
        if (plaintext is null) return null;
        return Deserialize(plaintext);
    }

    internal static Auth0Session? Deserialize(byte[] plaintext)
    {
        try
        {
            var session = JsonSerializer.Deserialize(plaintext, Auth0JsonContext.Default.Auth0Session);
            if (session?.User is null || session.TokenSet is null || session.Internal is null) return null;
            session.Extra?.Remove("exp");
            if (session.Extra is { Count: 0 }) session.Extra = null;
            return session;
        }
        catch (JsonException) { return null; }
        catch (InvalidOperationException) { return null; }
    }

    /// <summary>Seconds the cookie lives, from the rolling/absolute rules: min(now + inactivity, createdAt + absolute).</summary>
    public long MaxAgeSeconds(Auth0Session session, long now)
    {
        var opts = settings.Options.Session;
        var absolute = (long)opts.AbsoluteDuration.TotalSeconds;
        if (!opts.Rolling) return absolute;
        var createdAt = session.Internal.CreatedAt ?? now;
        var expiresAt = Math.Min(now + (long)opts.InactivityDuration.TotalSeconds, createdAt + absolute);
        return Math.Max(0, expiresAt - now);
    }

    public void Write(Auth0Session session, IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var now = nowOffset.ToUnixTimeSeconds();
        var maxAge = MaxAgeSeconds(session, now);
        var json = JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session);
        var value = settings.Crypto.Encrypt(json, now + maxAge);
        var cookie = settings.SessionCookie;
        long? cookieMaxAge = settings.Options.Session.Cookie.Transient ? null : maxAge;

        var existing = ChunkIndexes(requestCookies);
        if (value.Length <= MaxChunkSize)
        {
            jar.Set(cookie, CookieName, value, cookieMaxAge, nowOffset);
            foreach (var chunk in existing) jar.Delete(cookie, ChunkName(chunk.Index), nowOffset);
            return;
        }

        var count = (value.Length + MaxChunkSize - 1) / MaxChunkSize;
        for (var i = 0; i < count; i++)
        {
            var part = value.Substring(i * MaxChunkSize, Math.Min(MaxChunkSize, value.Length - i * MaxChunkSize));
            jar.Set(cookie, ChunkName(i), part, cookieMaxAge, nowOffset);
        }
        foreach (var chunk in existing)
            if (chunk.Index >= count) jar.Delete(cookie, ChunkName(chunk.Index), nowOffset);
        if (requestCookies.ContainsKey(CookieName)) jar.Delete(cookie, CookieName, nowOffset);
    }

    /// <summary>Deletes the base cookie and every chunk the browser sent, with the attributes they were set with.</summary>
    public void Delete(IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var cookie = settings.SessionCookie;
        jar.Delete(cookie, CookieName, nowOffset);
        foreach (var chunk in ChunkIndexes(requestCookies)) jar.Delete(cookie, ChunkName(chunk.Index), nowOffset);
    }

    private string ChunkName(int index) => CookieName + "__" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private List<(int Index, string Value)> ChunkIndexes(IRequestCookieCollection cookies)
    {
        var prefix = CookieName + "__";
        var result = new List<(int, string)>();
        foreach (var (name, value) in cookies)
        {
            if (name.Length <= prefix.Length || !name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var digits = name.AsSpan(prefix.Length);
            if (digits.Length > 3 || !IsDigits(digits)) continue;
            result.Add((int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), value));
        }
        return result;
    }

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }
}
