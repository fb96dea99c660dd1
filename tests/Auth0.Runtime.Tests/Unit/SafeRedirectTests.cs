using Auth0.Minimal.AspNetCore;

namespace Auth0.Minimal.Tests.Unit;

public class SafeRedirectTests
{
    private static readonly Uri Base = new("http://www.example.com");

    [Theory]
    [InlineData("/dashboard", "/dashboard")]
    [InlineData("dashboard", "/dashboard")]
    [InlineData("http://www.example.com:80/a", "/a")]
    [InlineData("HTTP://WWW.EXAMPLE.COM/a", "/a")]
    [InlineData("http://user@www.example.com/", "/")]
    [InlineData("?a=1", "/?a=1")]
    [InlineData("../../etc", "/etc")]
    [InlineData("  /ok", "/ok")]
    [InlineData("/a?b=1&audience=x#frag", "/a?b=1&audience=x#frag")]
    [InlineData("//www.example.com/same", "/same")]
    public void Keeps_same_origin_paths(string input, string expected) =>
        Assert.Equal(expected, SafeRedirect.ToLocalPath(input, Base));

    [Theory]
    [InlineData("//evil.example")]
    [InlineData("/\\evil.example")]
    [InlineData("\\\\evil.example")]
    [InlineData("/\t/evil.example")]
    [InlineData("\t//evil.example")]
    [InlineData("/\n/evil.example")]
    [InlineData("https:evil.example")]
    [InlineData("http:evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("JaVaScRiPt:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("https://www.example.com/x")]
    [InlineData("https://www.example.com.evil.com/")]
    [InlineData("http://www.example.com.evil.com/")]
    [InlineData("http://evil.example\\@www.example.com/")]
    [InlineData("http://www.example.com:8080/")]
    [InlineData("")]
    [InlineData("   ")]
    public void Rejects_anything_that_leaves_the_origin(string input) =>
        Assert.Null(SafeRedirect.ToLocalPath(input, Base));

    [Theory]
    [InlineData("/%09/evil.example")]
    [InlineData("/%2F%2Fevil.example")]
    [InlineData("/%5Cevil.example")]
    [InlineData("/.//evil.example")]
    public void Encoded_tricks_stay_on_the_app_origin(string input)
    {
        var local = SafeRedirect.ToLocalPath(input, Base);
        Assert.NotNull(local);
        var absolute = new Uri(SafeRedirect.ToAbsolute(local, Base));
        Assert.Equal("www.example.com", absolute.Host);
        Assert.False(local.StartsWith("//", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dashboard", "/app/dashboard")]
    [InlineData("/app/dashboard", "/app/dashboard")]
    [InlineData("https://ex.com/app/dashboard", "/app/dashboard")]
    [InlineData("/dashboard", "/dashboard")]
    public void With_a_base_path_relative_values_are_relative_to_it_and_nothing_is_doubled(string input, string expected)
    {
        var baseUri = new Uri("https://ex.com/app");
        var local = SafeRedirect.ToLocalPath(input, baseUri);
        Assert.Equal(expected, local);
        Assert.Equal("https://ex.com" + expected, SafeRedirect.ToAbsolute(local!, baseUri));
        Assert.Equal("https://ex.com" + expected, SafeRedirect.ToSameOriginAbsolute(input, baseUri));
    }

    [Theory]
    [InlineData("//\uFF3C")]
    [InlineData("\\/\uFF0F")]
    [InlineData("//\uFEFF/")]
    [InlineData("http://\uFF3C")]
    public void Hosts_IDN_rejects_are_refused_not_thrown(string returnTo)
    {
        Assert.Null(SafeRedirect.ToLocalPath(returnTo, new Uri("https://app.example.com")));
        Assert.Null(SafeRedirect.ToSameOriginAbsolute(returnTo, new Uri("https://app.example.com")));
    }
}
