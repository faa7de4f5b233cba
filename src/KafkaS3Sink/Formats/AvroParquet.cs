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
/// A record whose fields are all flat is decoded straight into typed columns (<see cref="AvroColumns"/>); any other
/// schema goes through Apache.Avro's generic reader and Parquet.Net's untyped serializer.
/// </remarks>
internal static class AvroParquet
{
    public static async Task WriteAsync(ISealedSegment segment, Schema schema, Stream destination, ParquetOptions options)
    {
        using var flat = AvroColumns.TryCreate(schema, ParquetFormat.RowGroupCapacity(segment), FieldFor);
        if (flat is not null)
        {
            await WriteFlatAsync(segment, flat, destination, options).ConfigureAwait(false);
        }
        else
        {
            await WriteGenericAsync(segment, schema, destination, options).ConfigureAwait(false);
        }
    }

    /// <summary>The Parquet field of a top-level Avro field (both paths write this one).</summary>
    internal static Parquet.Schema.Field FieldFor(string name, Schema schema) => Map(name, schema, nullable: false).Field;

    /// <summary>A record of flat fields: each datum decoded once, straight into typed columns (<see cref="AvroColumns"/>).</summary>
    private static async Task WriteFlatAsync(ISealedSegment segment, AvroColumns rows, Stream destination, ParquetOptions options)
    {
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(rows.Fields), destination, options).ConfigureAwait(false);
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            if (rows.Add(payload.Span) == rows.Capacity)
            {
                await rows.WriteRowGroupAsync(writer).ConfigureAwait(false);
            }
        }

        if (rows.Count > 0)
        {
            await rows.WriteRowGroupAsync(writer).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Any other schema: each datum through Apache.Avro's generic reader into a row of Parquet.Net's untyped
    /// serializer, which writes nested records, lists and maps. That serializer cannot write a null binary value:
    /// a null <c>bytes</c> or <c>fixed</c> value comes out empty on this path (not on the flat one). Internal so
    /// that a test can compare the two paths.
    /// </summary>
    internal static async Task WriteGenericAsync(ISealedSegment segment, Schema schema, Stream destination, ParquetOptions options)
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
                    },
                    typeof(IDictionary<string, object?>));
            case ArraySchema array:
                var item = Map("element", array.ItemSchema, nullable: false);
                if (item.ElementType is null)
                {
                    item = AsJson("element", array.ItemSchema);
                }

                var listType = typeof(List<>).MakeGenericType(item.ElementType!);
                return new Column(
                    new ListField(name, item.Field),
                    v =>
                    {
                        if (v is not System.Collections.IEnumerable items)
                        {
                            return null;
                        }

                        var list = (System.Collections.IList)Activator.CreateInstance(listType)!;
                        foreach (var x in items)
                        {
                            list.Add(InCollection(item.Convert(x)));
                        }

                        return list;
                    },
                    null);
            case MapSchema map:
                var value = Map("value", map.ValueSchema, nullable: false);
                if (value.ElementType is null || value.Field is StructField)
                {
                    value = AsJson("value", map.ValueSchema);
                }

                var mapType = typeof(Dictionary<,>).MakeGenericType(typeof(ReadOnlyMemory<char>), value.ElementType!);
                return new Column(
                    new MapField(name, new DataField("key", typeof(string), isNullable: false), value.Field),
                    v =>
                    {
                        if (v is not IDictionary<string, object> entries)
                        {
                            return null;
                        }

                        var result = (System.Collections.IDictionary)Activator.CreateInstance(mapType)!;
                        foreach (var (k, x) in entries)
                        {
                            result.Add(k.AsMemory(), InCollection(value.Convert(x)));
                        }

                        return result;
                    },
                    null);
            case EnumSchema:
                return Text(name, nullable, v => (v as GenericEnum)?.Value);
            case FixedSchema:
                return Bytes(name, nullable, v => (v as GenericFixed)?.Value);
            case LogicalSchema logical:
                return MapLogical(name, logical, nullable);
            case PrimitiveSchema primitive:
                return primitive.Tag switch
                {
                    Schema.Type.Boolean => Value<bool>(new DataField(name, typeof(bool), nullable), nullable),
                    Schema.Type.Int => Value<int>(new DataField(name, typeof(int), nullable), nullable),
                    Schema.Type.Long => Value<long>(new DataField(name, typeof(long), nullable), nullable),
                    Schema.Type.Float => Value<float>(new DataField(name, typeof(float), nullable), nullable),
                    Schema.Type.Double => Value<double>(new DataField(name, typeof(double), nullable), nullable),
                    Schema.Type.Bytes => Bytes(name, nullable, v => v as byte[]),
                    Schema.Type.String => Text(name, nullable, v => v as string),
                    _ => AsJson(name, schema),
                };
            default:
                return AsJson(name, schema);
        }
    }

    private static Column MapLogical(string name, LogicalSchema logical, bool nullable)
    {
        switch (logical.LogicalTypeName)
        {
            case "date":
                return Value<DateTime>(new DateTimeDataField(name, DateTimeFormat.Date, isAdjustedToUTC: true, unit: null, isNullable: nullable), nullable);
            case "timestamp-millis" or "timestamp-micros" or "local-timestamp-millis" or "local-timestamp-micros":
                var unit = logical.LogicalTypeName.EndsWith("millis", StringComparison.Ordinal) ? DateTimeTimeUnit.Millis : DateTimeTimeUnit.Micros;
                var utc = !logical.LogicalTypeName.StartsWith("local", StringComparison.Ordinal);
                var field = new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: utc, unit: unit, isNullable: nullable);
                return utc
                    ? Value<DateTime>(field, nullable)

                    // Apache.Avro gives a local timestamp moved into this machine's zone (DateTimeKind.Local): moved
                    // back, so that the file holds the wall-clock time that was produced, whatever the sink's zone.
                    : new Column(field, v => v is DateTime { Kind: DateTimeKind.Local } local ? DateTime.SpecifyKind(local.ToUniversalTime(), DateTimeKind.Unspecified) : v, nullable ? typeof(DateTime?) : typeof(DateTime));
            case "decimal":
                var precision = int.Parse(logical.GetProperty("precision") ?? "0", CultureInfo.InvariantCulture);
                var scale = int.Parse(logical.GetProperty("scale") ?? "0", CultureInfo.InvariantCulture);
                return precision is > 0 and <= 28
                    ? new Column(
                        new DecimalDataField(name, precision, scale, forceByteArrayEncoding: false, isNullable: nullable),
                        v => v is AvroDecimal d ? (decimal)d : null,
                        nullable ? typeof(decimal?) : typeof(decimal))
                    : AsJson(name, logical);
            case "uuid":
                return Text(name, nullable, v => v?.ToString());
            default:
                return AsJson(name, logical);
        }
    }

    /// <summary>A value passed through as read (bool, int, long, float, double, DateTime).</summary>
    private static Column Value<T>(DataField field, bool nullable)
        where T : struct => new(field, v => v, nullable ? typeof(T?) : typeof(T));

    private static Column Text(string name, bool nullable, Func<object?, string?> convert) =>
        new(new DataField(name, typeof(string), nullable), convert, nullable ? typeof(ReadOnlyMemory<char>?) : typeof(ReadOnlyMemory<char>));

    /// <summary>Binary values go to Parquet.Net as <see cref="ReadOnlyMemory{T}"/>.</summary>
    private static Column Bytes(string name, bool nullable, Func<object?, byte[]?> convert) =>
        new(new DataField(name, typeof(byte[]), nullable), v => convert(v) is { } b ? new ReadOnlyMemory<byte>(b) : null, nullable ? typeof(ReadOnlyMemory<byte>?) : typeof(ReadOnlyMemory<byte>));

    /// <summary>Inside lists and maps Parquet.Net takes strings as <see cref="ReadOnlyMemory{T}"/> of char.</summary>
    private static object? InCollection(object? value) => value is string s ? s.AsMemory() : value;

    /// <summary>A STRING column with the value's JSON text (strings unquoted, null as null).</summary>
    private static Column AsJson(string name, Schema schema) => Text(
        name,
        nullable: true,
        v => v switch
        {
            null => null,
            string s => s,
            _ => AvroJson.ToJson(v, schema) is var json && json[0] == (byte)'"'
                ? System.Text.Json.JsonSerializer.Deserialize<string>(json)
                : System.Text.Encoding.UTF8.GetString(json),
        });

    /// <param name="Field">The Parquet field.</param>
    /// <param name="Convert">From the Avro generic value to what Parquet.Net's untyped serializer takes.</param>
    /// <param name="ElementType">The CLR type of the value inside a list or map; null where it cannot be one (lists, maps).</param>
    private sealed record Column(Parquet.Schema.Field Field, Func<object?, object?> Convert, Type? ElementType);
}
