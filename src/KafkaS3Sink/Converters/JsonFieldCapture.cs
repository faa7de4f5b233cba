using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.Converters;

/// <summary>
/// The raw JSON of the few fields the built-in partitioners read, found in the JSON converter's one
/// validating pass over the value, so that partitioning needs no <see cref="JsonDocument"/> and allocates
/// nothing in the steady state. One instance per converter, reused for every record (consumer thread only);
/// a <see cref="SinkRecord"/> sees it only while it is the newest record converted (<see cref="Version"/>).
/// </summary>
internal sealed class JsonFieldCapture
{
    private readonly Node root = new();
    private readonly List<string[]> paths = [];
    private Found[] found = [];
    private ReadOnlyMemory<byte> value;

    /// <summary>Compiles the field paths (dotted names split into segments); duplicates are merged.</summary>
    public JsonFieldCapture(IEnumerable<string[]> fieldPaths)
    {
        foreach (var path in fieldPaths)
        {
            if (IndexOf(path) >= 0)
            {
                continue;
            }

            var node = root;
            foreach (var name in path)
            {
                var child = node.Children.Find(c => c.Name == name);
                if (child is null)
                {
                    child = new Node { Name = name, Utf8 = Encoding.UTF8.GetBytes(name) };
                    node.Children.Add(child);
                }

                node = child;
            }

            node.Index = paths.Count;
            paths.Add(path);
        }

        found = new Found[paths.Count];
    }

    /// <summary>Incremented by every <see cref="Scan"/>: what a record captured is valid while its version is current.</summary>
    public long Version { get; private set; }

    /// <summary>The index of a path (as given to the constructor), or -1.</summary>
    public int IndexOf(string[] path) => paths.FindIndex(p => p.AsSpan().SequenceEqual(path));

    /// <summary>
    /// Reads the whole value once: validates it (throws <see cref="JsonException"/> as the reader does) and records
    /// where each path's value is. The reader must be positioned before the first token.
    /// </summary>
    public void Scan(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json)
    {
        Version++;
        value = json;
        Array.Clear(found);
        if (!reader.Read())
        {
            throw new JsonException("The value holds no JSON document.");
        }

        if (reader.TokenType == JsonTokenType.StartObject)
        {
            ScanObject(ref reader, root);
        }
        else
        {
            reader.Skip();
        }
    }

    /// <summary>
    /// The captured field: its token type (<see cref="JsonTokenType.None"/> when the path was not found) and raw UTF-8
    /// (a string's text between the quotes, still escaped; a number's or literal's text).
    /// </summary>
    public JsonTokenType Get(int index, out ReadOnlySpan<byte> raw)
    {
        var f = found[index];
        raw = f.Kind == JsonTokenType.None ? default : value.Span.Slice(f.Start, f.Length);
        return f.Kind;
    }

    /// <summary>The captured field's whole token as JSON (a string with its quotes); empty when not found or not a scalar.</summary>
    public ReadOnlySpan<byte> Token(int index)
    {
        var f = found[index];
        return f.Kind switch
        {
            JsonTokenType.String => value.Span.Slice(f.Start - 1, f.Length + 2),
            JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null => value.Span.Slice(f.Start, f.Length),
            _ => default,
        };
    }

    private void ScanObject(ref Utf8JsonReader reader, Node node)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            Node? match = null;
            foreach (var child in node.Children)
            {
                if (reader.ValueTextEquals(child.Utf8))
                {
                    match = child;
                    break;
                }
            }

            reader.Read();
            if (match is null)
            {
                reader.Skip();
                continue;
            }

            // Like JsonElement.TryGetProperty, the last of duplicate names wins, also for the objects on a path.
            Clear(match);
            var kind = reader.TokenType;
            if (match.Index >= 0)
            {
                var start = (int)reader.TokenStartIndex + (kind == JsonTokenType.String ? 1 : 0);
                var length = kind is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null ? reader.ValueSpan.Length : 0;
                found[match.Index] = new Found(kind, start, length);
            }

            if (kind == JsonTokenType.StartObject && match.Children.Count > 0)
            {
                ScanObject(ref reader, match);
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private void Clear(Node node)
    {
        if (node.Index >= 0)
        {
            found[node.Index] = default;
        }

        foreach (var child in node.Children)
        {
            Clear(child);
        }
    }

    private readonly record struct Found(JsonTokenType Kind, int Start, int Length);

    private sealed class Node
    {
        public string Name { get; init; } = string.Empty;

        public byte[] Utf8 { get; init; } = [];

        public int Index { get; set; } = -1;

        public List<Node> Children { get; } = [];
    }
}
