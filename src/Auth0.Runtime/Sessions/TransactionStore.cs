using System.Globalization;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Auth0.Minimal.Protocol;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// One encrypted cookie per login attempt, <c>__txn_&lt;state&gt;</c>, holding PKCE verifier, nonce and returnTo.
/// The value is <c>&lt;unix seconds&gt;:&lt;jwe&gt;</c> as nextjs-auth0 4.30 writes it.
/// </summary>
internal sealed class TransactionStore(Auth0Settings settings, TimeProvider time)
{
    private string Prefix => settings.Options.TransactionCookie.Prefix;

    public string CookieNameFor(string state) => settings.Options.EnableParallelTransactions ? Prefix + state : Prefix;

    // Field caps that keep one transaction cookie under the 4096 bytes browsers store.
    internal const int MaxReturnToBytes = 1024;
    internal const int MaxScopeBytes = 1024;
    internal const int MaxAudienceBytes = 512;

    /// <summary>The validated, origin-relative returnTo to keep, or the configured landing page.</summary>
    public string ReturnToOrDefault(string? requested)
    {
        var fallback = new Uri(settings.RouteUrl(settings.Options.SignInReturnToPath)).PathAndQuery;
        var returnTo = AspNetCore.SafeRedirect.ToLocalPath(requested, settings.AppBaseUri) ?? fallback;
        return System.Text.Encoding.UTF8.GetByteCount(returnTo) > MaxReturnToBytes ? fallback : returnTo;
    }

    /// <summary>The value, or null when it is too long to keep (it is then not recorded at all).</summary>
    public static string? Clamp(string? value, int maxBytes) =>
        value is not null && System.Text.Encoding.UTF8.GetByteCount(value) > maxBytes ? null : value;

    /// <summary>Total bytes of transaction cookies a browser may hold; beyond it the oldest are evicted.</summary>
    internal const int MaxTotalBytes = 3500;
    private const int MaxDeletions = 20;

    public void Save(TransactionState txn, IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var now = nowOffset.ToUnixTimeSeconds();
        var maxAge = (long)settings.Options.TransactionCookie.MaxAge.TotalSeconds;
        if (maxAge <= 0) maxAge = 3600;
        var json = JsonSerializer.SerializeToUtf8Bytes(txn, Auth0JsonContext.Default.TransactionState);
        var value = now.ToString(CultureInfo.InvariantCulture) + ":" + settings.Crypto.Encrypt(json, now + maxAge);
        var name = CookieNameFor(txn.State!);
        EvictOldest(requestCookies, jar, name, name.Length + 1 + Uri.EscapeDataString(value).Length, now, maxAge, nowOffset);
        jar.Set(settings.TransactionCookie, name, value, maxAge, nowOffset);
    }

    // Abandoned logins must not pile up until the Cookie header is too large for the server (431 everywhere).
    private void EvictOldest(IRequestCookieCollection cookies, ResponseCookieJar jar, string newName, int newBytes, long now, long maxAge, DateTimeOffset nowOffset)
    {
        var existing = new List<(string Name, long Timestamp, int Bytes)>();
        foreach (var (name, value) in cookies)
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal) || name == newName) continue;
            var colon = value.IndexOf(':');
            long ts = colon > 0 && long.TryParse(value.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var t) ? t : 0;
            existing.Add((name, ts, name.Length + 1 + Uri.EscapeDataString(value).Length));
        }
        existing.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        var total = newBytes + existing.Sum(e => e.Bytes);
        var deleted = 0;
        foreach (var cookie in existing)
        {
            var expired = cookie.Timestamp + maxAge <= now;
            if (!expired && total < MaxTotalBytes) break;
            if (deleted++ >= MaxDeletions) break;
            jar.Delete(settings.TransactionCookie, cookie.Name, nowOffset);
            total -= cookie.Bytes;
        }
    }

    public TransactionState? Read(IRequestCookieCollection cookies, string state)
    {
        if (!cookies.TryGetValue(CookieNameFor(state), out var value) || string.IsNullOrEmpty(value)) return null;
        var colon = value.IndexOf(':');
        var jwe = colon >= 0 ? value[(colon + 1)..] : value;
        var plaintext = settings.Crypto.Decrypt(jwe, time.GetUtcNow().ToUnixTimeSeconds());
        if (plaintext is null) return null;
        try
        {
            return JsonSerializer.Deserialize(plaintext, Auth0JsonContext.Default.TransactionState);
        }
        catch (JsonException) { return null; }
    }

    public void Delete(string state, ResponseCookieJar jar) =>
        jar.Delete(settings.TransactionCookie, CookieNameFor(state), time.GetUtcNow());

    public void DeleteAll(IRequestCookieCollection cookies, ResponseCookieJar jar)
    {
        var now = time.GetUtcNow();
        foreach (var name in cookies.Keys.Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).Take(MaxDeletions * 2))
            jar.Delete(settings.TransactionCookie, name, now);
    }
}
