using Parquet;
using Parquet.Schema;
using static KafkaS3Sink.Formats.JsonSchemaInference;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Writes a sealed segment of JSON records as Parquet, with the schema inferred from the records. The
/// segment is read twice: first every record's top-level fields are merged into one schema (so a field
/// that appears late is not lost), then the rows are written in row groups of at most <see cref="RowGroupRows"/>
/// rows, so memory is bounded by one row group.
/// </summary>
/// <remarks>
/// Column types: JSON booleans → BOOLEAN, integers → INT64, other numbers → DOUBLE, strings → STRING,
/// objects and arrays → STRING holding their JSON text. Every column is nullable (a record without the field
/// has null). When records disagree on a field's type, integers and doubles merge to DOUBLE; any other
/// conflict makes the column STRING holding each value's JSON text (strings unquoted), so no value is lost.
/// A record that is not a JSON object is written in a column named <c>_value</c> as JSON text.
/// Records staged as Avro binary (from an Avro converter) take their columns from the writer schema instead
/// (<see cref="AvroParquet"/>).
/// </remarks>
internal sealed class ParquetFormat(OutputCompression compression) : IObjectFormat
{
    internal const int RowGroupRows = 10_000;

    /// <summary>
    /// The rows of a row group for <paramref name="segment"/>: <see cref="RowGroupRows"/>, or fewer when the segment
    /// holds fewer records (a small object does not allocate column arrays for 10,000 rows).
    /// </summary>
    internal static int RowGroupCapacity(ISealedSegment segment) => (int)Math.Clamp(segment.RecordCount, 1, RowGroupRows);

    public string Extension => compression switch
    {
        OutputCompression.Gzip => "gz.parquet",
        OutputCompression.Zstd => "zstd.parquet",
        OutputCompression.Snappy => "snappy.parquet",
        _ => "parquet",
    };

    public string ContentType => "application/vnd.apache.parquet";

    public void Write(ISealedSegment segment, string? avroSchema, Stream destination) =>
        (avroSchema is null ? WriteAsync(segment, destination) : AvroParquet.WriteAsync(segment, Avro.Schema.Parse(avroSchema), destination, Options()))
            .GetAwaiter().GetResult();

    private ParquetOptions Options() => new()
    {
        CompressionMethod = compression switch
        {
            OutputCompression.Gzip => CompressionMethod.Gzip,
            OutputCompression.Zstd => CompressionMethod.Zstd,
            OutputCompression.Snappy => CompressionMethod.Snappy,
            _ => CompressionMethod.None,
        },
    };

    private async Task WriteAsync(ISealedSegment segment, Stream destination)
    {
        var columns = InferColumns(segment);
        var fields = columns.Select(c => c.Kind switch
        {
            Kind.Bool => (DataField)new DataField<bool?>(c.Name),
            Kind.Long => new DataField<long?>(c.Name),
            Kind.Double => new DataField<double?>(c.Name),
            _ => new DataField<string>(c.Name),
        }).ToArray();
        var schema = new ParquetSchema(fields);
        await using var writer = await ParquetWriter.CreateAsync(schema, destination, Options()).ConfigureAwait(false);
        var capacity = RowGroupCapacity(segment);
        using var rows = new JsonColumns(columns, capacity);
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            if (rows.Add(payload.Span) == capacity)
            {
                await WriteRowGroupAsync(writer, fields, rows).ConfigureAwait(false);
            }
        }

        if (rows.Count > 0)
        {
            await WriteRowGroupAsync(writer, fields, rows).ConfigureAwait(false);
        }
    }

    private static async Task WriteRowGroupAsync(ParquetWriter writer, DataField[] fields, JsonColumns rows)
    {
        using (var group = writer.CreateRowGroup())
        {
            for (var c = 0; c < fields.Length; c++)
            {
                switch (rows.Values[c])
                {
                    case bool?[] bools:
                        await group.WriteAsync<bool>(fields[c], bools.AsMemory(0, rows.Count)).ConfigureAwait(false);
                        break;
                    case long?[] longs:
                        await group.WriteAsync<long>(fields[c], longs.AsMemory(0, rows.Count)).ConfigureAwait(false);
                        break;
                    case double?[] doubles:
                        await group.WriteAsync<double>(fields[c], doubles.AsMemory(0, rows.Count)).ConfigureAwait(false);
                        break;
                    case ReadOnlyMemory<char>?[] texts:
                        await group.WriteAsync<ReadOnlyMemory<char>>(fields[c], texts.AsMemory(0, rows.Count)).ConfigureAwait(false);
                        break;
                }
            }

            group.CompleteValidate();
        }

        rows.Clear();
    }
}
