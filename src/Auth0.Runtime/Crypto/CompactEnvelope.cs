using System.Formats.Cbor;
using System.Security.Cryptography;
using System.Security.Cryptography.Cose;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// The COSE_Encrypt0 structure of RFC 9052 §5.2 with AES-256-GCM (algorithm 3), untagged:
/// <c>[protected: bstr .cbor {1: 3}, unprotected: {5: IV (12 bytes)}, ciphertext: bstr (ciphertext || 16-byte tag)]</c>.
/// The AAD is the Enc_structure <c>["Encrypt0", protected, h'']</c> of RFC 9052 §5.3. The .NET COSE package has no
/// Encrypt0 API, so the structure is written with <see cref="CborWriter"/> and sealed with <see cref="AesGcm"/>.
/// </summary>
internal static class CompactEnvelope
{
    internal const int IvSize = 12;
    internal const int TagSize = 16;
    /// <summary>COSE algorithm identifier of A256GCM (RFC 9053 §4.1).</summary>
    internal const int A256Gcm = 3;
    private const int AlgorithmLabel = 1;
    private const int IvLabel = 5;

    /// <summary>The COSE "IV" header parameter (label 5, RFC 9052 §3.1).</summary>
    private static readonly CoseHeaderLabel IvHeader = new(IvLabel);

    /// <summary>The serialised protected header <c>{1: 3}</c>; the only one accepted.</summary>
    internal static readonly byte[] ProtectedHeader = EncodeProtectedHeader();

    /// <summary>The Enc_structure, the AAD of every message: the protected header is fixed, so this is too.</summary>
    internal static readonly byte[] EncStructure = EncodeEncStructure();

    private static byte[] EncodeProtectedHeader()
    {
        var algorithm = CoseHeaderValue.FromInt32(A256Gcm);
        var writer = new CborWriter(CborConformanceMode.Canonical);
        writer.WriteStartMap(1);
        writer.WriteInt32(AlgorithmLabel);
        writer.WriteEncodedValue(algorithm.EncodedValue.Span);
        writer.WriteEndMap();
        return writer.Encode();
    }

    private static byte[] EncodeEncStructure()
    {
        var writer = new CborWriter(CborConformanceMode.Canonical);
        writer.WriteStartArray(3);
        writer.WriteTextString("Encrypt0");
        writer.WriteByteString(ProtectedHeader);
        writer.WriteByteString([]);
        writer.WriteEndArray();
        return writer.Encode();
    }

    /// <summary>Encrypts <paramref name="plaintext"/> under <paramref name="key"/> with a fresh random IV.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext)
    {
        Span<byte> iv = stackalloc byte[IvSize];
        RandomNumberGenerator.Fill(iv);
        var sealedBytes = new byte[plaintext.Length + TagSize];
        using (var aes = new AesGcm(key, TagSize))
            aes.Encrypt(iv, plaintext, sealedBytes.AsSpan(0, plaintext.Length), sealedBytes.AsSpan(plaintext.Length), EncStructure);

        var writer = new CborWriter(CborConformanceMode.Canonical, initialCapacity: sealedBytes.Length + 32);
        writer.WriteStartArray(3);
        writer.WriteByteString(ProtectedHeader);
        writer.WriteStartMap(1);
        writer.WriteInt32(IvLabel);
        writer.WriteByteString(iv);
        writer.WriteEndMap();
        writer.WriteByteString(sealedBytes);
        writer.WriteEndArray();
        return writer.Encode();
    }

    /// <summary>
    /// Decrypts an encoded message; null for anything that is not exactly our structure, canonically encoded, with
    /// nothing after it, and authentic under <paramref name="key"/>.
    /// </summary>
    public static byte[]? Open(ReadOnlySpan<byte> key, ReadOnlyMemory<byte> message)
    {
        Span<byte> iv = stackalloc byte[IvSize];
        byte[] sealedBytes;
        try
        {
            var reader = new CborReader(message, CborConformanceMode.Canonical);
            if (reader.ReadStartArray() != 3) return null;
            if (reader.PeekState() != CborReaderState.ByteString) return null;
            if (!reader.ReadByteString().AsSpan().SequenceEqual(ProtectedHeader)) return null;

            var unprotected = ReadHeaderMap(reader);
            if (unprotected is null || unprotected.Count != 1 || !unprotected.TryGetValue(IvHeader, out var ivValue)) return null;
            if (ivValue.GetValueAsBytes(iv) != IvSize) return null;

            if (reader.PeekState() != CborReaderState.ByteString) return null;
            sealedBytes = reader.ReadByteString();
            reader.ReadEndArray();
            if (reader.BytesRemaining != 0) return null;
        }
        catch (Exception e) when (e is CborContentException or InvalidOperationException or ArgumentException or OverflowException)
        {
            return null;
        }
        if (sealedBytes.Length < TagSize) return null;

        var ciphertextLength = sealedBytes.Length - TagSize;
        var plaintext = new byte[ciphertextLength];
        try
        {
            using var aes = new AesGcm(key, TagSize);
            aes.Decrypt(iv, sealedBytes.AsSpan(0, ciphertextLength), sealedBytes.AsSpan(ciphertextLength), plaintext, EncStructure);
            return plaintext;
        }
        catch (CryptographicException)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            return null;
        }
    }

    // A header map (RFC 9052 §3): labels are integers or text strings, values any CBOR data item.
    private static CoseHeaderMap? ReadHeaderMap(CborReader reader)
    {
        if (reader.PeekState() != CborReaderState.StartMap) return null;
        var count = reader.ReadStartMap();
        if (count is not { } entries || entries > 8) return null;
        var map = new CoseHeaderMap();
        for (var i = 0; i < entries; i++)
        {
            CoseHeaderLabel label;
            switch (reader.PeekState())
            {
                case CborReaderState.UnsignedInteger:
                case CborReaderState.NegativeInteger:
                    label = new CoseHeaderLabel(reader.ReadInt32());
                    break;
                case CborReaderState.TextString:
                    label = new CoseHeaderLabel(reader.ReadTextString());
                    break;
                default:
                    return null;
            }
            if (map.ContainsKey(label)) return null;
            map.Add(label, CoseHeaderValue.FromEncodedValue(reader.ReadEncodedValue().Span));
        }
        reader.ReadEndMap();
        return map;
    }
}
