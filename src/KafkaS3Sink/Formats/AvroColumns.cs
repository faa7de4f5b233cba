using System.Text;
using Avro;
using Parquet;
using Parquet.Schema;

namespace KafkaS3Sink.Formats;

/// <summary>
/// A row group of Avro binary datums taken apart into typed column arrays, for a record schema whose fields are
/// all flat: boolean, int, long, float, double, string, bytes, enum, fixed, the logical types <c>date</c>,
/// <c>timestamp-*</c>, <c>local-timestamp-*</c>, <c>decimal</c> (precision ≤ 28) and <c>uuid</c>, each required or
/// <c>["null", T]</c> (either order). Each datum is decoded once, straight into its columns: no generic record, no
/// boxed value, no dictionary per row. Text and binary values are copied into pooled blocks that the row group's
/// values point into (reused for the next row group). The Parquet fields, and the values, are those
/// <see cref="AvroParquet"/>'s generic path writes for the same schema (a unit test compares the two).
/// </summary>
internal sealed class AvroColumns : IDisposable
{
    private static readonly DateTime UnixEpoch = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private readonly FlatColumn[] columns;
    private readonly PooledBlocks<char> chars = new();
    private readonly PooledBlocks<byte> bytes = new();

    private AvroColumns(FlatColumn[] columns, int capacity)
    {
        this.columns = columns;
        Capacity = capacity;
    }

    /// <summary>The rows a row group holds at most.</summary>
    public int Capacity { get; }

    /// <summary>The Parquet fields, one per column, in the schema's order.</summary>
    public DataField[] Fields => [.. columns.Select(c => c.Field)];

    /// <summary>The rows held.</summary>
    public int Count { get; private set; }

    /// <summary>The columns of <paramref name="schema"/>, or null when a field is not flat (nested records, arrays, maps, other unions, other logical types).</summary>
    /// <param name="schema">The writer schema.</param>
    /// <param name="capacity">Rows per row group.</param>
    /// <param name="fieldOf">The Parquet field the generic path maps a top-level Avro field to.</param>
    public static AvroColumns? TryCreate(Schema schema, int capacity, Func<string, Schema, Parquet.Schema.Field> fieldOf)
    {
        if (schema is not RecordSchema record || record.Fields.Count == 0)
        {
            return null;
        }

        var columns = new FlatColumn[record.Fields.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var avro = record.Fields[i];
            // The generic path's field must hold what this column decodes (a decimal wider than 28 digits, say, is
            // a JSON-text column there): otherwise the whole schema takes the generic path.
            if (Flat(avro.Schema) is not var (kind, nullIndex, baseSchema)
                || fieldOf(avro.Name, avro.Schema) is not DataField field
                || !Holds(field, kind))
            {
                return null;
            }

            columns[i] = new FlatColumn(field, kind, nullIndex, baseSchema, capacity);
        }

        return new AvroColumns(columns, capacity);
    }

    /// <summary>Adds a datum (Avro binary of the writer schema) as the next row.</summary>
    /// <returns>The rows held now.</returns>
    /// <exception cref="InvalidDataException">The datum ends early or holds a union branch or enum symbol the schema does not have.</exception>
    public int Add(ReadOnlySpan<byte> datum)
    {
        var reader = new AvroBinaryReader(datum);
        foreach (var column in columns)
        {
            column.Read(ref reader, Count, chars, bytes);
        }

        return ++Count;
    }

    /// <summary>Writes the rows held as one row group, then forgets them.</summary>
    public async Task WriteRowGroupAsync(ParquetWriter writer)
    {
        using (var group = writer.CreateRowGroup())
        {
            foreach (var column in columns)
            {
                await column.Values.WriteAsync(group, column.Field, Count).ConfigureAwait(false);
            }

            group.CompleteValidate();
        }

        foreach (var column in columns)
        {
            column.Values.Clear(Count);
        }

        Count = 0;
        chars.Reset();
        bytes.Reset();
    }

    /// <summary>Returns the text and binary blocks to the pool.</summary>
    public void Dispose()
    {
        chars.Dispose();
        bytes.Dispose();
    }

