using Auth0.Minimal.Crypto;

namespace Auth0.Minimal.Tests.Unit;

/// <summary>Cookie parts and token segments are unpadded base64url: every character must be data.</summary>
public class Base64UrlTests
{
    [Theory]
    [InlineData("", 0)]
    [InlineData("QQ", 1)]
    [InlineData("QUI", 2)]
    [InlineData("QUJD", 3)]
    [InlineData("QUJDQQ", 4)]
    [InlineData("-_-_", 3)]
    public void Unpadded_base64url_decodes(string text, int length)
    {
        var buffer = new byte[8];
        Assert.True(Base64Url.TryDecode(text, buffer, out var written));
        Assert.Equal(length, written);
        Assert.Equal(Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/').PadRight((text.Length + 3) / 4 * 4, '=')), buffer[..written]);
    }

    [Theory]
    [InlineData("Q")]
    [InlineData("QQ==")]
    [InlineData("QUI=")]
    [InlineData("QU+D")]
    [InlineData("QU/D")]
    [InlineData("QU JD")]
    [InlineData("QUJD ")]
    [InlineData(" QUJD")]
    [InlineData("QUJD\n")]
    [InlineData("QU\tJDQQ")]
    [InlineData("QUJDQ\r\n")]
    [InlineData("QUJDQQ  ")]
    [InlineData("QU.D")]
    [InlineData("QUJ\u00e9")]
    public void Anything_but_the_bare_alphabet_is_refused(string text)
    {
        var buffer = new byte[16];
        Assert.False(Base64Url.TryDecode(text, buffer, out var written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void A_destination_too_small_is_refused_not_thrown()
    {
        Assert.False(Base64Url.TryDecode("QUJDQUJD", new byte[5], out var written));
        Assert.Equal(0, written);
    }
}
