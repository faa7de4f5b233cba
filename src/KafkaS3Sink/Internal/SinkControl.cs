namespace KafkaS3Sink.Internal;

/// <summary>State shared between a running sink's consumer thread and its callers (controller, health).</summary>
internal sealed class SinkControl
{
    private volatile bool pauseRequested;
    private volatile bool operatorPaused;
    private volatile bool backpressurePaused;
    private long oldestUncommittedTicks = long.MinValue;

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
}
