namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Built-in partitioners say what they read of the record's structured value, so the JSON converter can
/// parse once, eagerly, when they read it as a whole, find only the fields they read in its validating pass,
/// or skip the parse when they read nothing.
/// </summary>
internal interface IValueReadingPartitioner
{
    /// <summary>The dotted field paths read from the value (split), when that is all that is read of it; null when the value is read otherwise.</summary>
    IReadOnlyList<string[]>? ValueFields { get; }
}

internal static class ValueReading
{
    /// <summary>The fields a partitioner reads of the value; null when it may read it as a whole (unknown, custom partitioners).</summary>
    public static IReadOnlyList<string[]>? Fields(IS3Partitioner partitioner) => partitioner is IValueReadingPartitioner known ? known.ValueFields : null;
}
