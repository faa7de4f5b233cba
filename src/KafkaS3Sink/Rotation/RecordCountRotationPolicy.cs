namespace KafkaS3Sink.Rotation;

/// <summary>Rotates a topic-partition after a fixed number of records (Confluent's <c>flush.size</c>). Replay-safe.</summary>
internal sealed class RecordCountRotationPolicy : IRotationPolicy
{
    private readonly long flushSize;

    public RecordCountRotationPolicy(long flushSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(flushSize, 1);
        this.flushSize = flushSize;
    }

    public bool ShouldRotate(in RotationState state) => state.RecordCount >= flushSize;
}
