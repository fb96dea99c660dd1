using System.Text.Json;
using Auth0.Minimal.Sessions;
using Auth0.Minimal.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>
/// The store finds an already verified session cookie straight from the Cookie header. Whatever the header looks like,
/// the answer must be the one the parsed cookie collection gives, the first time (nothing cached) and every later time.
/// </summary>
public class SessionCookieFastPathTests
{
    private const string Secret = "fast-path-test-secret-0123456789abcdefghijk";
    private const string Single = "auth0|single";
    private const string Chunked = "auth0|chunked";

    private readonly record struct Outcome(string? Sub, bool HadSessionCookies)
    {
        public override string ToString() => $"{Sub ?? "(no session)"}, session cookies: {HadSessionCookies}";
    }

    private static readonly Outcome SingleSession = new(Single, true);
    private static readonly Outcome ChunkedSession = new(Chunked, true);
    private static readonly Outcome Rejected = new(null, true);
    private static readonly Outcome NoCookie = new(null, false);

    /// <summary>One session small enough for a single cookie, and one split into three or more chunks.</summary>
    private sealed record Cookies(string Single, IReadOnlyList<string> Chunks)
    {
        public string Joined => string.Concat(Chunks);
        public IEnumerable<string> Pairs => Chunks.Select((value, i) => $"__session__{i}={value}");
        public string ChunkHeader => string.Join("; ", Pairs);
        public string SingleHeader => "__session=" + Single;
    }

    private static readonly Lazy<Cookies> Made = new(Make);

    private static Cookies Make()
    {
        var store = TestSessions.Store(Secret);
        var single = Write(store, Session(Single, 0));
        Assert.Single(single);
        // Big enough for several chunks, with a last chunk that holds the whole AES-GCM tag (the cache's key).
        for (var bio = 9000; ; bio += 97)
        {
            var chunks = Write(store, Session(Chunked, bio));
            if (chunks.Count < 3 || chunks[$"__session__{chunks.Count - 1}"].Length < 200) continue;
            return new(single["__session"], Enumerable.Range(0, chunks.Count).Select(i => chunks[$"__session__{i}"]).ToList());
        }
    }

    private static Auth0Session Session(string sub, int bioLength)
    {
        var session = TestSessions.Session(bioLength);
        session.User.Claims["sub"] = JsonSerializer.SerializeToElement(sub);
        return session;
    }

    private static Dictionary<string, string> Write(SessionCookieStore store, Auth0Session session)
    {
        var jar = new ResponseCookieJar();
        store.Write(session, new TestCookies(), jar);
        return TestCookies.FromJar(jar);
    }

