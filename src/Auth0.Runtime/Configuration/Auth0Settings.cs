using System.Net;
using Auth0.Minimal.Crypto;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Configuration;

/// <summary>The validated, normalised form of <see cref="Auth0Options"/>, computed once at start-up.</summary>
internal sealed class Auth0Settings
{
    public required Auth0Options Options { get; init; }
    public required Auth0Routes Routes { get; init; }
    /// <summary>Expected issuer, e.g. <c>https://tenant.auth0.com/</c>.</summary>
    public required string Issuer { get; init; }
    public required Uri IssuerUri { get; init; }
    public required Uri AppBaseUri { get; init; }
    public required string ClientId { get; init; }
    public required string ClientSecret { get; init; }
    public required CookieCrypto Crypto { get; init; }
    public required bool SecureCookies { get; init; }
    /// <summary>Proof builder when DPoP is on; null otherwise.</summary>
    public DPoP.DPoPProofFactory? DPoP { get; init; }
    public string CallbackUrl => field ??= RouteUrl(Routes.Callback);

    /// <summary>The wait before the one retry after use_dpop_nonce: the delay, or 50-100% of it with jitter.</summary>
    public TimeSpan NonceRetryDelay() =>
        Options.RetryJitter ? Options.RetryDelay * (0.5 + Random.Shared.NextDouble() * 0.5) : Options.RetryDelay;

    /// <summary>
    /// The scope to ask for with an audience: a declared API's scope (plus the login scope when it is the login
    /// audience), otherwise the login scope.
    /// </summary>
    public string ScopeFor(string? audience)
    {
        var api = audience is null ? null : Options.Apis.FirstOrDefault(a => a.Audience == audience);
        if (api is null) return Options.Scope;
        return audience == Options.Audience ? Scopes.Merge(Options.Scope, api.Scope) : api.Scope ?? "";
    }

    private string[] RoutePaths => field ??= [Routes.Login, Routes.Callback, Routes.Logout, Routes.Profile, Routes.AccessToken, Routes.BackchannelLogout, Routes.ConnectAccount];

    // Bit n set when a route is n characters long (63: that or longer). Asked on every request with a session, which
    // is rarely for an Auth0 route; a path of no route's length needs no comparison (ignoring case keeps the length).
    private ulong RouteLengths
    {
        get
        {
            if (field != 0) return field;
            ulong bits = 0;
            foreach (var route in RoutePaths) bits |= 1UL << Math.Min(route?.Length ?? 0, 63);
            return field = bits;
        }
    }

