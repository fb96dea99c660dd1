namespace Auth0.Minimal;

/// <summary>
/// Settings for Auth0.Minimal. Filled from the <c>Auth0</c> configuration section, then the AUTH0_* environment
/// variables nextjs-auth0 uses, then code; validated at start-up.
/// </summary>
public sealed class Auth0Options
{
    public const string DefaultScope = "openid profile email offline_access";

    /// <summary>Tenant domain (<c>tenant.auth0.com</c>) or issuer URL. Env: AUTH0_DOMAIN.</summary>
    public string? Domain { get; set; }
    /// <summary>Env: AUTH0_CLIENT_ID.</summary>
    public string? ClientId { get; set; }
    /// <summary>Env: AUTH0_CLIENT_SECRET.</summary>
    public string? ClientSecret { get; set; }
    /// <summary>Key material for cookie encryption, at least 32 characters. Env: AUTH0_SECRET.</summary>
    public string? Secret { get; set; }
    /// <summary>The public URL of this app, e.g. <c>https://app.example.com</c>. Env: APP_BASE_URL.</summary>
    public string? AppBaseUrl { get; set; }
    /// <summary>Default API audience requested at login. Env: AUTH0_AUDIENCE.</summary>
    public string? Audience { get; set; }
    /// <summary>Scope requested at login. Env: AUTH0_SCOPE.</summary>
    public string Scope { get; set; } = DefaultScope;
    /// <summary>Allows an http:// issuer (local identity providers only). Env: AUTH0_ALLOW_INSECURE_REQUESTS.</summary>
    public bool AllowInsecureRequests { get; set; }
    /// <summary>Extra parameters always sent to /authorize (query parameters of the login request win).</summary>
    public IDictionary<string, string> AuthorizationParameters { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
    /// <summary>Where to land after login when no (or an unsafe) returnTo is given.</summary>
    public string SignInReturnToPath { get; set; } = "/";
    /// <summary>Tolerance for ID-token time claims.</summary>
    public TimeSpan ClockTolerance { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Timeout of every call to the identity provider.</summary>
    public TimeSpan HttpTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary><c>auto</c> (default), <c>oidc</c> or <c>v2</c>.</summary>
    public LogoutStrategy LogoutStrategy { get; set; } = LogoutStrategy.Auto;
    /// <summary>Send <c>id_token_hint</c> on OIDC logout (default true).</summary>
    public bool IncludeIdTokenHintInOidcLogoutUrl { get; set; } = true;
    /// <summary>One transaction cookie per login attempt, so parallel tabs both succeed (default true).</summary>
    public bool EnableParallelTransactions { get; set; } = true;

    /// <summary>Bind access tokens to this app's key with DPoP (RFC 9449). Env: AUTH0_USE_DPOP.</summary>
    public bool UseDPoP { get; set; }
    /// <summary>ES256 (P-256) private key, PEM (PKCS#8 or SEC1). Env: AUTH0_DPOP_PRIVATE_KEY. Without it a key is generated at start-up.</summary>
    public string? DPoPPrivateKeyPem { get; set; }
    /// <summary>The matching public key, PEM (SPKI); checked against the private key at start-up. Env: AUTH0_DPOP_PUBLIC_KEY.</summary>
    public string? DPoPPublicKeyPem { get; set; }
    /// <summary>Added to the proof's iat, for a local clock that is behind. Env: AUTH0_DPOP_CLOCK_SKEW (seconds).</summary>
    public TimeSpan DPoPClockSkew { get; set; }
    /// <summary>Env: AUTH0_DPOP_CLOCK_TOLERANCE (seconds, default 30, at most 300).</summary>
    public TimeSpan DPoPClockTolerance { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Wait before the one retry after <c>use_dpop_nonce</c>. Env: AUTH0_RETRY_DELAY (milliseconds, default 100).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);
    /// <summary>Wait a random 50-100% of <see cref="RetryDelay"/>. Env: AUTH0_RETRY_JITTER (default true).</summary>
    public bool RetryJitter { get; set; } = true;

    /// <summary>Refresh this long before the access token expires (default 0). Env: AUTH0_TOKEN_REFRESH_BUFFER (seconds).</summary>
    public TimeSpan TokenRefreshBuffer { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Custom ID-token claims kept in the session besides <see cref="Auth0User.DefaultIdTokenClaims"/> when no
    /// <c>BeforeSessionSaved</c> hook decides; <see cref="Auth0ClaimAttribute"/> adds to it.
    /// </summary>
    public ISet<string> IdTokenClaimsToKeep { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// The claim <c>IsInRole</c> and <c>RequireRole</c> read on <c>HttpContext.User</c>, e.g. the namespaced roles claim an
    /// Auth0 action adds (<c>https://example.com/roles</c>); keep it in the session with <see cref="Auth0ClaimAttribute"/>.
    /// </summary>
    public string RoleClaimType { get; set; } = "role";

    /// <summary>The APIs declared with <see cref="Auth0ApiAttribute"/>; filled by the generated code.</summary>
    public IList<Auth0ApiDefinition> Apis { get; } = new List<Auth0ApiDefinition>();

    public SessionOptions Session { get; } = new();
    public TransactionCookieOptions TransactionCookie { get; } = new();

    /// <summary>
    /// Runs before a session is saved after login or after a refresh that brought a new ID token; returns the session
    /// to save (drop or add claims, add custom top-level fields). Its <c>Internal</c> data is restored afterwards.
    /// Without this hook only <see cref="Auth0User.DefaultIdTokenClaims"/> and <see cref="IdTokenClaimsToKeep"/> are kept.
    /// </summary>
    public Func<Auth0Session, string?, ValueTask<Auth0Session>>? BeforeSessionSaved { get; set; }

    /// <summary>
    /// Runs after every login callback, first, with the error or the new session; a non-null result replaces the
    /// default response (the redirect to returnTo, or the plain-text error).
    /// </summary>
    public Func<Auth0CallbackContext, ValueTask<Microsoft.AspNetCore.Http.IResult?>>? OnCallback { get; set; }
}

public enum LogoutStrategy { Auto, Oidc, V2 }

public sealed class SessionOptions
{
    public bool Rolling { get; set; } = true;
    public TimeSpan AbsoluteDuration { get; set; } = TimeSpan.FromDays(3);
    public TimeSpan InactivityDuration { get; set; } = TimeSpan.FromDays(1);
    public SessionCookieOptions Cookie { get; } = new();
}

public sealed class SessionCookieOptions
{
    public string Name { get; set; } = "__session";
    /// <summary>Env: AUTH0_COOKIE_DOMAIN.</summary>
    public string? Domain { get; set; }
    /// <summary>Env: AUTH0_COOKIE_PATH.</summary>
    public string Path { get; set; } = "/";
    /// <summary>Env: AUTH0_COOKIE_SECURE. Forced on for an https base URL.</summary>
    public bool? Secure { get; set; }
    /// <summary>Env: AUTH0_COOKIE_SAME_SITE (lax, strict, none).</summary>
    public Microsoft.AspNetCore.Http.SameSiteMode SameSite { get; set; } = Microsoft.AspNetCore.Http.SameSiteMode.Lax;
    /// <summary>A browser-session cookie without Max-Age. Env: AUTH0_COOKIE_TRANSIENT.</summary>
    public bool Transient { get; set; }
    /// <summary>
    /// Write the compact format (CBOR in COSE_Encrypt0 with AES-256-GCM, JWTs as raw bytes): about 30% smaller cookies
    /// with tokens, but not readable by nextjs-auth0. Both formats are always read. Env: AUTH0_COOKIE_COMPACT.
    /// </summary>
    public bool Compact { get; set; }
}

public sealed class TransactionCookieOptions
{
    public string Prefix { get; set; } = "__txn_";
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>An API the app calls: its audience, the scope to ask for, and where it lives.</summary>
public sealed record Auth0ApiDefinition(string Name, string Audience, string? Scope = null, string? BaseAddress = null, bool UseDPoP = false);
