using Auth0.Minimal.AspNetCore;

namespace Auth0.Minimal.Tests.Unit;

public class PlainResponsesTests
{
    [Theory]
    [InlineData("https://app.example.com/a?b=c", "https://app.example.com/a?b=c")]
    [InlineData("http://bücher.example/c", "http://xn--bcher-kva.example/c")]
    [InlineData("https://idp.example.com:8443/ü?x=é", "https://idp.example.com:8443/%C3%BC?x=%C3%A9")]
    [InlineData("/p\r\nSet-Cookie: x=1", "/p%0D%0ASet-Cookie:%20x=1")]
    [InlineData("/emoji/😀", "/emoji/%F0%9F%98%80")]
    public void Location_values_are_plain_ASCII(string location, string expected)
    {
        var ascii = PlainResponses.AsciiLocation(location);
        Assert.Equal(expected, ascii);
        Assert.All(ascii, c => Assert.InRange(c, '!', '~'));
    }
}