    /// <summary>The kind, null branch (-1: required) and base schema of a flat field; null when it is not flat.</summary>
    private static (Kind Kind, int NullIndex, Schema Base)? Flat(Schema schema)
    {
        var nullIndex = -1;
        if (schema is UnionSchema union)
        {
            if (union.Count != 2 || union.Schemas.Count(s => s.Tag == Schema.Type.Null) != 1)
            {
                return null;
            }

            nullIndex = union.Schemas[0].Tag == Schema.Type.Null ? 0 : 1;
            schema = union.Schemas[1 - nullIndex];
        }

        Kind? kind = schema switch
        {
            PrimitiveSchema p => p.Tag switch
            {
                Schema.Type.Boolean => Kind.Boolean,
                Schema.Type.Int => Kind.Int,
                Schema.Type.Long => Kind.Long,
                Schema.Type.Float => Kind.Float,
                Schema.Type.Double => Kind.Double,
                Schema.Type.String => Kind.String,
                Schema.Type.Bytes => Kind.Bytes,
                _ => null,
            },
            EnumSchema => Kind.Enum,
            FixedSchema => Kind.Fixed,
            LogicalSchema l => l.LogicalTypeName switch
            {
                "date" => Kind.Date,
                "timestamp-millis" or "timestamp-micros" or "local-timestamp-millis" or "local-timestamp-micros" => Kind.Timestamp,
                "decimal" => Kind.Decimal,
                "uuid" => Kind.Uuid,
                _ => null,
            },
            _ => null,
        };
        return kind is { } k ? (k, nullIndex, schema) : null;
    }

