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

    public void Save(TransactionState txn, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var now = nowOffset.ToUnixTimeSeconds();
        var maxAge = (long)settings.Options.TransactionCookie.MaxAge.TotalSeconds;
        if (maxAge <= 0) maxAge = 3600;
        var json = JsonSerializer.SerializeToUtf8Bytes(txn, Auth0JsonContext.Default.TransactionState);
        var value = now.ToString(CultureInfo.InvariantCulture) + ":" + settings.Crypto.Encrypt(json, now + maxAge);
        jar.Set(settings.TransactionCookie, CookieNameFor(txn.State!), value, maxAge, nowOffset);
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
        foreach (var (name, _) in cookies)
            if (name.StartsWith(Prefix, StringComparison.Ordinal)) jar.Delete(settings.TransactionCookie, name, now);
    }
}