    private static HttpContext Context(StringValues cookieHeader)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.Cookie = cookieHeader;
        return context;
    }

    private static Outcome Read(SessionCookieStore store, string header) =>
        store.Read(Context(header).Request, out var had) is { } session ? new(session.User.Sub, had) : new(null, had);

    /// <summary>
    /// What the parsed cookie collection gives, as the store read every request before it looked at the header itself:
    /// a store that has verified nothing, and the header in two parts, which only the full parse reads.
    /// </summary>
    private static Outcome FullParse(string header) => Read(TestSessions.Store(Secret), new StringValues([header, ""]));

    private static Outcome Read(SessionCookieStore store, StringValues header) =>
        store.Read(Context(header).Request, out var had) is { } session ? new(session.User.Sub, had) : new(null, had);

    private static VerifiedSessionCache.Entry? CachedEntry(SessionCookieStore store, string header)
    {
        store.ReadShared(Context(header).Request, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out _, out _, out var entry);
        return entry;
    }

    private static string Tamper(string value, int index)
    {
        Assert.NotEqual('.', value[index]);
        return value[..index] + (value[index] == 'A' ? 'B' : 'A') + value[(index + 1)..];
    }

    private static string Join(params IEnumerable<string> pairs) => string.Join("; ", pairs);

    private static IEnumerable<string> Replace(IEnumerable<string> pairs, int index, string pair) => pairs.Select((p, i) => i == index ? pair : p);

    private static readonly Dictionary<string, Func<Cookies, (string Header, Outcome Expected)>> Cases = new()
    {
        // Chunked.
        ["chunks in order"] = c => (c.ChunkHeader, ChunkedSession),
        ["chunks in reverse order"] = c => (Join(c.Pairs.Reverse()), ChunkedSession),
        ["chunks shuffled"] = c => (Join(c.Pairs.Skip(1).Append(c.Pairs.First())), ChunkedSession),
        ["unrelated cookies before, between and after the chunks"] = c =>
            (Join(c.Pairs.SelectMany((p, i) => (string[])[$"other{i}=v{i}", p]).Prepend("theme=dark").Append("_ga=GA1.2.3.4")), ChunkedSession),
        ["unrelated cookies whose names start like ours"] = c =>
            (Join(c.Pairs.Prepend("__session_x=1").Prepend("__sessionx=2").Append("x__session__0=3").Append("__session__=4")), ChunkedSession),
        ["spaces around the semicolons"] = c => ("  theme=dark ;  " + string.Join(" ;   ", c.Pairs) + " ; lang=en", ChunkedSession),
        ["no space after the semicolons"] = c => (string.Join(";", c.Pairs.Prepend("theme=dark")), ChunkedSession),
        ["a chunk twice with the same value"] = c => (Join(c.Pairs.Prepend(c.Pairs.First())), ChunkedSession),
        ["a chunk again, with junk, after the good one"] = c => (Join(c.Pairs.Append("__session__1=junk")), Rejected),
        ["a chunk with junk before the good one"] = c => (Join(c.Pairs.Prepend("__session__1=junk")), ChunkedSession),
        ["a chunk name in capitals"] = c => (Join(Replace(c.Pairs, 0, "__SESSION__0=" + c.Chunks[0])), Rejected),
        ["every chunk name in capitals"] = c => (Join(c.Chunks.Select((v, i) => $"__SESSION__{i}={v}")), NoCookie),
        ["a non-canonical chunk name besides the chunks"] = c => (Join(c.Pairs.Append("__session__01=" + c.Chunks[1])), ChunkedSession),
        ["a non-canonical chunk name instead of a chunk"] = c => (Join(Replace(c.Pairs, 1, "__session__01=" + c.Chunks[1])), Rejected),
        ["a missing middle chunk"] = c => (Join(c.Pairs.Where((_, i) => i != 1)), Rejected),
        ["a missing first chunk"] = c => (Join(c.Pairs.Skip(1)), Rejected),
        ["a missing last chunk"] = c => (Join(c.Pairs.SkipLast(1)), Rejected),
        ["a stray chunk after the last"] = c => (Join(c.Pairs.Append($"__session__{c.Chunks.Count}=" + c.Chunks[0][..40])), Rejected),
        ["a quoted chunk"] = c => (Join(Replace(c.Pairs, 1, $"__session__1=\"{c.Chunks[1]}\"")), Rejected), // the parser keeps a chunk's quotes
        ["the last chunk tampered within its last 22 characters"] = c =>
            (Join(Replace(c.Pairs, c.Chunks.Count - 1, $"__session__{c.Chunks.Count - 1}=" + Tamper(c.Chunks[^1], c.Chunks[^1].Length - 10))), Rejected),
        ["the first chunk tampered (the tag unchanged)"] = c => (Join(Replace(c.Pairs, 0, "__session__0=" + Tamper(c.Chunks[0], c.Chunks[0].Length / 2))), Rejected),
        ["a middle chunk tampered (the tag unchanged)"] = c => (Join(Replace(c.Pairs, 1, "__session__1=" + Tamper(c.Chunks[1], 7))), Rejected),
        ["the last chunk tampered before its last 22 characters"] = c =>
            (Join(Replace(c.Pairs, c.Chunks.Count - 1, $"__session__{c.Chunks.Count - 1}=" + Tamper(c.Chunks[^1], c.Chunks[^1].Length - 30))), Rejected),
        ["the same value cut into chunks at other places"] = c =>
            ($"__session__1={c.Joined[100..]}; __session__0={c.Joined[..100]}", ChunkedSession),
        ["the chunks joined into one cookie"] = c => ("__session=" + c.Joined, ChunkedSession),
        ["a tab before one chunk name"] = c => (Join(Replace(c.Pairs, 1, "\t__session__1=" + c.Chunks[1])), ChunkedSession),

        // Single.
        ["the single cookie"] = c => (c.SingleHeader, SingleSession),
        ["the single cookie among unrelated ones"] = c => ($"theme=dark; {c.SingleHeader}; _ga=GA1.2.3.4", SingleSession),
        ["the single cookie with spaces around the semicolons"] = c => ($"  theme=dark  ;   {c.SingleHeader} ;", SingleSession),
        ["the single cookie twice"] = c => (Join(c.SingleHeader, c.SingleHeader), SingleSession),
        ["the single cookie after a junk one"] = c => (Join("__session=junk", c.SingleHeader), SingleSession),
        ["the single cookie before a junk one"] = c => (Join(c.SingleHeader, "__session=junk"), SingleSession),
        ["the single cookie name in capitals"] = c => ("__SESSION=" + c.Single, Rejected),
        ["the single cookie quoted"] = c => ($"__session=\"{c.Single}\"", SingleSession),
        ["the single cookie tampered within its last 22 characters"] = c => ("__session=" + Tamper(c.Single, c.Single.Length - 12), Rejected),
        ["the single cookie tampered elsewhere (the tag unchanged)"] = c => ("__session=" + Tamper(c.Single, c.Single.Length / 2), Rejected),
        ["the single cookie's last 22 characters alone"] = c => ("__session=" + c.Single[^22..], Rejected),
        ["the single cookie's tail"] = c => ("__session=" + c.Single[^100..], Rejected),
        ["the single cookie with something in front"] = c => ("__session=x" + c.Single, Rejected),
        ["the single cookie cut into chunks"] = c => ($"__session__0={c.Single[..50]}; __session__1={c.Single[50..]}", SingleSession),
        ["the single cookie besides the chunks"] = c => (Join(c.Pairs.Append(c.SingleHeader)), SingleSession),
        ["a junk single cookie besides the chunks"] = c => (Join(c.Pairs.Prepend("__session=junk")), ChunkedSession),
        ["an empty single cookie besides the chunks"] = c => (Join(c.Pairs.Prepend("__session=")), ChunkedSession),
        ["no session cookie"] = _ => ("theme=dark; _ga=GA1.2.3.4", NoCookie),

        // Characters a JWE never has, in the session's own values (which the header scan does not check one by one).
        ["the single cookie percent-encoded"] = c => ("__session=%" + ((int)c.Single[0]).ToString("X2") + c.Single[1..], SingleSession),
        ["a chunk percent-encoded"] = c => (Join(Replace(c.Pairs, 1, "__session__1=" + string.Concat(c.Chunks[1].Select(ch => "%" + ((int)ch).ToString("X2"))))), ChunkedSession),
        ["the last chunk percent-encoded at its end"] = c =>
            (Join(Replace(c.Pairs, c.Chunks.Count - 1, $"__session__{c.Chunks.Count - 1}=" + c.Chunks[^1][..^1] + "%" + ((int)c.Chunks[^1][^1]).ToString("X2"))), ChunkedSession),
        ["the single cookie with a comma inside"] = c => ("__session=" + c.Single[..40] + "," + c.Single[40..], NoCookie), // the parser drops it
        ["the single cookie with a quote inside"] = c => ("__session=" + c.Single[..40] + "\"" + c.Single[40..], NoCookie),
        ["a chunk with a backslash at its end"] = c => (Join(Replace(c.Pairs, 0, "__session__0=" + c.Chunks[0] + "\\")), Rejected),
        ["a chunk with a non-ASCII letter"] = c => (Join(Replace(c.Pairs, 1, "__session__1=" + c.Chunks[1][..5] + "\u00e9" + c.Chunks[1][5..])), Rejected),
        ["the single cookie with a plus for a dash"] = c => ("__session=" + c.Single.Replace('-', '+').Replace('_', '/'), c.Single.IndexOfAny(['-', '_']) >= 0 ? Rejected : SingleSession),
    };

    /// <summary>Headers the Cookie header fast path reads differently from the parsed cookie collection.</summary>
    private static readonly Dictionary<string, Func<Cookies, (string Header, Outcome Expected)>> Divergent = new()
    {
        // The cookie parser drops a pair with a space next to its '=': such a cookie is not sent at all.
        ["a space before '=' in every chunk"] = c => (string.Join("; ", c.Chunks.Select((v, i) => $"__session__{i} ={v}")), NoCookie),
        ["a space after '=' in every chunk"] = c => (string.Join("; ", c.Chunks.Select((v, i) => $"__session__{i}= {v}")), NoCookie),
        ["a space before '=' in one chunk"] = c => (Join(Replace(c.Pairs, 0, "__session__0 =" + c.Chunks[0])), Rejected),
        ["the single cookie with a space before '='"] = c => ("__session =" + c.Single, NoCookie),
        ["the single cookie with a space after '='"] = c => ("__session= " + c.Single, NoCookie),
        // The cookie parser skips tabs between pairs as it skips spaces.
        ["the single cookie with a tab before its name"] = c => ("theme=dark;\t" + c.SingleHeader, SingleSession),
        ["a tab before every chunk name"] = c => ("theme=dark;\t" + string.Join(";\t", c.Pairs), ChunkedSession),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);
    public static TheoryData<string> DivergentCaseNames => new(Divergent.Keys);

    [Theory]
    [InlineData("%41")]
    [InlineData(" ")]
    [InlineData("\"")]
    [InlineData(",")]
    [InlineData("+")]
    [InlineData("=")]
    public void Only_plain_JWE_text_is_ever_cached(string odd)
    {
        // The header scan skips the cookie-octet check of the session's own values on the strength of this.
        var cache = new VerifiedSessionCache();
        var value = "eyJhbGciOiJkaXIi." + odd + new string('A', 40);
        Assert.Null(cache.Add(value, new Auth0Session(), long.MaxValue));
        Assert.Null(cache.Find(value, 0));
        Assert.NotNull(cache.Add("eyJhbGciOiJkaXIi.." + new string('A', 40), new Auth0Session(), long.MaxValue));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_cookie_header_reads_as_the_full_parse_reads_it_before_and_after_its_cookie_was_verified(string name) =>
        AssertReadsAsTheFullParse(Cases[name](Made.Value));

    [Theory]
    [MemberData(nameof(DivergentCaseNames))]
    public void A_cookie_header_with_unusual_whitespace_reads_as_the_full_parse_reads_it(string name) =>
        AssertReadsAsTheFullParse(Divergent[name](Made.Value));

    private static void AssertReadsAsTheFullParse((string Header, Outcome Expected) @case)
    {
        var (header, expected) = @case;
        var cookies = Made.Value;
        Assert.Equal(expected, FullParse(header));

        // A store that has verified both good cookies (what the fast path serves), read twice: the first read may
        // fill the cache, the second may be served from it.
        var warm = TestSessions.Store(Secret);
        Assert.Equal(SingleSession, Read(warm, cookies.SingleHeader));
        Assert.Equal(ChunkedSession, Read(warm, cookies.ChunkHeader));
        var single = CachedEntry(warm, cookies.SingleHeader);
        var chunked = CachedEntry(warm, cookies.ChunkHeader);
        Assert.NotNull(single);
        Assert.NotNull(chunked);
        Assert.Equal(expected, Read(warm, header));
        Assert.Equal(expected, Read(warm, header));

        // A store that has verified nothing yet.
        var cold = TestSessions.Store(Secret);
        Assert.Equal(expected, Read(cold, header));
        Assert.Equal(expected, Read(cold, header));

        // Whatever came in between, the good cookies are still served from the cache.
        Assert.Same(single, CachedEntry(warm, cookies.SingleHeader));
        Assert.Same(chunked, CachedEntry(warm, cookies.ChunkHeader));
        Assert.Equal(SingleSession, Read(warm, cookies.SingleHeader));
        Assert.Equal(ChunkedSession, Read(warm, cookies.ChunkHeader));
    }

    [Fact]
    public void A_verified_cookie_is_served_from_the_Cookie_header_without_parsing_the_cookies()
    {
        // Not only an optimisation to keep: without it the cases above would not exercise the fast path at all.
        var cookies = Made.Value;
        var store = TestSessions.Store(Secret);
        foreach (var header in (string[])[cookies.SingleHeader, cookies.ChunkHeader, Join(cookies.Pairs.Reverse().Prepend("theme=dark"))])
        {
            Assert.NotEqual(NoCookie, Read(store, header));
            var context = Context(header);
            var session = store.ReadShared(context.Request, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out var had, out var expiresAt, out var entry);
            Assert.NotNull(session);
            Assert.NotNull(entry);
            Assert.Same(entry.Session, session);
            Assert.True(had);
            Assert.Equal(entry.ExpiresAt, expiresAt);
            Assert.Null(context.Features.Get<IRequestCookiesFeature>());
        }

        // Nor for a request without any session cookie.
        var anonymous = Context("theme=dark; _ga=GA1.2.3.4");
        Assert.Null(store.ReadShared(anonymous.Request, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), out var anyCookie, out _, out _));
        Assert.False(anyCookie);
        Assert.Null(anonymous.Features.Get<IRequestCookiesFeature>());
    }

    [Fact]
    public void The_public_read_of_a_cached_cookie_is_a_copy_that_changes_nothing_for_the_next_read()
    {
        var cookies = Made.Value;
        var store = TestSessions.Store(Secret);
        foreach (var header in (string[])[cookies.SingleHeader, cookies.ChunkHeader])
        {
            var first = store.Read(Context(header).Request, out _)!;
            first.User.Claims["sub"] = JsonSerializer.SerializeToElement("auth0|mallory");
            first.TokenSet.AccessToken = "changed";
            var second = store.Read(Context(header).Request, out _)!;
            Assert.NotSame(first, second);
            Assert.NotSame(CachedEntry(store, header)!.Session, second);
            Assert.NotEqual("auth0|mallory", second.User.Sub);
            Assert.Equal("at", second.TokenSet.AccessToken);
            Assert.NotEqual("auth0|mallory", CachedEntry(store, header)!.Session.User.Sub);
        }
    }
}
