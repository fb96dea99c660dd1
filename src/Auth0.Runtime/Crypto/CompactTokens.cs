using System.Buffers;
using System.Formats.Cbor;
using System.Text;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// Strings in the compact session payload. A string of exactly three base64url segments (a JWS compact
/// serialisation: header.payload.signature) is written as an array of its three DECODED segments, a quarter smaller,
/// when re-encoding them gives back exactly the same string and the array is the shorter form. Everything else
/// (opaque tokens, non-canonical base64url, any other text) is a CBOR text string.
/// </summary>
internal static class CompactTokens
{
    /// <summary>Writes <paramref name="value"/> as a text string or, when exact and shorter, as decoded JWT segments.</summary>
    public static void Write(CborWriter writer, string value)
    {
        if (!TryWriteSegments(writer, value)) writer.WriteTextString(value);
    }

    private static bool TryWriteSegments(CborWriter writer, string value)
    {
        var first = value.IndexOf('.');
        if (first < 0) return false;
        var second = value.IndexOf('.', first + 1);
        if (second < 0 || value.IndexOf('.', second + 1) >= 0) return false;

        var text = value.AsSpan();
        var a = text[..first];
        var b = text[(first + 1)..second];
        var c = text[(second + 1)..];
        var buffer = ArrayPool<byte>.Shared.Rent(Base64Url.MaxDecodedLength(a.Length) + Base64Url.MaxDecodedLength(b.Length) + Base64Url.MaxDecodedLength(c.Length));
        try
        {
            var span = buffer.AsSpan();
            if (!TryDecodeExact(a, span, out var lengthA)) return false;
            if (!TryDecodeExact(b, span[lengthA..], out var lengthB)) return false;
            if (!TryDecodeExact(c, span[(lengthA + lengthB)..], out var lengthC)) return false;

            // Written only when smaller than the text: 1 byte of array header plus three byte strings.
            var asSegments = 1 + EncodedLength(lengthA) + EncodedLength(lengthB) + EncodedLength(lengthC);
            if (asSegments >= EncodedLength(value.Length)) return false;

            writer.WriteStartArray(3);
            writer.WriteByteString(span[..lengthA]);
            writer.WriteByteString(span.Slice(lengthA, lengthB));
            writer.WriteByteString(span.Slice(lengthA + lengthB, lengthC));
            writer.WriteEndArray();
            return true;
        }
        finally { ArrayPool<byte>.Shared.Return(buffer, clearArray: true); }
    }

    // Decodes one segment and checks that encoding the bytes again gives exactly the same characters (so no padding,
    // no stray bits in the last character, nothing the decoder would quietly accept and the encoder not produce).
    private static bool TryDecodeExact(ReadOnlySpan<char> segment, Span<byte> destination, out int written)
    {
        if (!Base64Url.TryDecode(segment, destination, out written)) return false;
        return Base64Url.Encode(destination[..written]).AsSpan().SequenceEqual(segment);
    }

    // Size of a CBOR byte or text string of `length` bytes: header plus content.
    private static int EncodedLength(int length) => length switch
    {
        < 24 => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        _ => 5,
    } + length;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Reads a definite-length text string, refusing invalid UTF-8 (the payload is read in lax mode, which keeps
    /// duplicate JSON member names but would otherwise let bad UTF-8 through as U+FFFD).
    /// </summary>
    internal static string ReadText(CborReader reader) => StrictUtf8.GetString(reader.ReadDefiniteLengthTextStringBytes().Span);

    /// <summary>Reads a string written by <see cref="Write"/>; false for anything else.</summary>
    public static bool TryRead(CborReader reader, out string value)
    {
        value = "";
        switch (reader.PeekState())
        {
            case CborReaderState.TextString:
                value = ReadText(reader);
                return true;
            case CborReaderState.StartArray:
                if (reader.ReadStartArray() != 3) return false;
                return TryReadSegments(reader, out value);
            default:
                return false;
        }
    }

    /// <summary>After the start of a 3-element array: reads the three byte strings and the end of the array.</summary>
    internal static bool TryReadSegments(CborReader reader, out string value)
    {
        value = "";
        if (!TryReadSegment(reader, out var header) || !TryReadSegment(reader, out var payload) || !TryReadSegment(reader, out var signature))
            return false;
        reader.ReadEndArray();
        value = string.Concat(header, ".", payload, ".", signature);
        return true;
    }

    private static bool TryReadSegment(CborReader reader, out string segment)
    {
        segment = "";
        if (reader.PeekState() != CborReaderState.ByteString) return false;
        segment = Base64Url.Encode(reader.ReadByteString());
        return true;
    }
}
