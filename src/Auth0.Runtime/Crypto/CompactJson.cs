using System.Buffers;
using System.Formats.Cbor;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Auth0.Minimal.Crypto;

/// <summary>
/// Generic JSON values (claims, custom fields) in the compact session payload, without reflection: object → map with
/// text keys, array → array, string → text (or decoded JWT segments, see <see cref="CompactTokens"/>), integer → int,
/// other number → the smallest float that holds it exactly, true/false/null → simple values. A value whose JSON text
/// would not come back byte for byte (a number such as <c>1.50</c> or <c>1e3</c>, or a string with an unpaired
/// surrogate escape) is kept verbatim as text under <see cref="RawJsonTag"/>.
/// </summary>
internal static class CompactJson
{
    /// <summary>Tag on a text string holding one JSON value verbatim. Private to this format: only this library reads the payload.</summary>
    internal const CborTag RawJsonTag = (CborTag)0x4A53;

    /// <summary>Containers nested deeper than this inside one value make the payload unreadable (as the JSON format's 64).</summary>
    internal const int MaxDepth = 64;

    public static void Write(CborWriter writer, JsonElement value)
    {
        if (!IsReadable(value))
        {
            WriteRaw(writer, value.GetRawText());
            return;
        }
        WriteValue(writer, value);
    }

    private static void WriteValue(CborWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var count = 0;
                foreach (var _ in value.EnumerateObject()) count++;
                writer.WriteStartMap(count);
                foreach (var property in value.EnumerateObject())
                {
                    writer.WriteTextString(property.Name);
                    WriteValue(writer, property.Value);
                }
                writer.WriteEndMap();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray(value.GetArrayLength());
                foreach (var item in value.EnumerateArray()) WriteValue(writer, item);
                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                CompactTokens.Write(writer, value.GetString()!);
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, value);
                break;
            case JsonValueKind.True:
                writer.WriteBoolean(true);
                break;
            case JsonValueKind.False:
                writer.WriteBoolean(false);
                break;
            case JsonValueKind.Null:
                writer.WriteNull();
                break;
            default:
                throw new InvalidOperationException("A JSON value of kind " + value.ValueKind + " cannot be stored in a session.");
        }
    }

    private static void WriteNumber(CborWriter writer, JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        Span<byte> text = stackalloc byte[32];
        if (value.TryGetInt64(out var integer) && integer.TryFormat(text, out var length, default, CultureInfo.InvariantCulture) && raw.SequenceEqual(text[..length]))
        {
            writer.WriteInt64(integer);
            return;
        }
        if (value.TryGetUInt64(out var large) && large.TryFormat(text, out length, default, CultureInfo.InvariantCulture) && raw.SequenceEqual(text[..length]))
        {
            writer.WriteUInt64(large);
            return;
        }
        if (value.TryGetDouble(out var number) && TryFormat(number, text, out length) && raw.SequenceEqual(text[..length]))
        {
            if ((double)(Half)number == number) writer.WriteHalf((Half)number);
            else if ((double)(float)number == number) writer.WriteSingle((float)number);
            else writer.WriteDouble(number);
            return;
        }
        WriteRaw(writer, Encoding.UTF8.GetString(raw));
    }

    private static void WriteRaw(CborWriter writer, string json)
    {
        writer.WriteTag(RawJsonTag);
        writer.WriteTextString(json);
    }

    // The one spelling of a finite double on both sides: the shortest text that parses back to it.
    private static bool TryFormat(double number, Span<byte> destination, out int length)
    {
        length = 0;
        return double.IsFinite(number) && number.TryFormat(destination, out length, "R", CultureInfo.InvariantCulture);
    }

    // Only escapes can hide an unpaired surrogate (the parser already rejected bad UTF-8), so most values are checked
    // by one scan of their raw text.
    private static bool IsReadable(JsonElement value)
    {
        if (value.ValueKind is JsonValueKind.Undefined) return true; // WriteValue refuses it
        if (JsonMarshal.GetRawUtf8Value(value).IndexOf((byte)'\\') < 0) return true;
        try
        {
            EnsureReadable(value);
            return true;
        }
        catch (InvalidOperationException) { return false; }
    }

    private static void EnsureReadable(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String: _ = value.GetString(); break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray()) EnsureReadable(item);
                break;
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject()) { _ = property.Name; EnsureReadable(property.Value); }
                break;
        }
    }

    /// <summary>Reads one value written by <see cref="Write"/> into <paramref name="json"/>; false for anything else.</summary>
    public static bool TryRead(CborReader reader, Utf8JsonWriter json, int depth = 0)
    {
        switch (reader.PeekState())
        {
            case CborReaderState.StartMap:
                if (depth >= MaxDepth) return false;
                reader.ReadStartMap();
                json.WriteStartObject();
                while (reader.PeekState() != CborReaderState.EndMap)
                {
                    if (reader.PeekState() != CborReaderState.TextString) return false;
                    json.WritePropertyName(CompactTokens.ReadText(reader));
                    if (!TryRead(reader, json, depth + 1)) return false;
                }
                reader.ReadEndMap();
                json.WriteEndObject();
                return true;
            case CborReaderState.StartArray:
                var length = reader.ReadStartArray();
                // JSON never becomes a byte string, so an array that starts with one is a JWT.
                if (reader.PeekState() == CborReaderState.ByteString)
                {
                    if (length != 3 || !CompactTokens.TryReadSegments(reader, out var token)) return false;
                    json.WriteStringValue(token);
                    return true;
                }
                if (depth >= MaxDepth) return false;
                json.WriteStartArray();
                while (reader.PeekState() != CborReaderState.EndArray)
                    if (!TryRead(reader, json, depth + 1)) return false;
                reader.ReadEndArray();
                json.WriteEndArray();
                return true;
            case CborReaderState.TextString:
                json.WriteStringValue(CompactTokens.ReadText(reader));
                return true;
            case CborReaderState.UnsignedInteger:
                json.WriteNumberValue(reader.ReadUInt64());
                return true;
            case CborReaderState.NegativeInteger:
                json.WriteNumberValue(reader.ReadInt64());
                return true;
            case CborReaderState.HalfPrecisionFloat:
            case CborReaderState.SinglePrecisionFloat:
            case CborReaderState.DoublePrecisionFloat:
                Span<byte> text = stackalloc byte[32];
                if (!TryFormat(reader.ReadDouble(), text, out var written)) return false;
                json.WriteRawValue(text[..written], skipInputValidation: true);
                return true;
            case CborReaderState.Boolean:
                json.WriteBooleanValue(reader.ReadBoolean());
                return true;
            case CborReaderState.Null:
                reader.ReadNull();
                json.WriteNullValue();
                return true;
            case CborReaderState.Tag:
                if (reader.ReadTag() != RawJsonTag || reader.PeekState() != CborReaderState.TextString) return false;
                var raw = Encoding.UTF8.GetBytes(CompactTokens.ReadText(reader));
                if (!IsReadableJson(raw)) return false;
                json.WriteRawValue(raw, skipInputValidation: false);
                return true;
            default:
                return false;
        }
    }

    // A verbatim value must be one JSON value whose strings all become .NET strings, or later reads would throw.
    private static bool IsReadableJson(ReadOnlySpan<byte> raw)
    {
        try
        {
            var reader = new Utf8JsonReader(raw, new JsonReaderOptions { MaxDepth = MaxDepth });
            while (reader.Read())
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) _ = reader.GetString();
            return true;
        }
        catch (JsonException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}

