using System.Text;
using System.Text.Json;
using static KafkaS3Sink.Formats.JsonSchemaInference;

namespace KafkaS3Sink.Formats;

/// <summary>
/// A row group of JSON records taken apart into column arrays, by the columns <see cref="InferColumns"/> found
/// (second pass of the Parquet writer): each record is read once with a <see cref="Utf8JsonReader"/>, straight
/// into its columns, with no <see cref="JsonDocument"/> per record; only string values become strings. Values are
/// as <see cref="JsonSchemaInference"/> describes: a missing field or JSON null is null, a string column holds a
/// string value unquoted and any other value as its JSON text, a record that is not an object goes to
/// <see cref="JsonSchemaInference.ValueColumn"/>; a field repeated in a record takes its last value.
/// </summary>
internal sealed class JsonColumns
{
    private readonly ColumnIndex index;
    private readonly int valueColumn;

    public JsonColumns(List<Column> columns, int capacity)
    {
        index = new ColumnIndex(columns);
        valueColumn = index.Find(ValueColumn);
        Values = columns.Select(c => c.Kind switch
        {
            Kind.Bool => (Array)new bool?[capacity],
            Kind.Long => new long?[capacity],
            Kind.Double => new double?[capacity],
            _ => new string?[capacity],
        }).ToArray();
    }

    /// <summary>Per column, its values so far: <c>bool?[]</c>, <c>long?[]</c>, <c>double?[]</c> or <c>string?[]</c>.</summary>
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
            ((string?[])Values[valueColumn])[row] = Text(ref json, payload);
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
        var strings => ((string?[])strings)[row],
    };

    /// <summary>Forgets the rows (after they were written): every value back to null.</summary>
    public void Clear()
    {
        foreach (var values in Values)
        {
            Array.Clear(values, 0, Count);
        }

        Count = 0;
    }

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
                ((string?[])Values[column])[row] = isNull ? null : Text(ref json, payload);
                break;
        }
    }

    /// <summary>A string value unquoted; any other value as its JSON text (an object or array is read to its end).</summary>
    private static string Text(ref Utf8JsonReader json, ReadOnlySpan<byte> payload)
    {
        switch (json.TokenType)
        {
            case JsonTokenType.String:
                return json.GetString()!;
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                var start = (int)json.TokenStartIndex;
                json.Skip();
                return Encoding.UTF8.GetString(payload[start..(int)json.BytesConsumed]);
            default:
                return Encoding.UTF8.GetString(json.ValueSpan);
        }
    }
}
