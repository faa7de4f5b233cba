namespace KafkaS3Sink.Partitioning;

/// <summary>Confluent's DefaultPartitioner: <c>partition=&lt;kafka partition&gt;</c>.</summary>
internal sealed class DefaultPartitioner : IS3Partitioner, IValueReadingPartitioner
{
    public IReadOnlyList<string[]>? ValueFields => [];

    private readonly Dictionary<int, string> cache = [];

    public string GetPartitionPath(SinkRecord record)
    {
        var partition = record.Source.Partition;
        if (!cache.TryGetValue(partition, out var path))
        {
            path = "partition=" + partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
            cache[partition] = path;
        }

        return path;
    }
}
