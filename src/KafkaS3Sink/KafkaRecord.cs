namespace KafkaS3Sink;

/// <summary>A record as it was consumed from Kafka, before conversion.</summary>
public sealed class KafkaRecord
{
    /// <summary>Creates a record.</summary>
    /// <param name="topic">Topic name.</param>
    /// <param name="partition">Partition number.</param>
    /// <param name="offset">Offset in the partition.</param>
    /// <param name="timestamp">The record's timestamp (create or log-append time).</param>
    /// <param name="key">Key bytes, or <see langword="null"/> for a null key.</param>
    /// <param name="value">Value bytes, or <see langword="null"/> for a tombstone.</param>
    /// <param name="headers">Headers in the order they were produced.</param>
    public KafkaRecord(
        string topic,
        int partition,
        long offset,
        DateTimeOffset timestamp,
        ReadOnlyMemory<byte>? key,
        ReadOnlyMemory<byte>? value,
        IReadOnlyList<KeyValuePair<string, byte[]>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(topic);
        Topic = topic;
        Partition = partition;
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        Value = value;
        Headers = headers ?? [];
    }

    /// <summary>Topic name.</summary>
    public string Topic { get; }

    /// <summary>Partition number.</summary>
    public int Partition { get; }

    /// <summary>Offset in the partition.</summary>
    public long Offset { get; }

    /// <summary>The record's timestamp.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>Key bytes; <see langword="null"/> for a null key.</summary>
    public ReadOnlyMemory<byte>? Key { get; }

    /// <summary>Value bytes; <see langword="null"/> for a tombstone.</summary>
    public ReadOnlyMemory<byte>? Value { get; }

    /// <summary>Headers in produced order (a name may repeat).</summary>
    public IReadOnlyList<KeyValuePair<string, byte[]>> Headers { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Topic}[{Partition}]@{Offset}";
}
