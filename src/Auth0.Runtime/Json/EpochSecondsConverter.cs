using System.Text.Json;
using System.Text.Json.Serialization;

namespace Auth0.Minimal.Json;

/// <summary>A cookie's exp/nbf: an integer number of seconds and nothing else (null included), or the cookie is refused.</summary>
internal sealed class StrictEpochSecondsConverter : JsonConverter<long?>
{
    public override bool HandleNull => true;

    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadSeconds(ref reader);

    internal static long ReadSeconds(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var seconds)
            ? seconds
            : throw new JsonException("exp and nbf must be integers.");

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } seconds) writer.WriteNumberValue(seconds);
        else writer.WriteNullValue();
    }
}

/// <summary>Reads Unix seconds written as an integer, a float or null (JavaScript writers produce all three).</summary>
internal sealed class EpochSecondsConverter : JsonConverter<long?>
{
    public override bool HandleNull => true;

    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadSeconds(ref reader);

    internal static long? ReadSeconds(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number) throw new JsonException("Expected a number of seconds.");
        if (reader.TryGetInt64(out var whole)) return whole;
        var value = reader.GetDouble();
        return double.IsFinite(value) && Math.Abs(value) < 1e15 ? (long)Math.Floor(value) : null;
    }

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteNumberValue(v);
        else writer.WriteNullValue();
    }
}

internal sealed class Auth0UserConverter : JsonConverter<Auth0User>
{
    public override Auth0User Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("user must be an object.");
        return SessionJsonReader.ReadUserObject(ref reader);
    }

    public override void Write(Utf8JsonWriter writer, Auth0User value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, claim) in value.Claims)
        {
            writer.WritePropertyName(name);
            claim.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
