using System.Text;
using System.Text.Json;
using Avro;
using Avro.File;
using Avro.Generic;
using static KafkaS3Sink.Formats.JsonSchemaInference;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Writes a sealed segment of JSON records as an Avro object container file, with the record schema inferred
/// from the records (the same two passes and type rules as Parquet). Every field is <c>["null", type]</c>
/// with default null. Field names are made valid Avro names (other characters become <c>_</c>, a leading
/// digit gets a <c>_</c> prefix, clashes get a numeric suffix); the original JSON name is the field's <c>doc</c>.
/// Records that came from an Avro converter are written with their writer schema instead, unchanged.
/// </summary>
internal sealed class AvroFormat(OutputCompression compression) : IObjectFormat
{
    public string Extension => "avro";

    public string ContentType => "application/avro";

    public void Write(ISealedSegment segment, string? avroSchema, Stream destination)
    {
        if (avroSchema is not null)
        {
            WriteRaw(segment, Schema.Parse(avroSchema), destination);
            return;
        }

        var columns = InferColumns(segment);
        var names = AvroNames(columns);
        var schema = (RecordSchema)Schema.Parse(SchemaJson(columns, names));
        var codec = CodecFor(compression);
        using var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), new NonClosingStream(destination), codec);
        using var row = new JsonColumns(columns, 1);
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            row.Add(payload.Span);
            var record = new GenericRecord(schema);
            for (var c = 0; c < columns.Count; c++)
            {
                record.Add(names[c], row.Value(c, 0));
            }

            row.Clear();
            writer.Append(record);
        }
    }

    /// <summary>
    /// Records staged as Avro binary with their writer schema: the file takes that schema and the datums are
    /// copied into its blocks unchanged (no decoding, nothing lost).
    /// </summary>
    private void WriteRaw(ISealedSegment segment, Schema schema, Stream destination)
    {
        using var writer = DataFileWriter<byte[]>.OpenWriter(new RawDatumWriter(schema), new NonClosingStream(destination), CodecFor(compression));
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            writer.Append(payload.ToArray());
        }
    }

    /// <summary>Gzip is Avro's <c>deflate</c> codec (the same algorithm without the gzip header).</summary>
    internal static Codec CodecFor(OutputCompression compression) => compression switch
    {
        OutputCompression.Gzip => Codec.CreateCodec(Codec.Type.Deflate),
        OutputCompression.Snappy => new AvroSnappyCodec(),
        OutputCompression.Zstd => new AvroZstandardCodec(),
        _ => Codec.CreateCodec(Codec.Type.Null),
    };

    /// <summary>Writes a datum that is already Avro binary for <see cref="Schema"/>.</summary>
    private sealed class RawDatumWriter(Schema schema) : DatumWriter<byte[]>
    {
        public Schema Schema { get; } = schema;

        public void Write(byte[] datum, Avro.IO.Encoder encoder) => encoder.WriteFixed(datum);
    }

    private static string SchemaJson(List<Column> columns, string[] names)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("type", "record");
            json.WriteString("name", "Record");
            json.WriteString("namespace", "kafkas3sink");
            json.WriteStartArray("fields");
            for (var c = 0; c < columns.Count; c++)
            {
                json.WriteStartObject();
                json.WriteString("name", names[c]);
                json.WriteString("doc", columns[c].Name);
                json.WriteStartArray("type");
                json.WriteStringValue("null");
                json.WriteStringValue(columns[c].Kind switch
                {
                    Kind.Bool => "boolean",
                    Kind.Long => "long",
                    Kind.Double => "double",
                    _ => "string",
                });
                json.WriteEndArray();
                json.WriteNull("default");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string[] AvroNames(List<Column> columns)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var names = new string[columns.Count];
        for (var c = 0; c < columns.Count; c++)
        {
            var sb = new StringBuilder(columns[c].Name.Length + 1);
            foreach (var ch in columns[c].Name)
            {
                sb.Append(char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '_');
            }

            if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
            {
                sb.Insert(0, '_');
            }

            var name = sb.ToString();
            for (var n = 2; !used.Add(name); n++)
            {
                name = sb + "_" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            names[c] = name;
        }

        return names;
    }
}
