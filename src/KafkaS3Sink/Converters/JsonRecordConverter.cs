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

    /// <summary>
    /// The fields the partitioner reads, when that is all it reads of the value: found in the validating pass,
    /// so partitioning parses nothing (<see cref="JsonFieldCapture"/>). Ignored when <see cref="ParseEagerly"/>.
    /// </summary>
    public JsonFieldCapture? Fields { get; init; }

    /// <summary>
    /// Return one <see cref="SinkRecord"/>, reset for every record, instead of a new one each time (no allocation per
    /// record). Only when no record outlives the next <see cref="Convert"/>: the sink's built-in partitioners, which
    /// read a record and keep nothing of it. Ignored when <see cref="ParseEagerly"/>.
    /// </summary>
    public bool ReuseRecords { get; init; }

    private SinkRecord? reused;

    private static readonly JsonReaderOptions ReaderOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 };

    /// <summary>The value as a <see cref="JsonElement"/> (it was validated when converted).</summary>
    internal static JsonElement Parse(ReadOnlyMemory<byte> value)
    {
        var reader = new Utf8JsonReader(value.Span, ReaderOptions);
        return JsonElement.ParseValue(ref reader);
    }

    private static int InvalidUtf8At(ReadOnlySpan<byte> span)
    {
        var offset = 0;
        Span<char> chars = stackalloc char[256];
        while (offset < span.Length)
        {
            var status = System.Text.Unicode.Utf8.ToUtf16(span[offset..], chars, out var read, out _, replaceInvalidSequences: false);
            offset += read;
            if (status == System.Buffers.OperationStatus.InvalidData || status == System.Buffers.OperationStatus.NeedMoreData)
            {
                return offset;
            }
        }

        return offset;
    }

    public SinkRecord Convert(KafkaRecord record)
    {
        var value = RecordConverters.ValueOf(record);

        // The reader checks JSON syntax, not the UTF-8 inside strings: bytes that are not UTF-8 would reach the
        // object as they are and make it unreadable for JSON readers (Athena, DuckDB, Spark).
        if (!System.Text.Unicode.Utf8.IsValid(value.Span))
        {
            throw new RecordConversionException(record, $"the value is not valid UTF-8 (at byte {InvalidUtf8At(value.Span)}), so it is not JSON.");
        }

        // Validated only (the partitioner reads no field): one lean pass decides almost every value; what it leaves
        // open, and every invalid value, goes to the reader below, whose verdict and message count.
        if (!ParseEagerly && Fields is null && JsonSyntax.IsDocument(value.Span, out var lineBreak) && !lineBreak)
        {
            return Lazy(record, value);
        }

        // Eagerly, parsing validates too (one pass). Lazily, validate without building a document (no
        // allocation); the JsonElement is built only if a partitioner reads the value.
        JsonElement? element = null;
        try
        {
            var reader = new Utf8JsonReader(value.Span, ReaderOptions);
            if (ParseEagerly)
            {
                element = JsonElement.ParseValue(ref reader);
            }
            else if (Fields is { } fields)
            {
                fields.Scan(ref reader, value);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }

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
            var parsed = element ?? Parse(value);
            return new SinkRecord(record, JsonSerializer.SerializeToUtf8Bytes(parsed), parsed);
        }

        if (element is { } e)
        {
            return new SinkRecord(record, value, e);
        }

        return Lazy(record, value);
    }

    private SinkRecord Lazy(KafkaRecord record, ReadOnlyMemory<byte> value)
        => ReuseRecords ? (reused ??= new SinkRecord(record, value, null)).SetLazyJson(record, value, Fields) : SinkRecord.WithLazyJson(record, value, Fields);
}
