namespace KafkaS3Sink;

/// <summary>
/// Decides when the open segments of a topic-partition are sealed and uploaded. A rotation always
/// seals every open segment of the topic-partition together: that boundary is the commit point.
/// </summary>
/// <remarks>
/// For exactly-once results across replays a policy must decide from record content only
/// (counts, bytes, record timestamps); policies that read the clock are safe only because the sink
/// keeps at most one uncommitted rotation of a topic-partition in flight when they are used.
/// </remarks>
public interface IRotationPolicy
{
    /// <summary>Returns whether the topic-partition should rotate after a record was appended.</summary>
    /// <param name="state">What is open for the topic-partition, including the record just appended.</param>
    /// <returns><see langword="true"/> to seal and upload every open segment of the topic-partition now.</returns>
    bool ShouldRotate(in RotationState state);

    /// <summary>
    /// Whether a replay from the same start offset makes the same decisions: true when the policy reads
    /// only record content (counts, bytes, record timestamps), false when it reads the clock. The sink
    /// holds back the uploads that follow a non-deterministic rotation until it is committed, which keeps
    /// results exactly-once either way. Default <see langword="true"/>.
    /// </summary>
    bool IsReplayDeterministic => true;
}

/// <summary>What is open for one topic-partition, as seen by an <see cref="IRotationPolicy"/>.</summary>
/// <param name="Topic">Topic name.</param>
/// <param name="Partition">Partition number.</param>
/// <param name="RecordCount">Records appended since the last rotation.</param>
/// <param name="Bytes">Payload bytes appended since the last rotation.</param>
/// <param name="OpenSegments">Number of open segments (distinct partition paths).</param>
/// <param name="FirstOffset">Offset of the first record since the last rotation.</param>
/// <param name="LastOffset">Offset of the last record appended.</param>
/// <param name="FirstTimestamp">Timestamp of the first record since the last rotation.</param>
/// <param name="LastTimestamp">Timestamp of the last record appended.</param>
public readonly record struct RotationState(
    string Topic,
    int Partition,
    long RecordCount,
    long Bytes,
    int OpenSegments,
    long FirstOffset,
    long LastOffset,
    DateTimeOffset FirstTimestamp,
    DateTimeOffset LastTimestamp);
