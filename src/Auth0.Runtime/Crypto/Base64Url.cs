using System.Buffers.Text;

namespace Auth0.Minimal.Crypto;

internal static class Base64Url
{
    public static string Encode(ReadOnlySpan<byte> data) => System.Buffers.Text.Base64Url.EncodeToString(data);

    public static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written)
    {
        written = 0;
        if (text.Length % 4 == 1) return false;
        var exact = text.Length / 4 * 3 + (text.Length % 4 == 0 ? 0 : text.Length % 4 - 1);
        if (destination.Length < exact) return false;
        // The framework decoder skips whitespace and accepts '=' padding; both make the output shorter than every
        // character being data, so an exact length is what keeps this to the bare alphabet, without a second scan.
        var status = System.Buffers.Text.Base64Url.DecodeFromChars(text, destination, out var consumed, out written);
        if (status == System.Buffers.OperationStatus.Done && consumed == text.Length && written == exact) return true;
        written = 0;
        return false;
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
