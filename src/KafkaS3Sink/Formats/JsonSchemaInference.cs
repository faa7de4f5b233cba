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

    /// <summary>
    /// First pass: every top-level field, in order of first appearance, with merged types. Each record is read once
    /// with a <see cref="Utf8JsonReader"/>; a name already seen costs no string.
    /// </summary>
    public static List<Column> InferColumns(ISealedSegment segment)
    {
        var columns = new List<Column>();
        var index = new ColumnIndex();
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            var json = new Utf8JsonReader(payload.Span);
            json.Read();
            if (json.TokenType != JsonTokenType.StartObject)
            {
                // Not an object: its JSON text goes to one column.
                Observe(ValueColumn, index.Find(ValueColumn), Kind.String);
                continue;
            }

            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                var found = index.Find(ref json, out var name);
                json.Read();
                Observe(name, found, KindOf(ref json));
            }
        }

        return columns;

        // A column number, or -1 and the name of a new column.
        void Observe(string? name, int found, Kind kind)
        {
            if (found < 0)
            {
                index.Add(name!, columns.Count);
                columns.Add(new Column(name!, kind));
                return;
            }

            columns[found].Kind = Merge(columns[found].Kind, kind);
        }
    }

    /// <summary>The kind of the value the reader is on; an object or array is skipped to its end.</summary>
    private static Kind KindOf(ref Utf8JsonReader json)
    {
        switch (json.TokenType)
        {
            case JsonTokenType.Null:
                return Kind.Unknown;
            case JsonTokenType.True or JsonTokenType.False:
                return Kind.Bool;
            case JsonTokenType.Number:
                return json.TryGetInt64(out _) ? Kind.Long : Kind.Double;
            case JsonTokenType.String:
                return Kind.String;
            default:
                json.Skip();
                return Kind.Json;
        }
    }

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

    /// <summary>Column numbers by name, looked up from the property name a <see cref="Utf8JsonReader"/> is on without making a string.</summary>
    public sealed class ColumnIndex
    {
        private readonly Dictionary<string, int> byName = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup;
        private char[] chars = new char[64];

        public ColumnIndex()
        {
            lookup = byName.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public ColumnIndex(IReadOnlyList<Column> columns)
            : this()
        {
            for (var i = 0; i < columns.Count; i++)
            {
                byName[columns[i].Name] = i;
            }
        }

        public void Add(string name, int column) => byName.Add(name, column);

        public int Find(string name) => byName.TryGetValue(name, out var column) ? column : -1;

        /// <summary>
        /// The column of the property name the reader is on, or -1 with <paramref name="name"/> set (unescaped) when
        /// there is none yet; <paramref name="name"/> is null when the column was found.
        /// </summary>
        public int Find(ref Utf8JsonReader json, out string? name)
        {
            if (chars.Length < json.ValueSpan.Length)
            {
                chars = new char[Math.Max(json.ValueSpan.Length, chars.Length * 2)];
            }

            var text = chars.AsSpan(0, json.CopyString(chars));
            if (lookup.TryGetValue(text, out var column))
            {
                name = null;
                return column;
            }

            name = text.ToString();
            return -1;
        }
    }
}
