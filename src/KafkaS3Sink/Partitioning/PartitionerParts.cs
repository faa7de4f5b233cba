using System.Text;

namespace KafkaS3Sink.Partitioning;

/// <summary><c>name=value</c> from a (nested) field of the record value, on schemaless JSON or structured values.</summary>
internal sealed class FieldPartitioner : IS3Partitioner
{
    private readonly string[] path;
    private readonly string prefix;
    private readonly string? nullValue;

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
    }

    public string GetPartitionPath(SinkRecord record)
    {
        var problem = RecordFields.TryGetScalar(record.Value, path, out var text, out var isNull);
        if (problem is not null)
        {
            throw new RecordPartitioningException(record.Source, problem + ".");
        }

        if (isNull)
        {
            text = nullValue ?? throw new RecordPartitioningException(record.Source, $"field '{string.Join('.', path)}' is null (set a null value to partition such records).");
        }

        return prefix + S3KeyEncoding.EncodeSegment(text);
    }
}

/// <summary><c>name=value</c> from a record header (UTF-8); the last header of that name wins.</summary>
internal sealed class HeaderPartitioner(string header, string? name, string? missingValue) : IS3Partitioner
{
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
            return prefix + S3KeyEncoding.EncodeSegment(
                missingValue ?? throw new RecordPartitioningException(record.Source, $"header '{header}' is {(found ? "null" : "missing")}."));
        }

        return prefix + S3KeyEncoding.EncodeSegment(Encoding.UTF8.GetString(value));
    }
}

/// <summary><c>name=value</c> from the record key (UTF-8).</summary>
internal sealed class KeyPartitioner(string name, string? nullValue) : IS3Partitioner
{
    private readonly string prefix = S3KeyEncoding.EncodeSegment(name) + "=";

    public string GetPartitionPath(SinkRecord record)
    {
        if (record.Source.Key is not { } key)
        {
            return prefix + S3KeyEncoding.EncodeSegment(
                nullValue ?? throw new RecordPartitioningException(record.Source, "the key is null (set a null value to partition such records)."));
        }

        return prefix + S3KeyEncoding.EncodeSegment(Encoding.UTF8.GetString(key.Span));
    }
}

/// <summary>Joins the paths of several partitioners in order with '/'.</summary>
internal sealed class CompositePartitioner : IS3Partitioner
{
    private readonly IS3Partitioner[] parts;
    private readonly string[] last;
    private readonly string[] current;
    private string lastPath = string.Empty;

    public CompositePartitioner(IReadOnlyList<IS3Partitioner> parts)
    {
        if (parts.Count == 0)
        {
            throw new ArgumentException("A composite partitioner needs at least one part.", nameof(parts));
        }

        this.parts = [.. parts];
        last = new string[parts.Count];
        current = new string[parts.Count];
    }

    public string GetPartitionPath(SinkRecord record)
    {
        // Consecutive records often share every part: return the same string (no allocation, and the
        // sink skips re-validating a path it has just validated).
        var same = lastPath.Length > 0;
        for (var i = 0; i < parts.Length; i++)
        {
            current[i] = parts[i].GetPartitionPath(record);
            same &= string.Equals(current[i], last[i], StringComparison.Ordinal);
        }

        if (same)
        {
            return lastPath;
        }

        current.CopyTo(last, 0);
        lastPath = string.Join('/', Array.FindAll(current, p => p.Length > 0));
        return lastPath;
    }
}
