using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Auth0.Minimal.Configuration;
using Auth0.Minimal.Json;
using Microsoft.AspNetCore.Http;

namespace Auth0.Minimal.Sessions;

/// <summary>
/// The stateless session store: the whole session, encrypted, in the <c>__session</c> cookie, split into
/// <c>__session__0..N</c> chunks above 3500 bytes.
/// </summary>
internal sealed class SessionCookieStore(Auth0Settings settings, TimeProvider time, Diagnostics.Auth0Telemetry telemetry)
{
    private readonly Crypto.CompactSessionFormat _compact = new(settings.Options.Secret!);

    internal const int MaxChunkSize = 3500;

    private string CookieName => settings.Options.Session.Cookie.Name;

    /// <summary>Above this many characters of cookie value the session is trimmed (ID token, then older API tokens).</summary>
    internal const int MaxSessionCookieChars = 16 * 1024;
    /// <summary>A request can carry any number of junk chunk cookies; never answer with more deletions than this.</summary>
    private const int MaxDeletions = 20;

    /// <summary>
    /// Reads the session from the request. When the browser sends several cookies of the same name (for example one
    /// injected by a sibling domain), the first that decrypts wins.
    /// </summary>
    public Auth0Session? Read(HttpRequest request, out bool hadSessionCookies) => Read(request, out hadSessionCookies, out _);

    /// <summary>As <see cref="Read(HttpRequest, out bool)"/>, also giving the session cookie's expiry (null when unknown).</summary>
    public Auth0Session? Read(HttpRequest request, out bool hadSessionCookies, out long? cookieExpiresAt)
    {
        var session = ReadShared(request, time.GetUtcNow().ToUnixTimeSeconds(), out hadSessionCookies, out cookieExpiresAt, out var entry);
        return entry is not null && session is not null ? session.Clone() : session;
    }

    /// <summary>
    /// As <see cref="Read(HttpRequest, out bool, out long?)"/>, but a cached value comes back as the cache's own session
    /// (<paramref name="entry"/> is set): the caller copies it before anything can change it.
    /// </summary>
    internal Auth0Session? ReadShared(HttpRequest request, long now, out bool hadSessionCookies, out long? cookieExpiresAt, out VerifiedSessionCache.Entry? entry)
    {
        cookieExpiresAt = null;
        entry = null;
        // The common cases straight from the Cookie header: no session cookie at all, or a value verified before. Only
        // what the full parse below would read the same way takes this path; anything unusual goes the long way.
        var header = request.Headers.Cookie;
        if (header.Count == 1 && header[0] is { Length: > 0 } text)
        {
            Span<(int Start, int Length)> parts = stackalloc (int, int)[MaxFastChunks];
            switch (Locate(text, parts, out var count))
            {
                case Located.None:
                    hadSessionCookies = false;
                    return null;
                case Located.Found when _verified.Find(text, parts[..count], now) is { } hit && IsWithinLifetime(hit.Session, now):
                    hadSessionCookies = true;
                    entry = hit;
                    cookieExpiresAt = hit.ExpiresAt;
                    return hit.Session;
            }
        }

        var cookies = request.Cookies;
        hadSessionCookies = HasAnySessionCookie(cookies);
        if (!hadSessionCookies) return null;
        if (cookies.ContainsKey(CookieName))
        {
            foreach (var candidate in RawValues(request, CookieName))
            {
                if (candidate.Length == 0) continue;
                if (DecodeShared(candidate, now, out cookieExpiresAt, out entry) is { } session) return session;
            }
        }
        return DecodeShared(ReadChunks(cookies), now, out cookieExpiresAt, out entry);
    }

    private const int MaxFastChunks = 8;

    private enum Located { None, Found, Unsure }

    // RFC 6265: a cookie name is a token, a value cookie-octets. A header made only of such pairs, separated by "; ",
    // is read the same way by ASP.NET Core's parser; anything else is left to that parser.
    private static readonly System.Buffers.SearchValues<char> TokenChars =
        System.Buffers.SearchValues.Create("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~");
    private static readonly System.Buffers.SearchValues<char> CookieOctets =
        System.Buffers.SearchValues.Create("!#$%&'()*+-./0123456789:<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~");

