namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Built-in partitioners say whether they read the record's structured value, so the JSON converter can
/// parse once, eagerly, when they do, and skip the parse when they do not.
/// </summary>
internal interface IValueReadingPartitioner
{
    bool ReadsValue { get; }
}

internal static class ValueReading
{
    /// <summary>Whether a partitioner may read <see cref="SinkRecord.Value"/>; unknown (custom) partitioners are assumed to.</summary>
    public static bool ReadsValue(IS3Partitioner partitioner) => partitioner is not IValueReadingPartitioner known || known.ReadsValue;
}
