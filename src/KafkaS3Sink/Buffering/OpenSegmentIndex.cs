namespace KafkaS3Sink.Buffering;

/// <summary>The open segments of a buffer, by topic-partition (used from the sink's consumer thread only).</summary>
internal sealed class OpenSegmentIndex<T>
    where T : IOpenSegment
{
    private readonly Dictionary<(string Topic, int Partition), HashSet<T>> byPartition = [];

    public int Count { get; private set; }

    /// <summary>Adds a segment; returns whether it is the partition's first open segment.</summary>
    public bool Add(T segment)
    {
        var key = (segment.Descriptor.Topic, segment.Descriptor.Partition);
        var first = !byPartition.TryGetValue(key, out var set);
        if (first)
        {
            set = [];
            byPartition[key] = set;
        }

        set!.Add(segment);
        Count++;
        return first;
    }

    public void Remove(T segment)
    {
        var key = (segment.Descriptor.Topic, segment.Descriptor.Partition);
        if (byPartition.TryGetValue(key, out var set) && set.Remove(segment))
        {
            Count--;
            if (set.Count == 0)
            {
                byPartition.Remove(key);
            }
        }
    }

    public T[] OfPartition(string topic, int partition)
        => byPartition.TryGetValue((topic, partition), out var set) ? [.. set] : [];
}
