using System.Net;
using System.Text.RegularExpressions;

namespace Auth0.Minimal.Tests.Support;

/// <summary>A cookie-keeping HTTP client that follows redirects one at a time, like a browser, and submits the IdP's forms.</summary>
public sealed partial class TestBrowser : IDisposable
{
    private readonly HttpClient _http;

    public TestBrowser()
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = Cookies, AllowAutoRedirect = false, UseCookies = true });
    }

    public CookieContainer Cookies { get; }

    public Task<HttpResponseMessage> GetAsync(string url) => _http.GetAsync(url);

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request);

    public Task<HttpResponseMessage> PostAsync(string url) => _http.PostAsync(url, null);

    /// <summary>Follows redirects until a non-redirect answer, or until <paramref name="stopAt"/> matches the next location.</summary>
    public async Task<HttpResponseMessage> FollowAsync(HttpResponseMessage response, Func<Uri, bool>? stopAt = null)
    {
        for (var hops = 0; hops < 20 && IsRedirect(response.StatusCode); hops++)
        {
            var location = new Uri(response.RequestMessage!.RequestUri!, response.Headers.Location!);
            if (stopAt?.Invoke(location) == true) return response;
            response = await _http.GetAsync(location);
        }
        return response;
    }

    /// <summary>Starts at the app's login route, signs in on the IdP form and returns the app's callback response (not followed).</summary>
    public Task<HttpResponseMessage> LoginAsync(TestApp app, string user = "alice", string password = "alice-password", string? loginQuery = null) =>
        LoginAsync(app.BaseUrl, user, password, loginQuery);

    public async Task<HttpResponseMessage> LoginAsync(string baseUrl, string user = "alice", string password = "alice-password", string? loginQuery = null)
    {
        var start = await GetAsync(baseUrl + "/auth/login" + (loginQuery is null ? "" : "?" + loginQuery));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, start.StatusCode);
        var callback = await CompleteIdpLoginAsync(start, baseUrl, user, password);
        return await GetAsync(callback.ToString());
    }

    /// <summary>From the 307 to /authorize to the callback URL the IdP sends back (the callback is not requested).</summary>
    public Task<Uri> CompleteIdpLoginAsync(HttpResponseMessage authorizeRedirect, TestApp app, string user, string password) =>
        CompleteIdpLoginAsync(authorizeRedirect, app.BaseUrl, user, password);

    public async Task<Uri> CompleteIdpLoginAsync(HttpResponseMessage authorizeRedirect, string baseUrl, string user, string password)
    {
        var isCallback = (Uri u) => u.AbsoluteUri.StartsWith(baseUrl + "/auth/callback", StringComparison.Ordinal);
        var form = await FollowAsync(authorizeRedirect, isCallback);
        if (!IsRedirect(form.StatusCode))
        {
            var html = await form.Content.ReadAsStringAsync();
            var action = FormAction().Match(html);
            Assert.True(action.Success, "no login form: " + html);
            var post = await _http.PostAsync(new Uri(form.RequestMessage!.RequestUri!, WebUtility.HtmlDecode(action.Groups[1].Value)),
                new FormUrlEncodedContent(new Dictionary<string, string> { ["login"] = user, ["password"] = password }));
            form = await FollowAsync(post, isCallback);
        }
        Assert.True(IsRedirect(form.StatusCode), $"expected a redirect to the callback, got {(int)form.StatusCode}");
        return new Uri(form.RequestMessage!.RequestUri!, form.Headers.Location!);
    }

    /// <summary>Completes the IdP's logout confirmation page (the form a browser auto-submits) and returns where it lands.</summary>
    public async Task<HttpResponseMessage> CompleteIdpLogoutAsync(HttpResponseMessage logoutPage)
    {
        var html = await logoutPage.Content.ReadAsStringAsync();
        var action = FormAction().Match(html);
        Assert.True(action.Success, "no logout form: " + html);
        var fields = HiddenInput().Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["logout"] = "yes";
        return await _http.PostAsync(new Uri(logoutPage.RequestMessage!.RequestUri!, WebUtility.HtmlDecode(action.Groups[1].Value)), new FormUrlEncodedContent(fields));
    }

    public string? Cookie(string baseUrl, string name) => Cookies.GetCookies(new Uri(baseUrl)).FirstOrDefault(c => c.Name == name)?.Value;

    public IReadOnlyList<Cookie> AppCookies(string baseUrl) => Cookies.GetCookies(new Uri(baseUrl)).Where(c => c.Name.StartsWith("__", StringComparison.Ordinal)).ToList();

    public static bool IsRedirect(HttpStatusCode status) => (int)status is >= 300 and < 400;

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<form[^>]*action=\"([^\"]+)\"", RegexOptions.IgnoreCase)]
    private static partial Regex FormAction();

    [GeneratedRegex("<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();
}
