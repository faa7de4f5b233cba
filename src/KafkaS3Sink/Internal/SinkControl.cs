namespace KafkaS3Sink.Internal;

/// <summary>State shared between a running sink's consumer thread and its callers (controller, health).</summary>
internal sealed class SinkControl
{
    private volatile bool pauseRequested;
    private volatile bool operatorPaused;
    private volatile bool backpressurePaused;
    private long oldestUncommittedTicks = long.MinValue;
    private long oldestRecordTicks = long.MinValue;
    private long kafkaDownTicks = long.MinValue;
    private long lag;
    private IReadOnlyList<string> fencedPartitions = [];
    private IReadOnlyList<string> stalledPartitions = [];
    private IReadOnlyList<string> missingTopics = [];
    private System.Collections.Concurrent.ConcurrentDictionary<string, string> recordErrors = new(StringComparer.Ordinal);
    private long recordsSkipped;

    public bool PauseRequested
    {
        get => pauseRequested;
        set => pauseRequested = value;
    }

    public bool OperatorPaused
    {
        get => operatorPaused;
        set => operatorPaused = value;
    }

    public bool BackpressurePaused
    {
        get => backpressurePaused;
        set => backpressurePaused = value;
    }

    /// <summary>When the oldest rotation not yet committed was sealed; null when nothing waits.</summary>
    public DateTimeOffset? OldestUncommitted
    {
        get => Read(ref oldestUncommittedTicks);
        set => Write(ref oldestUncommittedTicks, value);
    }

    /// <summary>When the oldest record not yet in S3 was appended; null when none waits.</summary>
    public DateTimeOffset? OldestRecordNotInS3
    {
        get => Read(ref oldestRecordTicks);
        set => Write(ref oldestRecordTicks, value);
    }

    /// <summary>Since when no Kafka broker is reachable; null while one is.</summary>
    public DateTimeOffset? KafkaUnreachableSince
    {
        get => Read(ref kafkaDownTicks);
        set => Write(ref kafkaDownTicks, value);
    }

    /// <summary>Assigned partitions a newer owner fenced (<c>topic[partition]</c>); empty when none.</summary>
    public IReadOnlyList<string> FencedPartitions
    {
        get => Volatile.Read(ref fencedPartitions);
        set => Volatile.Write(ref fencedPartitions, value);
    }

    /// <summary>Partitions the progress watchdog reports (lag and no upload or commit for the stall timeout).</summary>
    public IReadOnlyList<string> StalledPartitions
    {
        get => Volatile.Read(ref stalledPartitions);
        set => Volatile.Write(ref stalledPartitions, value);
    }

    /// <summary>Subscribed topics the cluster does not have (see <see cref="MissingTopics"/>); empty when none.</summary>
    public IReadOnlyList<string> MissingTopics
    {
        get => Volatile.Read(ref missingTopics);
        set => Volatile.Write(ref missingTopics, value);
    }

    /// <summary>Records behind the end of the assigned partitions.</summary>
    public long Lag
    {
        get => Interlocked.Read(ref lag);
        set => Interlocked.Exchange(ref lag, value);
    }

    /// <summary>Bad records skipped (or dead-lettered) since the sink started.</summary>
    public long RecordsSkipped => Interlocked.Read(ref recordsSkipped);

    /// <summary>The last bad record of each partition that had one (<c>topic[partition]: offset …: reason</c>), sorted.</summary>
    public IReadOnlyList<string> RecordErrors => [.. Volatile.Read(ref recordErrors).OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key + ": " + e.Value)];

    /// <summary>A bad record of <paramref name="partition"/> was skipped.</summary>
    public void RecordError(string partition, string error)
    {
        Interlocked.Increment(ref recordsSkipped);
        Volatile.Read(ref recordErrors)[partition] = error;
    }

    /// <summary>Clears what a stopped sink reports.</summary>
    public void Reset()
    {
        OperatorPaused = false;
        BackpressurePaused = false;
        OldestUncommitted = null;
        OldestRecordNotInS3 = null;
        KafkaUnreachableSince = null;
        FencedPartitions = [];
        StalledPartitions = [];
        Lag = 0;
        Volatile.Write(ref recordErrors, new(StringComparer.Ordinal));
        Interlocked.Exchange(ref recordsSkipped, 0);
    }

    private static DateTimeOffset? Read(ref long ticks)
    {
        var value = Interlocked.Read(ref ticks);
        return value == long.MinValue ? null : new DateTimeOffset(value, TimeSpan.Zero);
    }

    private static void Write(ref long ticks, DateTimeOffset? value) => Interlocked.Exchange(ref ticks, value?.UtcTicks ?? long.MinValue);
}
