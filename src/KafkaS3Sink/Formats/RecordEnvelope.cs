using System.Buffers;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Wraps a converted value with where it came from (<see cref="KafkaS3SinkOptions.WriteEnvelope"/>):
/// <c>{"topic","partition","offset","timestamp","key","headers":[{"name","value"}],"value"}</c>. Keys and header
/// values are UTF-8 strings, or <c>{"base64": "..."}</c> when they are not valid UTF-8; null stays null. With a
/// key converter the key is what it produced (any JSON value).
/// </summary>
internal static class RecordEnvelope
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="record">The converted record.</param>
    /// <param name="convertedKey">The key as JSON from a key converter; null to write the raw key (UTF-8 string or base64).</param>
    public static byte[] Wrap(SinkRecord record, ReadOnlyMemory<byte>? convertedKey = null)
    {
        var source = record.Source;
        var buffer = new ArrayBufferWriter<byte>(record.Payload.Length + 256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("topic", source.Topic);
            writer.WriteNumber("partition", source.Partition);
            writer.WriteNumber("offset", source.Offset);
            writer.WriteString("timestamp", source.Timestamp.UtcDateTime);
            writer.WritePropertyName("key");
            if (convertedKey is { } key)
            {
                writer.WriteRawValue(key.Span, skipInputValidation: true);
            }
            else
            {
                WriteBytes(writer, source.Key);
            }
            writer.WriteStartArray("headers");
            foreach (var (name, value) in source.Headers)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WritePropertyName("value");
                WriteBytes(writer, value);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WritePropertyName("value");
            writer.WriteRawValue(record.Payload.Span, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteBytes(Utf8JsonWriter writer, ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } value)
        {
            writer.WriteNullValue();
            return;
        }

        try
        {
            writer.WriteStringValue(Strict.GetString(value.Span));
        }
        catch (DecoderFallbackException)
        {
            writer.WriteStartObject();
            writer.WriteBase64String("base64", value.Span);
            writer.WriteEndObject();
        }
    }
}
