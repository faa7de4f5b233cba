using System.Text.Json;

namespace KafkaS3Sink.Converters;

/// <summary>
/// Schemaless JSON values (Kafka Connect's JsonConverter with <c>schemas.enable=false</c>): the value
/// must be one well-formed JSON document; it is staged as produced and exposed as a
/// <see cref="JsonElement"/> for partitioners.
/// </summary>
internal sealed class JsonRecordConverter : IRecordConverter
{
    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 };

    public SinkRecord Convert(KafkaRecord record)
    {
        if (record.Value is not { } value)
        {
            throw new RecordConversionException(record, "the value is null (a tombstone); the sink handles tombstones before conversion (NullValues).");
        }

        JsonElement element;
        try
        {
            var reader = new Utf8JsonReader(value.Span, ReaderOptions);
            element = JsonElement.ParseValue(ref reader);

            // Reading past the document throws (reported below) when anything but whitespace follows it.
            _ = reader.Read();
        }
        catch (JsonException ex)
        {
            throw new RecordConversionException(record, $"the value is not valid JSON ({ex.Message}).", ex);
        }

        // JSON lines need one line per record: re-serialize only documents that contain raw newlines
        // (pretty-printed input); compact input is staged as produced.
        var payload = value.Span.IndexOfAny((byte)'\n', (byte)'\r') >= 0
            ? JsonSerializer.SerializeToUtf8Bytes(element)
            : value;
        return new SinkRecord(record, payload, element);
    }
}
