namespace KafkaS3Sink;

/// <summary>
/// Decides when the open segments of a topic-partition are sealed and uploaded. A rotation always
/// seals every open segment of the topic-partition together: that boundary is the commit point.
/// </summary>
/// <remarks>
/// Rotations decided by <see cref="ShouldRotate"/> from record content only (counts, bytes, record
/// timestamps) are reproduced by a replay. Rotations decided by <see cref="ShouldRotateOnTimer"/>, or by
/// a <see cref="ShouldRotate"/> that reads the clock (<see cref="IsReplayDeterministic"/> false), may not
/// be; after such a rotation the sink holds back the topic-partition's next uploads until it is
/// committed, which keeps results exactly-once either way.
/// </remarks>
public interface IRotationPolicy
{
    /// <summary>Returns whether the topic-partition should rotate after a record was appended.</summary>
    /// <param name="state">What is open for the topic-partition, including the record just appended.</param>
    /// <returns><see langword="true"/> to seal and upload every open segment of the topic-partition now.</returns>
    bool ShouldRotate(in RotationState state);

    /// <summary>
    /// Returns whether the topic-partition should rotate now although no record arrived: called about every
    /// 100 ms for each topic-partition with open segments. Default: never.
    /// </summary>
    /// <param name="state">What is open for the topic-partition.</param>
    /// <param name="now">The sink's clock.</param>
    /// <returns><see langword="true"/> to rotate now.</returns>
    bool ShouldRotateOnTimer(in RotationState state, DateTimeOffset now) => false;

    /// <summary>
    /// Whether <see cref="ShouldRotate"/> decides from record content only, so that a replay from the same
    /// start offset makes the same decisions; false when it reads the clock. (Timer rotations are always
    /// treated as not reproducible.) Default <see langword="true"/>.
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
/// <param name="FirstTimestamp">Kafka timestamp of the first record since the last rotation.</param>
/// <param name="LastTimestamp">Kafka timestamp of the last record appended.</param>
/// <param name="FirstAppendTime">The sink's clock when the first record since the last rotation was appended.</param>
/// <param name="LastAppendTime">The sink's clock when the last record was appended.</param>
public readonly record struct RotationState(
    string Topic,
    int Partition,
    long RecordCount,
    long Bytes,
    int OpenSegments,
    long FirstOffset,
    long LastOffset,
    DateTimeOffset FirstTimestamp,
    DateTimeOffset LastTimestamp,
    DateTimeOffset FirstAppendTime,
    DateTimeOffset LastAppendTime);
