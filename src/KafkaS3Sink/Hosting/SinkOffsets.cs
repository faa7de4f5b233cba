using Confluent.Kafka;

namespace KafkaS3Sink.Hosting;

/// <summary>
/// Reads and changes the committed offsets of a sink's consumer group, as Kafka Connect's offsets API does for a
/// sink connector. Changing them is only safe while no member of the group runs (the controller checks the sink is
/// stopped here): the change joins the group for a moment, takes every partition and commits as a member. If
/// another process still runs the sink, its partitions are not handed over and the change is refused, naming them.
/// </summary>
internal static class SinkOffsets
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static IReadOnlyList<SinkOffset> Read(KafkaS3SinkOptions options, CancellationToken cancellationToken)
    {
        using var consumer = Consumer(options);
        var partitions = Partitions(consumer, options, cancellationToken);
        if (partitions.Count == 0)
        {
            return [];
        }

        return [.. consumer.Committed(partitions, Timeout)
            .Where(c => !c.Offset.IsSpecial)
            .OrderBy(c => c.Topic, StringComparer.Ordinal).ThenBy(c => c.Partition.Value)
            .Select(c => new SinkOffset(c.Topic, c.Partition.Value, c.Offset.Value))];
    }

    public static void Alter(KafkaS3SinkOptions options, IReadOnlyList<SinkOffset> offsets, TimeProvider time, CancellationToken cancellationToken)
    {
        using var consumer = Consumer(options);
        var known = Partitions(consumer, options, cancellationToken).ToHashSet();
        var commits = new List<TopicPartitionOffset>();
        foreach (var offset in offsets)
        {
            var tp = new TopicPartition(offset.Topic, offset.Partition);
            if (!known.Contains(tp))
            {
                throw new ArgumentException($"{offset.Topic}[{offset.Partition}] is not a partition of the sink's topics ({string.Join(", ", options.Topics)}).", nameof(offsets));
            }

            if (offset.Offset is < 0)
            {
                throw new ArgumentException($"{offset.Topic}[{offset.Partition}]: the offset must not be negative (was {offset.Offset}).", nameof(offsets));
            }

            commits.Add(new TopicPartitionOffset(tp, offset.Offset ?? consumer.QueryWatermarkOffsets(tp, Timeout).Low));
        }

        CommitAsMember(options, commits, time, cancellationToken);
    }

    /// <summary>
    /// Every partition with a committed offset goes back to its earliest record (what having no committed offset
    /// means to the sink, whose consumer starts at the earliest).
    /// </summary>
    public static void Reset(KafkaS3SinkOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        using var consumer = Consumer(options);
        var partitions = Partitions(consumer, options, cancellationToken);
        var committed = partitions.Count == 0 ? [] : consumer.Committed(partitions, Timeout).Where(c => !c.Offset.IsSpecial).ToList();
        var commits = committed.Select(c => new TopicPartitionOffset(c.TopicPartition, consumer.QueryWatermarkOffsets(c.TopicPartition, Timeout).Low)).ToList();
        CommitAsMember(options, commits, time, cancellationToken);
    }

    /// <summary>
    /// Joins the group (as the sink does), waits until it holds every partition to commit, commits them, and leaves.
    /// Brokers refuse commits from outside a group that exists (the mock cluster even for an empty one), and a member
    /// that cannot get a partition shows that another member still consumes it.
    /// </summary>
    private static void CommitAsMember(KafkaS3SinkOptions options, List<TopicPartitionOffset> commits, TimeProvider time, CancellationToken cancellationToken)
    {
        if (commits.Count == 0)
        {
            return;
        }

        var config = Config(options);
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        using var member = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        member.Subscribe(options.Topics);
        var needed = commits.Select(c => c.TopicPartition).ToHashSet();
        var started = time.GetTimestamp();
        try
        {
            while (!needed.IsSubsetOf(member.Assignment))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (time.GetElapsedTime(started) > Timeout)
                {
                    var held = needed.Except(member.Assignment).Select(tp => $"{tp.Topic}[{tp.Partition.Value}]");
                    throw new InvalidOperationException(
                        $"Another member of group '{options.GroupId}' still consumes {string.Join(", ", held)}: stop the sink on every process before changing its offsets.");
                }

                try
                {
                    member.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    // Serves the rebalance; a record's fetch error does not matter here.
                }
            }

            member.Commit(commits);
        }
        finally
        {
            member.Close();
        }
    }

    private static IConsumer<Ignore, Ignore> Consumer(KafkaS3SinkOptions options) => new ConsumerBuilder<Ignore, Ignore>(Config(options)).Build();

    private static ConsumerConfig Config(KafkaS3SinkOptions options)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            EnableAutoCommit = false,
        };

        // The sink's own client settings (security, timeouts) apply here too.
        foreach (var (key, value) in options.KafkaProperties)
        {
            config.Set(key, value);
        }

        return config;
    }

    private static List<TopicPartition> Partitions(IConsumer<Ignore, Ignore> consumer, KafkaS3SinkOptions options, CancellationToken cancellationToken)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var result = new List<TopicPartition>();
        foreach (var topic in options.Topics)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var metadata = admin.GetMetadata(topic, Timeout).Topics.FirstOrDefault(t => t.Topic == topic);
            if (metadata is null || metadata.Error.IsError)
            {
                continue; // a topic that does not exist (yet) has no offsets
            }

            result.AddRange(metadata.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
        }

        return result;
    }
}