    // Finds the session cookie (or its chunks __session__0..N-1, in any order) in one Cookie header without
    // allocating. Unsure, for the full parse to decide: a header that is not plain RFC 6265 pairs (tabs, spaces around
    // '=', quotes, commas, empty pairs, ...), a name twice, a name in other letter case, a chunk name that is not
    // canonical, a gap, percent-encoding or an empty value in the session's own cookies, more chunks than fit here.
    private Located Locate(string header, Span<(int Start, int Length)> parts, out int count)
    {
        count = 0;
        var name = CookieName;
        var text = header.AsSpan();
        var baseAt = (Start: -1, Length: 0);
        var chunks = 0;
        var highest = -1;
        parts.Fill((-1, 0));
        var position = 0;
        while (true)
        {
            var semicolon = text[position..].IndexOf(';');
            var end = semicolon < 0 ? text.Length : position + semicolon;
            var pair = text[position..end];
            var eq = pair.IndexOf('=');
            if (eq <= 0) return Located.Unsure;
            var cookieName = pair[..eq];
            var value = pair[(eq + 1)..];
            if (cookieName.IndexOfAnyExcept(TokenChars) >= 0) return Located.Unsure;
            if (!cookieName.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                if (value.IndexOfAnyExcept(CookieOctets) >= 0) return Located.Unsure;
            }
            else
            {
                // The session's own values need no scan: only a value equal to a verified one is used, and those are
                // base64url and dots only (see VerifiedSessionCache.Add); anything else misses and takes the full parse.
                var valueStart = position + eq + 1;
                if (value.Length == 0) return Located.Unsure;
                if (cookieName.Length == name.Length)
                {
                    if (!cookieName.SequenceEqual(name) || baseAt.Start >= 0) return Located.Unsure;
                    baseAt = (valueStart, value.Length);
                }
                else if (cookieName.Length > name.Length + 2 && cookieName[name.Length] == '_' && cookieName[name.Length + 1] == '_')
                {
                    var digits = cookieName[(name.Length + 2)..];
                    if (!cookieName.StartsWith(name, StringComparison.Ordinal) || digits.Length != 1 || !char.IsAsciiDigit(digits[0])
                        || digits[0] - '0' >= parts.Length)
                        return Located.Unsure;
                    var index = digits[0] - '0';
                    if (parts[index].Start >= 0) return Located.Unsure;
                    parts[index] = (valueStart, value.Length);
                    chunks++;
                    highest = Math.Max(highest, index);
                }
                else if (value.IndexOfAnyExcept(CookieOctets) >= 0) return Located.Unsure;
                // Any other name that merely starts with the session's (e.g. "__session_x") is not ours.
            }
            if (semicolon < 0) break;
            // Pairs are separated by "; " (the space is optional); nothing else may follow.
            position = end + 1;
            if (position < text.Length && text[position] == ' ') position++;
            if (position >= text.Length) return Located.Unsure;
        }
        if (baseAt.Start >= 0)
        {
            parts[0] = baseAt;
            count = 1;
            return Located.Found;
        }
        if (chunks == 0) return Located.None;
        if (highest != chunks - 1) return Located.Unsure;
        count = chunks;
        return Located.Found;
    }

    /// <summary>The raw (reassembled) cookie value, or null when there is none or the chunks are incomplete.</summary>
    public string? ReadRaw(IRequestCookieCollection cookies)
    {
        if (cookies.TryGetValue(CookieName, out var single) && !string.IsNullOrEmpty(single)) return single;
        return ReadChunks(cookies);
    }

    private string? ReadChunks(IRequestCookieCollection cookies)
    {
        var chunks = ChunkIndexes(cookies);
        if (chunks.Count == 0) return null;
        chunks.Sort((a, b) => a.Index.CompareTo(b.Index));
        for (var i = 0; i < chunks.Count; i++)
            if (chunks[i].Index != i) return null; // a gap: an incomplete chunk set is no session
        return string.Concat(chunks.Select(c => c.Value));
    }

    /// <summary>True when the request carries any cookie belonging to the session (base or chunk).</summary>
    public bool HasAnySessionCookie(IRequestCookieCollection cookies) =>
        cookies.ContainsKey(CookieName) || ChunkNames(cookies).Any();

    /// <summary>
    /// Decrypts a session cookie. Expiry is exact here (the cookie's exp already is the inactivity deadline), and the
    /// absolute lifetime counts from login however often the session was rolled.
    /// </summary>
    public Auth0Session? Decode(string? raw) => Decode(raw, out _);

    /// <summary>As <see cref="Decode(string?)"/>, also giving the cookie's own expiry (null when unknown).</summary>
    public Auth0Session? Decode(string? raw, out long? cookieExpiresAt)
    {
        var session = DecodeShared(raw, time.GetUtcNow().ToUnixTimeSeconds(), out cookieExpiresAt, out var entry);
        return entry is not null && session is not null ? session.Clone() : session;
    }

