using System.Text.Json;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Infers a flat schema from the JSON records of a sealed segment (first of two passes): every top-level
/// field, in order of first appearance, with its type merged over all records. Used by the Parquet and
/// Avro writers; see docs/formats.md for the rules.
/// </summary>
internal static class JsonSchemaInference
{
    public const string ValueColumn = "_value";

    /// <summary>The value of a column in a row; null when absent or JSON null.</summary>
    public static JsonElement? Get(JsonElement row, string name)
    {
        if (row.ValueKind != JsonValueKind.Object)
        {
            return name == ValueColumn ? row : null;
        }

        return row.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    /// <summary>First pass: every top-level field, in order of first appearance, with merged types.</summary>
    public static List<Column> InferColumns(ISealedSegment segment)
    {
        var columns = new List<Column>();
        var byName = new Dictionary<string, Column>(StringComparer.Ordinal);
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in root.EnumerateObject())
                {
                    Observe(property.Name, property.Value);
                }
            }
            else
            {
                Observe(ValueColumn, root);
                if (byName.TryGetValue(ValueColumn, out var v))
                {
                    v.Kind = Kind.String;
                }
            }
        }

        return columns;

        void Observe(string name, JsonElement value)
        {
            var kind = KindOf(value);
            if (!byName.TryGetValue(name, out var column))
            {
                column = new Column(name, kind);
                byName[name] = column;
                columns.Add(column);
                return;
            }

            column.Kind = Merge(column.Kind, kind);
        }
    }

    private static Kind KindOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => Kind.Unknown,
        JsonValueKind.True or JsonValueKind.False => Kind.Bool,
        JsonValueKind.Number => value.TryGetInt64(out _) ? Kind.Long : Kind.Double,
        JsonValueKind.String => Kind.String,
        _ => Kind.Json,
    };

    private static Kind Merge(Kind a, Kind b) => (a, b) switch
    {
        _ when a == b => a,
        (Kind.Unknown, _) => b,
        (_, Kind.Unknown) => a,
        (Kind.Long, Kind.Double) or (Kind.Double, Kind.Long) => Kind.Double,
        _ => Kind.String, // any other conflict: the JSON text of each value
    };

    public enum Kind
    {
        Unknown,
        Bool,
        Long,
        Double,
        String,
        Json,
    }

    public sealed class Column(string name, Kind kind)
    {
        public string Name { get; } = name;

        public Kind Kind { get; set; } = kind;
    }
}
