using System.Globalization;
using Avro;
using Avro.Generic;
using Avro.IO;
using Parquet;
using Parquet.Schema;
using Parquet.Serialization;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Parquet from records staged as Avro binary, with the columns taken from the writer schema instead of
/// inferred. Row groups of <see cref="ParquetFormat.RowGroupRows"/> rows, as for JSON records.
/// </summary>
/// <remarks>
/// Mapping: boolean, int, long, float, double, string, bytes → the same Parquet types; enum → STRING;
/// fixed → BINARY; <c>["null", T]</c> → optional T (every other field is required); record → a struct
/// group; array → a list; map → a map with string keys; logical <c>date</c> → DATE, <c>timestamp-millis</c>
/// / <c>-micros</c> → TIMESTAMP (UTC) in the same unit, <c>local-timestamp-*</c> → TIMESTAMP (not UTC),
/// <c>decimal</c> with precision ≤ 28 → DECIMAL(p, s), <c>uuid</c> → STRING. Anything else (unions of
/// several non-null types, wider decimals, times of day, unknown logical types) → STRING holding the value
/// as JSON text (see <see cref="AvroJson"/>): nothing is dropped. A schema that is not a record is one column, <c>value</c>.
/// </remarks>
internal static class AvroParquet
{
    public static async Task WriteAsync(ISealedSegment segment, Schema schema, Stream destination, ParquetOptions options)
    {
        var columns = schema is RecordSchema record
            ? record.Fields.Select(f => Map(f.Name, f.Schema, nullable: false)).ToArray()
            : [Map("value", schema, nullable: false)];
        var parquetSchema = new ParquetSchema(columns.Select(c => c.Field).ToArray());
        var datumReader = new GenericDatumReader<object>(schema, schema);
        var rows = new List<IDictionary<string, object?>>(ParquetFormat.RowGroupRows);
        var first = true;
        using var reader = segment.OpenReader();
        while (true)
        {
            var more = reader.TryRead(out _, out var payload);
            if (more)
            {
                using var input = new MemoryStream(payload.ToArray(), writable: false);
                var datum = datumReader.Read(null!, new BinaryDecoder(input));
                var row = new Dictionary<string, object?>(columns.Length, StringComparer.Ordinal);
                if (datum is GenericRecord g)
                {
                    for (var c = 0; c < columns.Length; c++)
                    {
                        row[columns[c].Field.Name] = columns[c].Convert(g.GetValue(c));
                    }
                }
                else
                {
                    row[columns[0].Field.Name] = columns[0].Convert(datum);
                }

                rows.Add(row);
            }

            if (rows.Count == ParquetFormat.RowGroupRows || (!more && (rows.Count > 0 || first)))
            {
                options.Append = !first;
                await ParquetSerializer.SerializeUntypedAsync(rows, parquetSchema, destination, options).ConfigureAwait(false);
                first = false;
                rows.Clear();
            }

            if (!more)
            {
                break;
            }
        }
    }

    private static Column Map(string name, Schema schema, bool nullable)
    {
        switch (schema)
        {
            case UnionSchema union:
                var branches = union.Schemas.Where(s => s.Tag != Schema.Type.Null).ToList();
                return branches.Count == 1 && branches.Count < union.Count
                    ? Map(name, branches[0], nullable: true)
                    : AsJson(name, schema);
            case RecordSchema record:
                var children = record.Fields.Select(f => Map(f.Name, f.Schema, nullable: false)).ToArray();
                return new Column(
                    new StructField(name, children.Select(c => c.Field).ToArray()),
                    v =>
                    {
                        if (v is not GenericRecord g)
                        {
                            return null;
                        }

                        var values = new Dictionary<string, object?>(children.Length, StringComparer.Ordinal);
                        for (var i = 0; i < children.Length; i++)
                        {
                            values[children[i].Field.Name] = children[i].Convert(g.GetValue(i));
                        }

                        return values;
                    });
            case ArraySchema array:
                var item = Map("element", array.ItemSchema, nullable: false);
                return new Column(
                    new ListField(name, item.Field),
                    v => v is System.Collections.IEnumerable items ? items.Cast<object?>().Select(item.Convert).ToList() : null);
            case MapSchema map:
                var value = Map("value", map.ValueSchema, nullable: false);
                return new Column(
                    new MapField(name, new DataField<string>("key"), value.Field),
                    v => v is IDictionary<string, object> d ? d.ToDictionary(e => e.Key, e => value.Convert(e.Value), StringComparer.Ordinal) : null);
            case EnumSchema:
                return new Column(new DataField(name, typeof(string), nullable), v => (v as GenericEnum)?.Value);
            case FixedSchema:
                return new Column(new DataField(name, typeof(byte[]), nullable), v => (v as GenericFixed)?.Value);
            case LogicalSchema logical:
                return MapLogical(name, logical, nullable);
            case PrimitiveSchema primitive:
                var type = primitive.Tag switch
                {
                    Schema.Type.Boolean => typeof(bool),
                    Schema.Type.Int => typeof(int),
                    Schema.Type.Long => typeof(long),
                    Schema.Type.Float => typeof(float),
                    Schema.Type.Double => typeof(double),
                    Schema.Type.Bytes => typeof(byte[]),
                    Schema.Type.String => typeof(string),
                    _ => null,
                };
                return type is null ? AsJson(name, schema) : new Column(new DataField(name, type, nullable), v => v);
            default:
                return AsJson(name, schema);
        }
    }

    private static Column MapLogical(string name, LogicalSchema logical, bool nullable)
    {
        switch (logical.LogicalTypeName)
        {
            case "date":
                return new Column(new DateTimeDataField(name, DateTimeFormat.Date, isAdjustedToUTC: true, unit: null, isNullable: nullable), v => v);
            case "timestamp-millis" or "timestamp-micros" or "local-timestamp-millis" or "local-timestamp-micros":
                var unit = logical.LogicalTypeName.EndsWith("millis", StringComparison.Ordinal) ? DateTimeTimeUnit.Millis : DateTimeTimeUnit.Micros;
                var utc = !logical.LogicalTypeName.StartsWith("local", StringComparison.Ordinal);
                return new Column(new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: utc, unit: unit, isNullable: nullable), v => v);
            case "decimal":
                var precision = int.Parse(logical.GetProperty("precision") ?? "0", CultureInfo.InvariantCulture);
                var scale = int.Parse(logical.GetProperty("scale") ?? "0", CultureInfo.InvariantCulture);
                return precision is > 0 and <= 28
                    ? new Column(new DecimalDataField(name, precision, scale, forceByteArrayEncoding: false, isNullable: nullable), v => v is AvroDecimal d ? (decimal)d : null)
                    : AsJson(name, logical);
            case "uuid":
                return new Column(new DataField(name, typeof(string), nullable), v => v?.ToString());
            default:
                return AsJson(name, logical);
        }
    }

    /// <summary>A STRING column with the value's JSON text (strings unquoted, null as null).</summary>
    private static Column AsJson(string name, Schema schema) => new(
        new DataField(name, typeof(string), isNullable: true),
        v => v switch
        {
            null => null,
            string s => s,
            _ => System.Text.Encoding.UTF8.GetString(AvroJson.ToJson(v, schema)),
        });

    private sealed record Column(Parquet.Schema.Field Field, Func<object?, object?> Convert);
}
