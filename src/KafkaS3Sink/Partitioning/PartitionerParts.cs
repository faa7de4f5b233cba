using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.Partitioning;

/// <summary><c>name=value</c> from a (nested) field of the record value, on schemaless JSON or structured values.</summary>
internal sealed class FieldPartitioner : IS3Partitioner, IValueReadingPartitioner
{
    public IReadOnlyList<string[]>? ValueFields => [path];

    private readonly string[] path;
    private readonly string prefix;
    private readonly string? nullValue;

    // Segments by the field's raw JSON: repeated values allocate nothing.
    private readonly RawValueCache cache = new();
    private CapturedField captured;

    public FieldPartitioner(string fieldPath, string? name, string? nullValue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fieldPath);
        path = fieldPath.Split('.');
        if (path.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"Field path '{fieldPath}' has an empty segment.", nameof(fieldPath));
        }

        prefix = S3KeyEncoding.EncodeSegment(name ?? path[^1]) + "=";
        this.nullValue = nullValue;
        captured = new CapturedField(path);
    }

    public string GetPartitionPath(SinkRecord record)
    {
        // The JSON converter found the field in its validating pass: no parse.
        var kind = captured.Find(record, out _, out var at, out var raw);
        if (kind is JsonTokenType.String or JsonTokenType.Number or JsonTokenType.True or JsonTokenType.False)
        {
            return Cached(raw, record);
        }

        // Without a capture, the structured value; what the capture saw but cannot be a segment as it is (missing,
        // null, an object) is computed from the structured value too, with its error message.
        if (at < 0 && record.Value is JsonElement root && TryFind(root, out var element))
        {
            return Cached(JsonMarshal.GetRawUtf8Value(element), record);
        }

        return Compute(record);
    }

    private string Cached(ReadOnlySpan<byte> raw, SinkRecord record)
    {
        if (cache.TryGet(raw, out var segment))
        {
            return segment;
        }

        segment = Compute(record);
        cache.Add(raw, segment);
        return segment;
    }

    private bool TryFind(JsonElement element, out JsonElement found)
    {
        found = element;
        foreach (var name in path)
        {
            if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(name, out found))
            {
                return false;
            }
        }

        return found.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False;
    }

    private string Compute(SinkRecord record)
    {
        var problem = RecordFields.TryGetScalar(record.Value, path, out var text, out var isNull);
        if (problem is not null)
        {
            throw new RecordPartitioningException(record.Source, problem + ".");
        }

        if (isNull)
        {
            return prefix + S3KeyEncoding.EncodeNullMarker(nullValue ?? throw new RecordPartitioningException(record.Source, $"field '{string.Join('.', path)}' is null (set a null value to partition such records)."));
        }

        return prefix + Values.Encode(text, nullValue, record, $"field '{string.Join('.', path)}'");
    }
}

/// <summary><c>name=value</c> from a record header (UTF-8); the last header of that name wins.</summary>
internal sealed class HeaderPartitioner(string header, string? name, string? missingValue) : IS3Partitioner, IValueReadingPartitioner
{
    public IReadOnlyList<string[]>? ValueFields => [];

    private readonly string prefix = S3KeyEncoding.EncodeSegment(name ?? header) + "=";

    public string GetPartitionPath(SinkRecord record)
    {
        byte[]? value = null;
        var found = false;
        foreach (var (key, bytes) in record.Source.Headers)
        {
            if (key == header)
            {
                value = bytes;
                found = true;
            }
        }

        if (!found || value is null)
        {
            return prefix + S3KeyEncoding.EncodeNullMarker(
                missingValue ?? throw new RecordPartitioningException(record.Source, $"header '{header}' is {(found ? "null" : "missing")}."));
        }

        return prefix + Values.Encode(Values.Utf8(value, record, $"header '{header}'"), missingValue, record, $"header '{header}'");
    }
}

/// <summary><c>name=value</c> from the record key (UTF-8).</summary>
internal sealed class KeyPartitioner(string name, string? nullValue) : IS3Partitioner, IValueReadingPartitioner
{
    public IReadOnlyList<string[]>? ValueFields => [];

    private readonly string prefix = S3KeyEncoding.EncodeSegment(name) + "=";

    public string GetPartitionPath(SinkRecord record)
    {
        if (record.Source.Key is not { } key)
        {
            return prefix + S3KeyEncoding.EncodeNullMarker(
                nullValue ?? throw new RecordPartitioningException(record.Source, "the key is null (set a null value to partition such records)."));
        }

        return prefix + Values.Encode(Values.Utf8(key.Span, record, "the key"), nullValue, record, "the key");
    }
}

/// <summary>Joins the paths of several partitioners in order with '/'.</summary>
internal sealed class CompositePartitioner : IS3Partitioner, IValueReadingPartitioner
{
    private readonly IS3Partitioner[] parts;
    private readonly string[] current;

    // Recent combinations of part instances and their joined paths (parts return cached instances).
    private readonly (string[]? Parts, string Path)[] recent = new (string[]?, string)[16];
    private int nextSlot;

    public CompositePartitioner(IReadOnlyList<IS3Partitioner> parts)
    {
        if (parts.Count == 0)
        {
            throw new ArgumentException("A composite partitioner needs at least one part.", nameof(parts));
        }

        this.parts = [.. parts];
        current = new string[parts.Count];
    }

    public IReadOnlyList<string[]>? ValueFields
    {
        get
        {
            var fields = parts.Select(ValueReading.Fields).ToList();
            return fields.Any(f => f is null) ? null : [.. fields.SelectMany(f => f!)];
        }
    }

    public string GetPartitionPath(SinkRecord record)
    {
        for (var i = 0; i < parts.Length; i++)
        {
            current[i] = parts[i].GetPartitionPath(record);
        }

        // The same combination returns the same string instance: no allocation, and the sink skips
        // re-validating a path it has just validated.
        foreach (var (cached, path) in recent)
        {
            if (cached is not null && SameInstances(cached))
            {
                return path;
            }
        }

        var joined = string.Join('/', Array.FindAll(current, p => p.Length > 0));
        recent[nextSlot] = ((string[])current.Clone(), joined);
        nextSlot = (nextSlot + 1) % recent.Length;
        return joined;
    }

    private bool SameInstances(string[] cached)
    {
        for (var i = 0; i < cached.Length; i++)
        {
            if (!ReferenceEquals(cached[i], current[i]))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Encoding the value of a <c>name=value</c> part, with the record named when it cannot be.</summary>
internal static class Values
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string Encode(string text, string? nullMarker, SinkRecord record, string what)
        => S3KeyEncoding.TryEncodeValue(text, nullMarker, out var encoded)
            ? encoded
            : throw new RecordPartitioningException(record.Source, $"{what} holds a lone UTF-16 surrogate (e.g. from a \\uD800 escape), which no key can hold.");

    /// <summary>Header and key bytes as UTF-8; bytes that are not UTF-8 would collide with U+FFFD, so they are a partitioning error.</summary>
    public static string Utf8(ReadOnlySpan<byte> bytes, SinkRecord record, string what)
    {
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new RecordPartitioningException(record.Source, $"{what} is not valid UTF-8, so it cannot be part of a key.");
        }
    }
}