    public bool IsAuth0Route(Microsoft.AspNetCore.Http.PathString path)
    {
        if ((RouteLengths & (1UL << Math.Min(path.Value?.Length ?? 0, 63))) == 0) return false;
        foreach (var route in RoutePaths)
            if (path.Equals(route, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>The configured base address of a declared API, after environment overrides.</summary>
    public Uri? ApiBaseAddress(string apiName) =>
        Options.Apis.FirstOrDefault(a => a.Name == apiName)?.BaseAddress is { } url ? new Uri(url, UriKind.Absolute) : null;

    public CookieSettings SessionCookie => new(Options.Session.Cookie.Name, Options.Session.Cookie.Path,
        Options.Session.Cookie.Domain, SecureCookies, Options.Session.Cookie.SameSite);

    public CookieSettings TransactionCookie => new(Options.TransactionCookie.Prefix, "/",
        Options.Session.Cookie.Domain, SecureCookies, SameSiteMode.Lax);

    /// <summary>Builds the route URL under the base URL, keeping a base path such as <c>https://ex.com/app</c>.</summary>
    public string RouteUrl(string path)
    {
        var basePath = AppBaseUri.AbsolutePath.TrimEnd('/');
        var trimmed = path.StartsWith('/') ? path : "/" + path;
        return AppBaseUri.GetLeftPart(UriPartial.Authority) + basePath + trimmed;
    }

    public static Auth0Settings Create(Auth0Options options, Auth0Routes routes, IReadOnlyList<string>? bindErrors = null, TimeProvider? time = null)
    {
        var errors = new List<string>(bindErrors ?? []);

        var issuer = NormalizeIssuer(options.Domain, options.AllowInsecureRequests, errors);

        // Role policies read this claim, so the default claim filter must not drop it (a BeforeSessionSaved hook still decides).
        if (string.IsNullOrWhiteSpace(options.RoleClaimType))
            errors.Add("RoleClaimType: must name a claim, e.g. https://example.com/roles.");
        else if (options.RoleClaimType != "role")
            options.IdTokenClaimsToKeep.Add(options.RoleClaimType);

        if (string.IsNullOrWhiteSpace(options.ClientId))
            errors.Add("AUTH0_CLIENT_ID (Auth0:ClientId): missing. Set it to the application's Client ID.");
        if (string.IsNullOrWhiteSpace(options.ClientSecret))
            errors.Add("AUTH0_CLIENT_SECRET (Auth0:ClientSecret): missing. Set it to the application's Client Secret.");

        if (string.IsNullOrEmpty(options.Secret))
            errors.Add("AUTH0_SECRET (Auth0:Secret): missing. Set it to a random value of at least 32 characters (openssl rand -hex 32).");
        else if (options.Secret.Length < 32)
            errors.Add($"AUTH0_SECRET (Auth0:Secret): too short ({options.Secret.Length} characters); use at least 32 random characters (openssl rand -hex 32).");

        Uri? baseUri = null;
        if (string.IsNullOrWhiteSpace(options.AppBaseUrl))
            errors.Add("APP_BASE_URL (Auth0:AppBaseUrl): missing. Set it to this app's public URL, e.g. https://app.example.com.");
        else if (!Uri.TryCreate(options.AppBaseUrl.Trim(), UriKind.Absolute, out baseUri)
                 || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps)
                 || !string.IsNullOrEmpty(baseUri.Query) || !string.IsNullOrEmpty(baseUri.Fragment) || !string.IsNullOrEmpty(baseUri.UserInfo))
        {
            errors.Add($"APP_BASE_URL (Auth0:AppBaseUrl): '{options.AppBaseUrl}' is not an absolute http(s) URL without query, fragment or user info.");
            baseUri = null;
        }

        var scopes = (options.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (!scopes.Contains("openid", StringComparer.Ordinal))
            errors.Add($"AUTH0_SCOPE (Auth0:Scope): '{options.Scope}' must include 'openid'.");

        if (string.IsNullOrEmpty(options.SignInReturnToPath) || options.SignInReturnToPath[0] != '/'
            || options.SignInReturnToPath.StartsWith("//", StringComparison.Ordinal) || options.SignInReturnToPath.Contains('\\'))
            errors.Add($"SignInReturnToPath: '{options.SignInReturnToPath}' must be a local path starting with a single '/'.");

        var cookie = options.Session.Cookie;
        var secure = cookie.Secure ?? false;
        if (baseUri?.Scheme == Uri.UriSchemeHttps) secure = true;
        if (cookie.SameSite == SameSiteMode.None && !secure)
            errors.Add("AUTH0_COOKIE_SAME_SITE (Auth0:CookieSameSite): 'none' needs secure cookies (AUTH0_COOKIE_SECURE=true or an https APP_BASE_URL); browsers drop SameSite=None cookies that are not Secure.");
        if (string.IsNullOrEmpty(cookie.Path) || cookie.Path[0] != '/')
            errors.Add($"AUTH0_COOKIE_PATH (Auth0:CookiePath): '{cookie.Path}' must start with '/'.");
        if (!IsCookieName(cookie.Name))
            errors.Add($"Session cookie name '{cookie.Name}' is not a valid cookie name.");
        if (!IsCookieName(options.TransactionCookie.Prefix))
            errors.Add($"Transaction cookie prefix '{options.TransactionCookie.Prefix}' is not a valid cookie name.");
        if (options.Session.AbsoluteDuration <= TimeSpan.Zero)
            errors.Add("Session.AbsoluteDuration must be positive.");
        if (options.Session.InactivityDuration <= TimeSpan.Zero)
            errors.Add("Session.InactivityDuration must be positive.");
        if (options.ClockTolerance < TimeSpan.Zero || options.ClockTolerance > TimeSpan.FromMinutes(5))
            errors.Add("ClockTolerance must be between 0 and 5 minutes.");
        if (options.TokenRefreshBuffer < TimeSpan.Zero)
            errors.Add("TokenRefreshBuffer must be a non-negative number of seconds.");
        foreach (var api in options.Apis)
        {
            if (!Uri.TryCreate(api.Audience, UriKind.Absolute, out _))
                errors.Add($"API '{api.Name}': audience '{api.Audience}' is not an absolute URI.");
            if (!Scopes.IsValid(api.Scope))
                errors.Add($"API '{api.Name}': scope '{api.Scope}' has characters a scope cannot have.");
            if (api.BaseAddress is not null && !(Uri.TryCreate(api.BaseAddress, UriKind.Absolute, out var b) && (b.Scheme == Uri.UriSchemeHttps || b.Scheme == Uri.UriSchemeHttp)))
                errors.Add($"API '{api.Name}': base address '{api.BaseAddress}' is not an absolute http(s) URL.");
        }
        if (options.HttpTimeout <= TimeSpan.Zero || options.HttpTimeout > TimeSpan.FromMinutes(5))
            errors.Add("HttpTimeout must be positive and at most 5 minutes.");
        // These go into Set-Cookie, URLs and form bodies as they are: nothing that could end or extend them.
        if (options.Session.Cookie.Path is not { } cookiePath || !IsCookieAttributeValue(cookiePath) || !cookiePath.StartsWith('/'))
            errors.Add($"AUTH0_COOKIE_PATH (Auth0:CookiePath): '{Printable(options.Session.Cookie.Path)}' must be a path starting with '/' of printable ASCII without ';', ',' or spaces.");
        if (options.Session.Cookie.Domain is { } cookieDomain
            && (!IsCookieAttributeValue(cookieDomain) || cookieDomain.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))))
            errors.Add($"AUTH0_COOKIE_DOMAIN (Auth0:CookieDomain): '{Printable(cookieDomain)}' is not a host name.");
        if (!string.IsNullOrEmpty(options.Secret) && string.IsNullOrWhiteSpace(options.Secret))
            errors.Add("AUTH0_SECRET (Auth0:Secret): only whitespace; use random characters (openssl rand -hex 32).");
        if (options.ClientId?.Any(char.IsControl) == true)
            errors.Add("AUTH0_CLIENT_ID (Auth0:ClientId): contains control characters.");
        if (options.ClientSecret?.Any(char.IsControl) == true)
            errors.Add("AUTH0_CLIENT_SECRET (Auth0:ClientSecret): contains control characters.");
        if (options.Audience is { Length: > 0 } audience && (!Uri.TryCreate(audience, UriKind.Absolute, out _) || audience.Any(char.IsControl)))
            errors.Add($"AUTH0_AUDIENCE (Auth0:Audience): '{Printable(audience)}' is not an absolute URI.");
        if (options.RetryDelay < TimeSpan.Zero)
            errors.Add("AUTH0_RETRY_DELAY (Auth0:RetryDelay): Retry delay must be non-negative.");
        if (options.DPoPClockTolerance < TimeSpan.Zero || options.DPoPClockTolerance > TimeSpan.FromSeconds(300))
            errors.Add($"AUTH0_DPOP_CLOCK_TOLERANCE (Auth0:DPoPClockTolerance): {options.DPoPClockTolerance.TotalSeconds}s exceeds the maximum allowed 300s.");

        DPoPKeyPair? dpopKey = null;
        if (options.UseDPoP)
        {
            if (options.DPoPPrivateKeyPem is null && options.DPoPPublicKeyPem is not null)
                errors.Add("AUTH0_DPOP_PRIVATE_KEY (Auth0:DPoPPrivateKey): missing although AUTH0_DPOP_PUBLIC_KEY is set; give both keys, or neither to generate one at start-up.");
            else if (options.DPoPPrivateKeyPem is not null)
            {
                try { dpopKey = DPoPKeyPair.FromPem(options.DPoPPrivateKeyPem, options.DPoPPublicKeyPem); }
                catch (DPoPException ex) { errors.Add("DPoP (" + ex.Code + "): " + ex.Message); }
            }
            else
            {
                dpopKey = DPoPKeyPair.Generate();
            }
        }
        foreach (var api in options.Apis)
            if (api.UseDPoP && !options.UseDPoP)
                errors.Add($"API '{api.Name}' uses DPoP but DPoP is off: set AUTH0_USE_DPOP=true (Auth0:UseDPoP) or remove UseDPoP from its [Auth0Api].");

        if (errors.Count > 0)
            throw new Auth0ConfigurationException(errors);

        return new Auth0Settings
        {
            Options = options,
            Routes = routes,
            Issuer = issuer!,
            IssuerUri = new Uri(issuer!),
            AppBaseUri = baseUri!,
            ClientId = options.ClientId!,
            ClientSecret = options.ClientSecret!,
            Crypto = new CookieCrypto(options.Secret!),
            SecureCookies = secure,
            DPoP = dpopKey is null ? null : new DPoP.DPoPProofFactory(dpopKey, time, options.DPoPClockSkew),
        };
    }

    private static bool IsCookieName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        foreach (var c in name)
            if (c <= 32 || c >= 127 || "()<>@,;:\\\"/[]?={}".Contains(c)) return false;
        return true;
    }

