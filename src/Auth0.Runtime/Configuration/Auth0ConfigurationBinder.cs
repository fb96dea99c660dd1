using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Auth0.Minimal.Configuration;

/// <summary>
/// Reads options by hand (no reflection binder, so it stays trim safe): the "Auth0" section first,
/// then the nextjs-auth0 environment variable names, which win.
/// </summary>
internal static class Auth0ConfigurationBinder
{
    public static void Bind(IConfiguration configuration, Auth0Options options, List<string> errors)
    {
        var section = configuration.GetSection("Auth0");
        string? Read(string sectionKey, string envKey)
        {
            var env = configuration[envKey];
            if (!string.IsNullOrEmpty(env)) return env;
            var value = section[sectionKey];
            return string.IsNullOrEmpty(value) ? null : value;
        }

        options.Domain = Read("Domain", "AUTH0_DOMAIN") ?? options.Domain;
        options.ClientId = Read("ClientId", "AUTH0_CLIENT_ID") ?? options.ClientId;
        options.ClientSecret = Read("ClientSecret", "AUTH0_CLIENT_SECRET") ?? options.ClientSecret;
        options.Secret = Read("Secret", "AUTH0_SECRET") ?? options.Secret;
        options.AppBaseUrl = Read("AppBaseUrl", "APP_BASE_URL") ?? options.AppBaseUrl;
        options.Audience = Read("Audience", "AUTH0_AUDIENCE") ?? options.Audience;
        options.Scope = Read("Scope", "AUTH0_SCOPE") ?? options.Scope;
        options.SignInReturnToPath = Read("SignInReturnToPath", "AUTH0_SIGN_IN_RETURN_TO_PATH") ?? options.SignInReturnToPath;

        if (ReadBool(Read("AllowInsecureRequests", "AUTH0_ALLOW_INSECURE_REQUESTS"), "AUTH0_ALLOW_INSECURE_REQUESTS", errors) is { } insecure)
            options.AllowInsecureRequests = insecure;

        // An API's base address can differ per environment: <NAME>_API_URL or Auth0:Apis:<Name>:BaseAddress.
        for (var i = 0; i < options.Apis.Count; i++)
        {
            var api = options.Apis[i];
            var url = Read($"Apis:{api.Name}:BaseAddress", api.Name.ToUpperInvariant() + "_API_URL");
            if (url is not null) options.Apis[i] = api with { BaseAddress = url };
        }

        var buffer = Read("TokenRefreshBuffer", "AUTH0_TOKEN_REFRESH_BUFFER");
        if (buffer is not null)
        {
            if (long.TryParse(buffer.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds <= 86400)
                options.TokenRefreshBuffer = TimeSpan.FromSeconds(seconds);
            else
                errors.Add($"AUTH0_TOKEN_REFRESH_BUFFER (Auth0:TokenRefreshBuffer): '{buffer}' is not a whole number of seconds between 0 and 86400.");
        }

        if (ReadBool(Read("UseDPoP", "AUTH0_USE_DPOP"), "AUTH0_USE_DPOP", errors) is { } dpop) options.UseDPoP = dpop;
        options.DPoPPrivateKeyPem = Read("DPoPPrivateKey", "AUTH0_DPOP_PRIVATE_KEY") ?? options.DPoPPrivateKeyPem;
        options.DPoPPublicKeyPem = Read("DPoPPublicKey", "AUTH0_DPOP_PUBLIC_KEY") ?? options.DPoPPublicKeyPem;
        if (ReadSeconds(Read("DPoPClockSkew", "AUTH0_DPOP_CLOCK_SKEW"), "AUTH0_DPOP_CLOCK_SKEW", errors, allowNegative: true) is { } skew) options.DPoPClockSkew = skew;
        if (ReadSeconds(Read("DPoPClockTolerance", "AUTH0_DPOP_CLOCK_TOLERANCE"), "AUTH0_DPOP_CLOCK_TOLERANCE", errors) is { } tolerance) options.DPoPClockTolerance = tolerance;
        var delay = Read("RetryDelay", "AUTH0_RETRY_DELAY");
        if (delay is not null)
        {
            if (int.TryParse(delay.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && ms <= 60_000)
                options.RetryDelay = TimeSpan.FromMilliseconds(ms);
            else
                errors.Add($"AUTH0_RETRY_DELAY (Auth0:RetryDelay): '{delay}' is not a number of milliseconds between 0 and 60000.");
        }
        if (ReadBool(Read("RetryJitter", "AUTH0_RETRY_JITTER"), "AUTH0_RETRY_JITTER", errors) is { } jitter) options.RetryJitter = jitter;

        var strategy = Read("LogoutStrategy", "AUTH0_LOGOUT_STRATEGY");
        if (strategy is not null)
        {
            switch (strategy.Trim().ToLowerInvariant())
            {
                case "auto": options.LogoutStrategy = LogoutStrategy.Auto; break;
                case "oidc": options.LogoutStrategy = LogoutStrategy.Oidc; break;
                case "v2": options.LogoutStrategy = LogoutStrategy.V2; break;
                default: errors.Add($"AUTH0_LOGOUT_STRATEGY (Auth0:LogoutStrategy): '{strategy}' is not one of auto, oidc, v2."); break;
            }
        }

        var cookie = options.Session.Cookie;
        cookie.Domain = Read("CookieDomain", "AUTH0_COOKIE_DOMAIN") ?? cookie.Domain;
        cookie.Path = Read("CookiePath", "AUTH0_COOKIE_PATH") ?? cookie.Path;
        if (ReadBool(Read("CookieSecure", "AUTH0_COOKIE_SECURE"), "AUTH0_COOKIE_SECURE", errors) is { } secure) cookie.Secure = secure;
        if (ReadBool(Read("CookieTransient", "AUTH0_COOKIE_TRANSIENT"), "AUTH0_COOKIE_TRANSIENT", errors) is { } transient) cookie.Transient = transient;
        if (ReadBool(Read("CookieCompact", "AUTH0_COOKIE_COMPACT"), "AUTH0_COOKIE_COMPACT", errors) is { } compact) cookie.Compact = compact;
        var sameSite = Read("CookieSameSite", "AUTH0_COOKIE_SAME_SITE");
        if (sameSite is not null)
        {
            switch (sameSite.Trim().ToLowerInvariant())
            {
                case "lax": cookie.SameSite = SameSiteMode.Lax; break;
                case "strict": cookie.SameSite = SameSiteMode.Strict; break;
                case "none": cookie.SameSite = SameSiteMode.None; break;
                default: errors.Add($"AUTH0_COOKIE_SAME_SITE (Auth0:CookieSameSite): '{sameSite}' is not one of lax, strict, none."); break;
            }
        }
    }

    private static TimeSpan? ReadSeconds(string? value, string name, List<string> errors, bool allowNegative = false)
    {
        if (value is null) return null;
        if (int.TryParse(value.Trim(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && (allowNegative || seconds >= 0) && Math.Abs(seconds) <= 3600)
            return TimeSpan.FromSeconds(seconds);
        errors.Add($"{name}: '{value}' is not a whole number of seconds.");
        return null;
    }

    private static bool? ReadBool(string? value, string name, List<string> errors)
    {
        if (value is null) return null;
        if (bool.TryParse(value.Trim(), out var result)) return result;
        errors.Add($"{name}: '{value}' is not true or false.");
        return null;
    }
}
