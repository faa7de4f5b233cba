using System.Globalization;
using System.Text.Json;
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
        var batch = new List<JsonElement>(RowGroupRows);
        using var reader = segment.OpenReader();
        while (true)
        {
            var more = reader.TryRead(out _, out var payload);
            if (more)
            {
                batch.Add(JsonDocument.Parse(payload).RootElement.Clone());
            }

            if (batch.Count == RowGroupRows || (!more && batch.Count > 0))
            {
                await WriteRowGroupAsync(writer, columns, fields, batch).ConfigureAwait(false);
                batch.Clear();
            }

            if (!more)
            {
                break;
            }
        }
    }

    private static async Task WriteRowGroupAsync(ParquetWriter writer, List<Column> columns, DataField[] fields, List<JsonElement> rows)
    {
        using var group = writer.CreateRowGroup();
        for (var c = 0; c < columns.Count; c++)
        {
            var column = columns[c];
            switch (column.Kind)
            {
                case Kind.Bool:
                    var bools = new bool?[rows.Count];
                    for (var r = 0; r < rows.Count; r++)
                    {
                        bools[r] = Get(rows[r], column.Name) is { } e ? e.GetBoolean() : null;
                    }

                    await group.WriteAsync<bool>(fields[c], bools.AsMemory()).ConfigureAwait(false);
                    break;
                case Kind.Long:
                    var longs = new long?[rows.Count];
                    for (var r = 0; r < rows.Count; r++)
                    {
                        longs[r] = Get(rows[r], column.Name) is { } e ? e.GetInt64() : null;
                    }

                    await group.WriteAsync<long>(fields[c], longs.AsMemory()).ConfigureAwait(false);
                    break;
                case Kind.Double:
                    var doubles = new double?[rows.Count];
                    for (var r = 0; r < rows.Count; r++)
                    {
                        doubles[r] = Get(rows[r], column.Name) is { } e ? e.GetDouble() : null;
                    }

                    await group.WriteAsync<double>(fields[c], doubles.AsMemory()).ConfigureAwait(false);
                    break;
                default:
                    var strings = new string?[rows.Count];
                    for (var r = 0; r < rows.Count; r++)
                    {
                        strings[r] = Get(rows[r], column.Name) is { } e ? (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()) : null;
                    }

                    await group.WriteAsync(fields[c], strings!).ConfigureAwait(false);
                    break;
            }
        }

        group.CompleteValidate();
    }
}