    // A browser sends the same cookie on every request until it changes: decrypt it once, then share the result.
    private Auth0Session? DecodeShared(string? raw, long now, out long? cookieExpiresAt, out VerifiedSessionCache.Entry? entry)
    {
        cookieExpiresAt = null;
        entry = null;
        if (string.IsNullOrEmpty(raw)) return null;
        // Both formats are always readable, so switching the option logs nobody out.
        if (Crypto.CompactSessionFormat.IsCompact(raw))
            return _compact.Open(raw, now) is { } compact && IsWithinLifetime(compact, now) ? compact : null;

        if (_verified.Find(raw, now) is { } hit)
        {
            cookieExpiresAt = hit.ExpiresAt;
            if (!IsWithinLifetime(hit.Session, now)) return null;
            entry = hit;
            return hit.Session;
        }
        var session = DecodeUncached(raw, now, out var exp);
        if (session is null) return null;
        if (exp is not { } known) return session;
        cookieExpiresAt = known;
        entry = _verified.Add(raw, session, known);
        return entry?.Session ?? session;
    }

    /// <summary>Decrypts and reads a JWE session cookie, checking its times and lifetime; no cache.</summary>
    internal Auth0Session? DecodeUncached(string raw, long now, out long? exp)
    {
        // exp and nbf are read with the rest of the payload rather than in a scan of their own.
        exp = null;
        var plaintext = settings.Crypto.DecryptPooledUnchecked(raw, out var length);
        if (plaintext is null) return null;
        Auth0Session? session;
        try
        {
            session = Deserialize(plaintext.AsSpan(0, length), out exp, out var valid, now);
            if (!valid) return null;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(plaintext);
        }
        return session is not null && IsWithinLifetime(session, now) ? session : null;
    }

    private readonly VerifiedSessionCache _verified = new();

    public bool IsWithinLifetime(Auth0Session session, long now)
    {
        if (session.Internal.CreatedAt is not { } createdAt) return true;
        return createdAt + (long)settings.Options.Session.AbsoluteDuration.TotalSeconds > now;
    }

