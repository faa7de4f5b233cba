using System.Buffers;
using System.Formats.Cbor;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.Converters;

/// <summary>
/// The value converters the sink ships, as in Kafka Connect. Each produces a JSON payload (so every output
/// format works) and, where the value has structure, a view partitioners can read.
/// </summary>
public static class RecordConverters
{
    /// <summary>Schemaless JSON (<c>JsonConverter</c>, <c>schemas.enable=false</c>). The default.</summary>
    /// <returns>The converter.</returns>
    public static IRecordConverter Json() => new JsonRecordConverter();

    /// <summary>
    /// Kafka Connect's JSON envelope (<c>JsonConverter</c>, <c>schemas.enable=true</c>): <c>{"schema": ..., "payload": ...}</c>.
    /// The payload is written; the schema is dropped (Parquet output infers its own).
    /// </summary>
    /// <returns>The converter.</returns>
    public static IRecordConverter JsonWithSchemaEnvelope() => new EnvelopeJsonConverter();

    /// <summary>UTF-8 strings (<c>StringConverter</c>), written as JSON strings.</summary>
    /// <returns>The converter.</returns>
    public static IRecordConverter Utf8String() => new StringRecordConverter();

    /// <summary>Raw bytes (<c>ByteArrayConverter</c>), written as base64 JSON strings.</summary>
    /// <returns>The converter.</returns>
    public static IRecordConverter Bytes() => new BytesRecordConverter();

    /// <summary>CBOR (RFC 8949) values, written as JSON: maps become objects, byte strings base64, tags unwrapped.</summary>
    /// <returns>The converter.</returns>
    public static IRecordConverter Cbor() => new CborRecordConverter();

    /// <summary>The value bytes; a tombstone here means the sink's NullValues handling was bypassed.</summary>
    internal static ReadOnlyMemory<byte> ValueOf(KafkaRecord record)
        => record.Value ?? throw new RecordConversionException(record, "the value is null (a tombstone); the sink handles tombstones before conversion (NullValues).");

    private sealed class EnvelopeJsonConverter : IRecordConverter
    {
        private readonly JsonRecordConverter json = new();

        public SinkRecord Convert(KafkaRecord record)
        {
            var outer = json.Convert(record);
            var root = (JsonElement)outer.Value!;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("payload", out var payload) || !root.TryGetProperty("schema", out _))
            {
                throw new RecordConversionException(record, "schemas.enable=true needs {\"schema\": ..., \"payload\": ...}; the value has no such envelope.");
            }

            return new SinkRecord(record, JsonSerializer.SerializeToUtf8Bytes(payload), payload);
        }
    }

    private sealed class StringRecordConverter : IRecordConverter
    {
        private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public SinkRecord Convert(KafkaRecord record)
        {
            string text;
            try
            {
                text = Strict.GetString(ValueOf(record).Span);
            }
            catch (DecoderFallbackException ex)
            {
                throw new RecordConversionException(record, "the value is not valid UTF-8.", ex);
            }

            return new SinkRecord(record, JsonSerializer.SerializeToUtf8Bytes(text), text);
        }
    }

    private sealed class BytesRecordConverter : IRecordConverter
    {
        public SinkRecord Convert(KafkaRecord record)
        {
            var bytes = ValueOf(record);
            return new SinkRecord(record, JsonSerializer.SerializeToUtf8Bytes(System.Convert.ToBase64String(bytes.Span)), bytes);
        }
    }

    private sealed class CborRecordConverter : IRecordConverter
    {
        public SinkRecord Convert(KafkaRecord record)
        {
            var buffer = new ArrayBufferWriter<byte>();
            try
            {
                var reader = new CborReader(ValueOf(record), CborConformanceMode.Lax);
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    Copy(reader, writer);
                }

                if (reader.BytesRemaining > 0)
                {
                    throw new RecordConversionException(record, $"the value holds more than one CBOR item ({reader.BytesRemaining} bytes left).");
                }
            }
            catch (Exception ex) when (ex is CborContentException or InvalidOperationException or FormatException)
            {
                throw new RecordConversionException(record, $"the value is not valid CBOR ({ex.Message}).", ex);
            }

            var payload = buffer.WrittenMemory.ToArray();
            var reader2 = new Utf8JsonReader(payload);
            return new SinkRecord(record, payload, JsonElement.ParseValue(ref reader2));
        }

        private static void Copy(CborReader reader, Utf8JsonWriter writer)
        {
            switch (reader.PeekState())
            {
                case CborReaderState.StartMap:
                    var pairs = reader.ReadStartMap();
                    writer.WriteStartObject();
                    for (var i = 0; pairs is null ? reader.PeekState() != CborReaderState.EndMap : i < pairs; i++)
                    {
                        writer.WritePropertyName(KeyText(reader));
                        Copy(reader, writer);
                    }

                    reader.ReadEndMap();
                    writer.WriteEndObject();
                    break;
                case CborReaderState.StartArray:
                    var items = reader.ReadStartArray();
                    writer.WriteStartArray();
                    for (var i = 0; items is null ? reader.PeekState() != CborReaderState.EndArray : i < items; i++)
                    {
                        Copy(reader, writer);
                    }

                    reader.ReadEndArray();
                    writer.WriteEndArray();
                    break;
                case CborReaderState.UnsignedInteger:
                    writer.WriteNumberValue(reader.ReadUInt64());
                    break;
                case CborReaderState.NegativeInteger:
                    writer.WriteNumberValue(reader.ReadInt64());
                    break;
                case CborReaderState.TextString:
                    writer.WriteStringValue(reader.ReadTextString());
                    break;
                case CborReaderState.ByteString:
                    writer.WriteBase64StringValue(reader.ReadByteString());
                    break;
                case CborReaderState.Boolean:
                    writer.WriteBooleanValue(reader.ReadBoolean());
                    break;
                case CborReaderState.Null:
                    reader.ReadNull();
                    writer.WriteNullValue();
                    break;
                case CborReaderState.Undefined:
                    reader.ReadSimpleValue();
                    writer.WriteNullValue();
                    break;
                case CborReaderState.HalfPrecisionFloat or CborReaderState.SinglePrecisionFloat or CborReaderState.DoublePrecisionFloat:
                    var d = reader.ReadDouble();
                    if (double.IsFinite(d))
                    {
                        writer.WriteNumberValue(d);
                    }
                    else
                    {
                        writer.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                    }

                    break;
                case CborReaderState.Tag:
                    // Tags (dates, bignums, ...) are unwrapped: the tagged item is written as is.
                    reader.ReadTag();
                    Copy(reader, writer);
                    break;
                case CborReaderState.SimpleValue:
                    writer.WriteNumberValue((int)reader.ReadSimpleValue());
                    break;
                default:
                    throw new FormatException($"unexpected CBOR item {reader.PeekState()}.");
            }
        }

        private static string KeyText(CborReader reader) => reader.PeekState() switch
        {
            CborReaderState.TextString => reader.ReadTextString(),
            CborReaderState.UnsignedInteger => reader.ReadUInt64().ToString(CultureInfo.InvariantCulture),
            CborReaderState.NegativeInteger => reader.ReadInt64().ToString(CultureInfo.InvariantCulture),
            CborReaderState.ByteString => System.Convert.ToBase64String(reader.ReadByteString()),
            CborReaderState.Boolean => reader.ReadBoolean() ? "true" : "false",
            var other => throw new FormatException($"map keys of type {other} are not supported."),
        };
    }
}
