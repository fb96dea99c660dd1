using System.Buffers.Text;

namespace Auth0.Minimal.Crypto;

internal static class Base64Url
{
    private static readonly System.Buffers.SearchValues<char> Alphabet =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);

    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        // The framework decoder throws on foreign characters; untrusted input must only ever yield false.
        if (text.Length % 4 == 1 || text.ContainsAnyExcept(Alphabet)) return false;
        if (destination.Length < MaxDecodedLength(text.Length)) return false;
        try { return System.Buffers.Text.Base64Url.TryDecodeFromChars(text, destination, out written); }
        catch (FormatException) { written = 0; return false; }
    }

    public static int MaxDecodedLength(int chars) => System.Buffers.Text.Base64Url.GetMaxDecodedLength(chars);

    /// <summary>32 random bytes, base64url: the shape of state, nonce and PKCE verifier.</summary>
    public static string RandomToken(int bytes = 32)
    {
        Span<byte> buffer = stackalloc byte[64];
        var slice = buffer[..bytes];
        System.Security.Cryptography.RandomNumberGenerator.Fill(slice);
        return Encode(slice);
    }
}