    /// <summary>Whether <paramref name="field"/> holds the values a column of <paramref name="kind"/> decodes.</summary>
    private static bool Holds(DataField field, Kind kind) => kind switch
    {
        Kind.Boolean => field.ClrType == typeof(bool),
        Kind.Int => field.ClrType == typeof(int),
        Kind.Long => field.ClrType == typeof(long),
        Kind.Float => field.ClrType == typeof(float),
        Kind.Double => field.ClrType == typeof(double),

        // Parquet.Net gives text and binary fields the CLR type it reads them as (ReadOnlyMemory by default).
        Kind.String or Kind.Enum or Kind.Uuid => field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>),
        Kind.Bytes or Kind.Fixed => field.ClrType == typeof(byte[]) || field.ClrType == typeof(ReadOnlyMemory<byte>),
        Kind.Decimal => field is DecimalDataField,
        _ => field is DateTimeDataField,
    };

    private enum Kind
    {
        Boolean,
        Int,
        Long,
        Float,
        Double,
        String,
        Bytes,
        Enum,
        Fixed,
        Date,
        Timestamp,
        Decimal,
        Uuid,
    }

    /// <summary>One column: how its values are decoded and where they are kept.</summary>
    private sealed class FlatColumn
    {
        private readonly Kind kind;
        private readonly int nullIndex;
        private readonly ReadOnlyMemory<char>[] symbols = [];

        /// <summary>The size of a fixed (or of a decimal's fixed); -1 where the value is length-prefixed.</summary>
        private readonly int fixedSize = -1;

        /// <summary>A timestamp's unit in ticks, and its kind: UTC, or a wall-clock time in no zone (local-timestamp-*).</summary>
        private readonly long ticksPerUnit;
        private readonly DateTimeKind timeKind;

        /// <summary>A decimal's scale: the field's (the generic path's mapping read it from the schema).</summary>
        private readonly int scale;

        public FlatColumn(DataField field, Kind kind, int nullIndex, Schema schema, int capacity)
        {
            Field = field;
            this.kind = kind;
            this.nullIndex = nullIndex;
            var nullable = nullIndex >= 0;
            scale = (field as DecimalDataField)?.Scale ?? 0;
            switch (schema)
            {
                case EnumSchema e:
                    symbols = [.. e.Symbols.Select(s => s.AsMemory())];
                    break;
                case FixedSchema f:
                    fixedSize = f.Size;
                    break;
                case LogicalSchema { LogicalTypeName: "decimal", BaseSchema: FixedSchema f }:
                    fixedSize = f.Size;
                    break;
                case LogicalSchema { LogicalTypeName: var time } when kind == Kind.Timestamp:
                    ticksPerUnit = time.EndsWith("millis", StringComparison.Ordinal) ? TimeSpan.TicksPerMillisecond : TimeSpan.TicksPerMicrosecond;
                    timeKind = time.StartsWith("local", StringComparison.Ordinal) ? DateTimeKind.Unspecified : DateTimeKind.Utc;
                    break;
            }

            Values = kind switch
            {
                Kind.Boolean => new ColumnValues<bool>(capacity, nullable),
                Kind.Int => new ColumnValues<int>(capacity, nullable),
                Kind.Long => new ColumnValues<long>(capacity, nullable),
                Kind.Float => new ColumnValues<float>(capacity, nullable),
                Kind.Double => new ColumnValues<double>(capacity, nullable),
                Kind.String or Kind.Enum or Kind.Uuid => new ColumnValues<ReadOnlyMemory<char>>(capacity, nullable),
                Kind.Bytes or Kind.Fixed => new ColumnValues<ReadOnlyMemory<byte>>(capacity, nullable),
                Kind.Decimal => new ColumnValues<decimal>(capacity, nullable),
                _ => new ColumnValues<DateTime>(capacity, nullable),
            };
        }

        public DataField Field { get; }

        public IColumnValues Values { get; }

        public void Read(ref AvroBinaryReader reader, int row, PooledBlocks<char> chars, PooledBlocks<byte> bytes)
        {
            if (nullIndex >= 0)
            {
                var branch = reader.ReadLong();
                if (branch == nullIndex)
                {
                    return; // The arrays are cleared to null after each row group.
                }

                if (branch != 1 - nullIndex)
                {
                    throw new InvalidDataException($"Field '{Field.Name}' of a staged Avro datum names union branch {branch}; its schema has 2.");
                }
            }

            switch (kind)
            {
                case Kind.Boolean:
                    Set(row, reader.ReadBoolean());
                    break;
                case Kind.Int:
                    Set(row, reader.ReadInt());
                    break;
                case Kind.Long:
                    Set(row, reader.ReadLong());
                    break;
                case Kind.Float:
                    Set(row, reader.ReadFloat());
                    break;
                case Kind.Double:
                    Set(row, reader.ReadDouble());
                    break;
                case Kind.String:
                    var utf8 = reader.ReadBytes();
                    Set(row, chars.Take(Encoding.UTF8.GetChars(utf8, chars.Reserve(utf8.Length))));
                    break;
                case Kind.Enum:
                    var symbol = reader.ReadInt();
                    Set(row, (uint)symbol < (uint)symbols.Length
                        ? symbols[symbol]
                        : throw new InvalidDataException($"Field '{Field.Name}' of a staged Avro datum names enum symbol {symbol}; its schema has {symbols.Length}."));
                    break;
                case Kind.Uuid:
                    // As Apache.Avro's reader gives it (a Guid) and the generic path writes it: lower case, with hyphens.
                    var uuid = Guid.Parse(reader.ReadBytes());
                    uuid.TryFormat(chars.Reserve(36), out var written);
                    Set(row, chars.Take(written));
                    break;
                case Kind.Bytes:
                    Set(row, bytes.Copy(reader.ReadBytes()));
                    break;
                case Kind.Fixed:
                    Set(row, bytes.Copy(reader.ReadFixed(fixedSize)));
                    break;
                case Kind.Decimal:
                    Set(row, AvroBinaryReader.ToDecimal(fixedSize >= 0 ? reader.ReadFixed(fixedSize) : reader.ReadBytes(), scale));
                    break;
                case Kind.Date:
                    Set(row, UnixEpoch.AddDays(reader.ReadInt()));
                    break;
                case Kind.Timestamp:
                    // A local timestamp is not moved into this machine's zone.
                    Set(row, new DateTime(UnixEpoch.Ticks + (reader.ReadLong() * ticksPerUnit), timeKind));
                    break;
            }
        }

        private void Set<T>(int row, T value)
            where T : struct => ((ColumnValues<T>)Values).Set(row, value);
    }

    /// <summary>A column's values for one row group.</summary>
    private interface IColumnValues
    {
        Task WriteAsync(ParquetRowGroupWriter group, DataField field, int count);

        void Clear(int count);
    }

    /// <summary>Required values in a <typeparamref name="T"/> array, nullable ones in a <c>T?</c> array (null until set).</summary>
    private sealed class ColumnValues<T>(int capacity, bool nullable) : IColumnValues
        where T : struct
    {
        private readonly T[]? required = nullable ? null : new T[capacity];
        private readonly T?[]? optional = nullable ? new T?[capacity] : null;

        public void Set(int row, T value)
        {
            if (required is not null)
            {
                required[row] = value;
            }
            else
            {
                optional![row] = value;
            }
        }

        public Task WriteAsync(ParquetRowGroupWriter group, DataField field, int count) => required is not null
            ? group.WriteAsync<T>(field, required.AsMemory(0, count))
            : group.WriteAsync<T>(field, optional.AsMemory(0, count));

        public void Clear(int count)
        {
            // Required values are all overwritten by the next rows; a nullable one must go back to null.
            if (optional is not null)
            {
                Array.Clear(optional, 0, count);
            }
            else if (typeof(T) == typeof(ReadOnlyMemory<char>) || typeof(T) == typeof(ReadOnlyMemory<byte>))
            {
                Array.Clear(required!, 0, count);
            }
        }
    }
}