    /// <summary>
    /// A bare host means https://host/; a URL keeps its scheme, port and path. http:// needs AllowInsecureRequests.
    /// </summary>
    private static bool IsCookieAttributeValue(string value) =>
        value.Length is > 0 and <= 1024 && value.All(c => c is > ' ' and < (char)0x7f && c is not ';' and not ',');

    private static string Printable(string? value) => value is null ? "" : AspNetCore.PlainResponses.Sanitize(value, 80);

    internal static string? NormalizeIssuer(string? domain, bool allowInsecure, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(domain))
        {
            errors.Add("AUTH0_DOMAIN (Auth0:Domain): missing. Set it to your tenant domain, e.g. your-tenant.us.auth0.com.");
            return null;
        }

        var value = domain.Trim();
        if (value.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            {
                errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' is not a valid URL.");
                return null;
            }
            if (uri.Scheme == Uri.UriSchemeHttp && !allowInsecure)
            {
                errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' uses http://; that is allowed only with AUTH0_ALLOW_INSECURE_REQUESTS=true (local identity providers).");
                return null;
            }
            if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            {
                errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' must be an https URL or a bare host name.");
                return null;
            }
            if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' must not contain a query, fragment or user info.");
                return null;
            }
            if (!allowInsecure && IsLocalHost(uri.Host))
            {
                errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' points at a local or IP host; that is allowed only with AUTH0_ALLOW_INSECURE_REQUESTS=true.");
                return null;
            }
            var authority = uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
            var path = uri.AbsolutePath;
            return path == "/" ? authority + "/" : authority + path;
        }

        var host = value.TrimEnd('/').ToLowerInvariant();
        if (host.Length == 0 || host.Contains('/') || host.Contains(':') || host.Contains('@') || host.Contains('?') || host.Contains('#')
            || Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' is not a host name; give a bare host (tenant.auth0.com) or a URL.");
            return null;
        }
        if (IsLocalHost(host) && !allowInsecure)
        {
            errors.Add($"AUTH0_DOMAIN (Auth0:Domain): '{domain}' is a local host name; use a URL with AUTH0_ALLOW_INSECURE_REQUESTS=true for local identity providers.");
            return null;
        }
        return "https://" + host + "/";
    }

    private static bool IsLocalHost(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out _)
        || host == "localhost" || host.EndsWith(".localhost", StringComparison.Ordinal)
        || host.StartsWith("localhost.", StringComparison.Ordinal) || host.EndsWith(".local", StringComparison.Ordinal);
}

internal readonly record struct CookieSettings(string Name, string Path, string? Domain, bool Secure, SameSiteMode SameSite);
