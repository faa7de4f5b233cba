namespace KafkaS3Sink.Internal;

/// <summary>State shared between a running sink's consumer thread and its callers (controller, health).</summary>
internal sealed class SinkControl
{
    private volatile bool pauseRequested;
    private volatile bool operatorPaused;
    private volatile bool backpressurePaused;
    private long oldestUncommittedTicks = long.MinValue;
    private long oldestRecordTicks = long.MinValue;
    private long lag;
    private IReadOnlyList<string> fencedPartitions = [];

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
        get
        {
            var ticks = Interlocked.Read(ref oldestUncommittedTicks);
            return ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }

        set => Interlocked.Exchange(ref oldestUncommittedTicks, value?.UtcTicks ?? long.MinValue);
    }

    /// <summary>When the oldest record not yet in S3 was appended; null when none waits.</summary>
    public DateTimeOffset? OldestRecordNotInS3
    {
        get
        {
            var ticks = Interlocked.Read(ref oldestRecordTicks);
            return ticks == long.MinValue ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }

        set => Interlocked.Exchange(ref oldestRecordTicks, value?.UtcTicks ?? long.MinValue);
    }

    /// <summary>Assigned partitions a newer owner fenced (<c>topic[partition]</c>); empty when none.</summary>
    public IReadOnlyList<string> FencedPartitions
    {
        get => Volatile.Read(ref fencedPartitions);
        set => Volatile.Write(ref fencedPartitions, value);
    }

    /// <summary>Records behind the end of the assigned partitions.</summary>
    public long Lag
    {
        get => Interlocked.Read(ref lag);
        set => Interlocked.Exchange(ref lag, value);
    }
}
