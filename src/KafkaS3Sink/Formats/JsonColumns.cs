using System.Text;
using System.Text.Json;
using static KafkaS3Sink.Formats.JsonSchemaInference;

namespace KafkaS3Sink.Formats;

/// <summary>
/// A row group of JSON records taken apart into column arrays, by the columns <see cref="InferColumns"/> found
/// (second pass of the Parquet writer): each record is read once with a <see cref="Utf8JsonReader"/>, straight
/// into its columns, with no <see cref="JsonDocument"/> per record. Text values are not made strings: they are
/// decoded into pooled character blocks that the row group's values point into, reused for the next row group and
/// returned on <see cref="Dispose"/> (Parquet.Net takes string columns as <see cref="ReadOnlyMemory{T}"/>). Values are
/// as <see cref="JsonSchemaInference"/> describes: a missing field or JSON null is null, a string column holds a
/// string value unquoted and any other value as its JSON text, a record that is not an object goes to
/// <see cref="JsonSchemaInference.ValueColumn"/>; a field repeated in a record takes its last value.
/// </summary>
internal sealed class JsonColumns : IDisposable
{
    private readonly ColumnIndex index;
    private readonly int valueColumn;

    /// <summary>The character blocks text values point into.</summary>
    private readonly PooledBlocks<char> chars = new();

    public JsonColumns(List<Column> columns, int capacity)
    {
        index = new ColumnIndex(columns);
        valueColumn = index.Find(ValueColumn);
        Values = columns.Select(c => c.Kind switch
        {
            Kind.Bool => (Array)new bool?[capacity],
            Kind.Long => new long?[capacity],
            Kind.Double => new double?[capacity],
            _ => new ReadOnlyMemory<char>?[capacity],
        }).ToArray();
    }

    /// <summary>
    /// Per column, its values so far: <c>bool?[]</c>, <c>long?[]</c>, <c>double?[]</c> or <c>ReadOnlyMemory&lt;char&gt;?[]</c>
    /// (valid until <see cref="Clear"/>).
    /// </summary>
    public Array[] Values { get; }

    /// <summary>The rows held.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a record (valid JSON, checked when it was staged) as the next row.</summary>
    /// <returns>The rows held now.</returns>
    public int Add(ReadOnlySpan<byte> payload)
    {
        var row = Count;
        var json = new Utf8JsonReader(payload);
        json.Read();
        if (json.TokenType != JsonTokenType.StartObject)
        {
            ((ReadOnlyMemory<char>?[])Values[valueColumn])[row] = Text(ref json, payload);
            return ++Count;
        }

        while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
        {
            var column = index.Find(ref json, out var unknown);
            json.Read();
            if (column < 0)
            {
                throw new InvalidDataException($"Field '{unknown}' of a staged record was not seen when the columns were inferred: the segment changed between the two passes.");
            }

            Set(column, row, ref json, payload);
        }

        return ++Count;
    }

    /// <summary>The value of a column in a row, boxed (null when the record has none).</summary>
    public object? Value(int column, int row) => Values[column] switch
    {
        bool?[] bools => bools[row],
        long?[] longs => longs[row],
        double?[] doubles => doubles[row],
        var texts => ((ReadOnlyMemory<char>?[])texts)[row] is { } text ? new string(text.Span) : null,
    };

    /// <summary>Forgets the rows (after they were written): every value back to null, the character blocks free for the next.</summary>
    public void Clear()
    {
        foreach (var values in Values)
        {
            Array.Clear(values, 0, Count);
        }

        Count = 0;
        chars.Reset();
    }

    /// <summary>Returns the character blocks to the pool.</summary>
    public void Dispose() => chars.Dispose();

    private void Set(int column, int row, ref Utf8JsonReader json, ReadOnlySpan<byte> payload)
    {
        var isNull = json.TokenType == JsonTokenType.Null;
        switch (Values[column])
        {
            case bool?[] bools:
                bools[row] = isNull ? null : json.GetBoolean();
                break;
            case long?[] longs:
                longs[row] = isNull ? null : json.GetInt64();
                break;
            case double?[] doubles:
                doubles[row] = isNull ? null : json.GetDouble();
                break;
            default:
                // Typed: a bare null would become an empty ReadOnlyMemory (through its conversion from char[]), not null.
                ((ReadOnlyMemory<char>?[])Values[column])[row] = isNull ? (ReadOnlyMemory<char>?)null : Text(ref json, payload);
                break;
        }
    }

    /// <summary>A string value unquoted; any other value as its JSON text (an object or array is read to its end).</summary>
    private ReadOnlyMemory<char> Text(ref Utf8JsonReader json, ReadOnlySpan<byte> payload)
    {
        switch (json.TokenType)
        {
            case JsonTokenType.String:
                // Unescaped, a string has at most as many characters as its bytes.
                return chars.Take(json.CopyString(chars.Reserve(json.ValueSpan.Length)));
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var start = (int)json.TokenStartIndex;
                json.Skip();
                return Decode(payload[start..(int)json.BytesConsumed]);
            default:
                return Decode(json.ValueSpan);
        }
    }

    private ReadOnlyMemory<char> Decode(ReadOnlySpan<byte> utf8) => chars.Take(Encoding.UTF8.GetChars(utf8, chars.Reserve(utf8.Length)));
}
