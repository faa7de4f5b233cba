namespace KafkaS3Sink;

/// <summary>
/// Chooses the output partition of a record: the encoded path between
/// <c>&lt;topics.dir&gt;/&lt;topic&gt;/</c> and the object's file name, e.g. <c>region=eu/year=2026/month=11</c>.
/// </summary>
/// <remarks>
/// The result must be deterministic (the same record gives the same path on every replay), must
/// not start or end with <c>/</c>, and every segment must already be safe for an S3 key: use
/// <see cref="Partitioning.S3KeyEncoding"/> for values that come from record content.
/// </remarks>
public interface IS3Partitioner
{
    /// <summary>Returns the encoded partition path of a record.</summary>
    /// <param name="record">The converted record.</param>
    /// <returns>The path, without leading or trailing slash.</returns>
    /// <exception cref="RecordPartitioningException">The record cannot be partitioned; the sink applies its error policy.</exception>
    string GetPartitionPath(SinkRecord record);
}