    /// <summary>With a session store the cookie holds only <c>{"id": "&lt;32 hex&gt;"}</c>, encrypted, never chunked.</summary>
    public string? ReadSessionId(HttpRequest request, out bool hadSessionCookies)
    {
        hadSessionCookies = HasAnySessionCookie(request.Cookies);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        foreach (var candidate in RawValues(request, CookieName))
        {
            var plaintext = settings.Crypto.Decrypt(candidate, now, toleranceSeconds: 0);
            if (plaintext is null) continue;
            try
            {
                var reader = new Utf8JsonReader(plaintext);
                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) continue;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("id"))
                    {
                        reader.Read();
                        var id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        if (id is { Length: 32 } && id.All(char.IsAsciiHexDigitLower)) return id;
                        break;
                    }
                    reader.Read();
                    reader.Skip();
                }
            }
            catch (JsonException) { }
            catch (InvalidOperationException) { }
        }
        return null;
    }

    /// <summary>Writes the id cookie of a stored session (always with Max-Age: a store session outlives the browser session).</summary>
    public void WriteSessionId(string id, long maxAge, IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var value = settings.Crypto.Encrypt(SessionIdPayload(id), nowOffset.ToUnixTimeSeconds() + maxAge);
        var cookie = settings.SessionCookie;
        jar.Set(cookie, CookieName, value, maxAge, nowOffset);
        foreach (var name in ChunkNames(requestCookies).Take(MaxDeletions)) jar.Delete(cookie, name, nowOffset);
        telemetry.SessionCookieWritten(value.Length, 1, "session_id");
    }

    /// <summary>The plaintext of a stored session's cookie.</summary>
    internal static byte[] SessionIdPayload(string id) => System.Text.Encoding.UTF8.GetBytes("{\"id\":\"" + id + "\"}");

    internal static Auth0Session? Deserialize(byte[] plaintext) => Deserialize(plaintext, out _, out _, now: null);

    /// <summary>
    /// As <see cref="Deserialize(byte[])"/>, also giving the cookie's exp; with <paramref name="now"/>, <paramref name="timesValid"/> also says
    /// whether <c>exp</c> is still ahead and <c>nbf</c> (when present) reached, with no tolerance, as sessions are checked.
    /// </summary>
    internal static Auth0Session? Deserialize(ReadOnlySpan<byte> plaintext, out long? expiresAt, out bool timesValid, long? now)
    {
        expiresAt = null;
        timesValid = false;
        try
        {
            var session = SessionJsonReader.Read(plaintext);
            if (session?.User is null || session.TokenSet is null || session.Internal is null) return null;
            var exp = session.CookieExpiry;
            var notBefore = session.CookieNotBefore;
            session.CookieExpiry = null; // never written back: encryption sets the new one
            session.CookieNotBefore = null;
            expiresAt = exp; // an integer, as every JOSE library writes it (a fractional one fails the read)
            timesValid = now is not { } at || ((exp is not { } e || e > at) && (notBefore is not { } nbf || nbf <= at));
            if (session.Extra is { Count: 0 }) session.Extra = null;
            if (session.AccessTokens?.Contains(null!) == true) return null;
            session.ConnectionTokenSets?.RemoveAll(static entry => entry is null); // a cache entry of nothing: dropped, as copies drop it
            // Strings that cannot become .NET strings (lone surrogates, bad UTF-8) would throw later, on use.
            // Only invalid UTF-8 or a \uD... escape can make one, so a payload with neither needs no walk.
            if (System.Text.Unicode.Utf8.IsValid(plaintext) && !HasSurrogateEscape(plaintext)) return session;
            EnsureReadable(session.User.Claims);
            EnsureReadable(session.Extra);
            EnsureReadable(session.TokenSet.Extra);
            EnsureReadable(session.Internal.Extra);
            if (session.AccessTokens is not null)
                foreach (var entry in session.AccessTokens) EnsureReadable(entry.Extra);
            if (session.ConnectionTokenSets is not null)
                foreach (var entry in session.ConnectionTokenSets) EnsureReadable(entry.Extra);
            return session;
        }
        catch (JsonException) { return null; }
        catch (InvalidOperationException) { return null; }
        catch (FormatException) { return null; } // a number the reader cannot convert
    }

    // A \u escape of U+D800-U+DFFF, or bytes that merely look like one (after an escaped backslash): either way, check.
    private static bool HasSurrogateEscape(ReadOnlySpan<byte> json)
    {
        for (var at = json.IndexOf("\\u"u8); at >= 0; at = json.IndexOf("\\u"u8))
        {
            if (at + 2 < json.Length && (json[at + 2] | 0x20) == 'd') return true;
            json = json[(at + 2)..];
        }
        return false;
    }

    private static void EnsureReadable(Dictionary<string, JsonElement>? values)
    {
        if (values is null) return;
        foreach (var value in values.Values) EnsureReadable(value);
    }

    private static void EnsureReadable(JsonElement element)
    {
        switch (element.ValueKind)
        {
            // Without escapes the raw text is the string: valid UTF-8 is all it needs, and checking costs no copy.
            case JsonValueKind.String:
                var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
                if (raw.IndexOf((byte)'\\') >= 0 || !System.Text.Unicode.Utf8.IsValid(raw)) _ = element.GetString();
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray()) EnsureReadable(item);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) { _ = property.Name; EnsureReadable(property.Value); }
                break;
        }
    }

    /// <summary>
    /// Makes the session fit the cookie budget: drops the ID token, then the oldest API tokens. False when even the
    /// remainder is too large (a session store is needed for such a user).
    /// </summary>
    public bool TryFit(Auth0Session session)
    {
        if (EstimatedCookieLength(session) <= MaxSessionCookieChars) return true;
        session.TokenSet.IdToken = null;
        while (EstimatedCookieLength(session) > MaxSessionCookieChars)
        {
            if (session.AccessTokens is not { Count: > 0 }) return false;
            session.AccessTokens.RemoveAt(0);
        }
        return true;
    }

    // Encrypted size estimate: base64url of the JSON plus the fixed JWE overhead.
    private static int EstimatedCookieLength(Auth0Session session) =>
        (JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session).Length + 32) * 4 / 3 + 80;

    /// <summary>Seconds the cookie lives, from the rolling/absolute rules: min(now + inactivity, createdAt + absolute).</summary>
    public long MaxAgeSeconds(Auth0Session session, long now)
    {
        var opts = settings.Options.Session;
        var absolute = (long)opts.AbsoluteDuration.TotalSeconds;
        var createdAt = session.Internal.CreatedAt ?? now;
        // Unlike nextjs-auth0, a non-rolling session also ends at createdAt + absolute, not a full period after each write.
        if (!opts.Rolling) return Math.Max(0, createdAt + absolute - now);
        var expiresAt = Math.Min(now + (long)opts.InactivityDuration.TotalSeconds, createdAt + absolute);
        return Math.Max(0, expiresAt - now);
    }

    /// <summary>Writes the session cookie; returns its expiry, or null when the session was too large and was deleted.</summary>
    public long? Write(Auth0Session session, IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        session.CookieExpiry = null; // encryption adds the new exp; a stale one would make two
        session.CookieNotBefore = null;
        if (!TryFit(session))
        {
            // Better no session than a cookie the browser or a proxy will reject on every later request.
            Delete(requestCookies, jar);
            return null;
        }
        var nowOffset = time.GetUtcNow();
        var now = nowOffset.ToUnixTimeSeconds();
        var maxAge = MaxAgeSeconds(session, now);
        var value = settings.Options.Session.Cookie.Compact
            ? _compact.Seal(session, now + maxAge)
            : settings.Crypto.Encrypt(JsonSerializer.SerializeToUtf8Bytes(session, Auth0JsonContext.Default.Auth0Session), now + maxAge);
        var cookie = settings.SessionCookie;
        long? cookieMaxAge = settings.Options.Session.Cookie.Transient ? null : maxAge;
        var format = settings.Options.Session.Cookie.Compact ? "compact" : "jwe";

        if (value.Length <= MaxChunkSize)
        {
            jar.Set(cookie, CookieName, value, cookieMaxAge, nowOffset);
            foreach (var name in ChunkNames(requestCookies).Take(MaxDeletions)) jar.Delete(cookie, name, nowOffset);
            telemetry.SessionCookieWritten(value.Length, 1, format);
            return now + maxAge;
        }

        var count = (value.Length + MaxChunkSize - 1) / MaxChunkSize;
        telemetry.SessionCookieWritten(value.Length, count, format);
        var written = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var part = value.Substring(i * MaxChunkSize, Math.Min(MaxChunkSize, value.Length - i * MaxChunkSize));
            var name = ChunkName(i);
            written.Add(name);
            jar.Set(cookie, name, part, cookieMaxAge, nowOffset);
        }
        foreach (var name in ChunkNames(requestCookies).Where(n => !written.Contains(n)).Take(MaxDeletions))
            jar.Delete(cookie, name, nowOffset);
        if (requestCookies.ContainsKey(CookieName)) jar.Delete(cookie, CookieName, nowOffset);
        return now + maxAge;
    }

    /// <summary>Deletes the base cookie and every chunk the browser sent, with the attributes they were set with.</summary>
    public void Delete(IRequestCookieCollection requestCookies, ResponseCookieJar jar)
    {
        var nowOffset = time.GetUtcNow();
        var cookie = settings.SessionCookie;
        jar.Delete(cookie, CookieName, nowOffset);
        foreach (var name in ChunkNames(requestCookies).Take(MaxDeletions)) jar.Delete(cookie, name, nowOffset);
    }

    private string ChunkName(int index) => CookieName + "__" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Only canonical indexes ("0", "1", ... without leading zeros) make up a session.
    private List<(int Index, string Value)> ChunkIndexes(IRequestCookieCollection cookies)
    {
        var result = new List<(int, string)>();
        foreach (var (name, value) in cookies)
        {
            if (!IsChunkName(name, out var digits) || digits.Length > 3 || (digits.Length > 1 && digits[0] == '0')) continue;
            result.Add((int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), value));
        }
        return result;
    }

    /// <summary>The exact names of every chunk-like cookie the browser sent, canonical or not.</summary>
    private IEnumerable<string> ChunkNames(IRequestCookieCollection cookies)
    {
        foreach (var name in cookies.Keys)
            if (IsChunkName(name, out _)) yield return name;
    }

    private bool IsChunkName(string name, out ReadOnlySpan<char> digits)
    {
        var prefixLength = CookieName.Length + 2;
        digits = default;
        if (name.Length <= prefixLength || !name.StartsWith(CookieName, StringComparison.Ordinal) || name[CookieName.Length] != '_' || name[CookieName.Length + 1] != '_')
            return false;
        digits = name.AsSpan(prefixLength);
        return IsDigits(digits);
    }

    private static IEnumerable<string> RawValues(HttpRequest request, string name)
    {
        foreach (var header in request.Headers.Cookie)
        {
            if (string.IsNullOrEmpty(header)) continue;
            foreach (var pair in header.Split(';'))
            {
                var trimmed = pair.AsSpan().Trim();
                var eq = trimmed.IndexOf('=');
                if (eq <= 0 || !trimmed[..eq].Trim().SequenceEqual(name)) continue;
                var value = trimmed[(eq + 1)..].Trim().Trim('"').ToString();
                string decoded;
                try { decoded = Uri.UnescapeDataString(value); } catch (UriFormatException) { continue; }
                yield return decoded;
            }
        }
    }

    private static bool IsDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (c is < '0' or > '9') return false;
        return true;
    }
}
