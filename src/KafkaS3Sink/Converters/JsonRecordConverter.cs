using System.Text.Json;

namespace KafkaS3Sink.Converters;

/// <summary>
/// Schemaless JSON values (Kafka Connect's JsonConverter with <c>schemas.enable=false</c>): the value
/// must be one well-formed JSON document; it is staged as produced and exposed as a
/// <see cref="JsonElement"/> for partitioners.
/// </summary>
internal sealed class JsonRecordConverter : IRecordConverter
{
    /// <summary>Parse every value at once (the partitioner reads fields), instead of validating and parsing on demand.</summary>
    public bool ParseEagerly { get; init; }

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 };

    private static JsonElement Parse(ReadOnlyMemory<byte> value)
    {
        var reader = new Utf8JsonReader(value.Span, ReaderOptions);
        return JsonElement.ParseValue(ref reader);
    }

    public SinkRecord Convert(KafkaRecord record)
    {
        if (record.Value is not { } value)
        {
            throw new RecordConversionException(record, "the value is null (a tombstone); the sink handles tombstones before conversion (NullValues).");
        }

        if (ParseEagerly)
        {
            return ConvertEagerly(record, value);
        }

        // Validate without building a document (no allocation); the JsonElement is built only if a
        // partitioner reads the value.
        try
        {
            var reader = new Utf8JsonReader(value.Span, ReaderOptions);
            reader.Read();
            reader.Skip();

            // Reading past the document throws (reported below) when anything but whitespace follows it.
            _ = reader.Read();
        }
        catch (JsonException ex)
        {
            throw new RecordConversionException(record, $"the value is not valid JSON ({ex.Message}).", ex);
        }

        // JSON lines need one line per record: re-serialize only documents that contain raw newlines
        // (pretty-printed input); compact input is staged as produced.
        if (value.Span.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            var element = Parse(value);
            return new SinkRecord(record, JsonSerializer.SerializeToUtf8Bytes(element), element);
        }

        return SinkRecord.WithLazyValue(record, value, () => Parse(value));
    }

    /// <summary>One pass: parsing validates too.</summary>
    private static SinkRecord ConvertEagerly(KafkaRecord record, ReadOnlyMemory<byte> value)
    {
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

        var payload = value.Span.IndexOfAny((byte)'\n', (byte)'\r') >= 0 ? JsonSerializer.SerializeToUtf8Bytes(element) : value;
        return new SinkRecord(record, payload, element);
    }
}