/// <summary>Collects the text-keyed members of one CBOR map into a dictionary of JSON values, parsed once at the end.</summary>
internal sealed class CompactJsonMembers
{
    private ArrayBufferWriter<byte>? _buffer;
    private Utf8JsonWriter? _writer;

    public bool IsEmpty => _writer is null;

    /// <summary>Reads the value at the reader as member <paramref name="name"/>.</summary>
    public bool TryAdd(string name, CborReader reader)
    {
        if (_writer is null)
        {
            _buffer = new ArrayBufferWriter<byte>(256);
            _writer = new Utf8JsonWriter(_buffer);
            _writer.WriteStartObject();
        }
        _writer.WritePropertyName(name);
        return CompactJson.TryRead(reader, _writer);
    }

    /// <summary>The members in the order read; false when a name came twice.</summary>
    public bool TryBuild(out Dictionary<string, JsonElement> members)
    {
        members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (_writer is null) return true;
        _writer.WriteEndObject();
        _writer.Flush();
        var reader = new Utf8JsonReader(_buffer!.WrittenSpan, new JsonReaderOptions { MaxDepth = CompactJson.MaxDepth + 2 });
        var root = JsonElement.ParseValue(ref reader);
        foreach (var member in root.EnumerateObject())
            if (!members.TryAdd(member.Name, member.Value)) return false;
        return true;
    }
}
