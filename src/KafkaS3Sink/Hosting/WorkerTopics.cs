using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Hosting;

/// <summary>The distributed worker's topics (config and status): clients, creation, and a reader of a whole topic.</summary>
internal static class WorkerTopics
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A consumer assigned every partition of <paramref name="topic"/> from its beginning (never joining a group nor
    /// committing: <paramref name="groupId"/> only satisfies the client), and each partition's end offset now.
    /// </summary>
    public static (IConsumer<string, byte[]?> Consumer, List<TopicPartitionOffset> Ends) OpenReader(KafkaS3SinkWorkerOptions options, string topic, string groupId)
    {
        var consumer = new ConsumerBuilder<string, byte[]?>(Client(options, new ConsumerConfig
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnablePartitionEof = false,
        })).Build();
        var ends = new List<TopicPartitionOffset>();
        using (var admin = new DependentAdminClientBuilder(consumer.Handle).Build())
        {
            var metadata = admin.GetMetadata(topic, Timeout).Topics.Single(t => t.Topic == topic);
            ThrowIfMissing(metadata, topic);
            foreach (var partition in metadata.Partitions)
            {
                var tp = new TopicPartition(topic, partition.PartitionId);
                ends.Add(new TopicPartitionOffset(tp, consumer.QueryWatermarkOffsets(tp, Timeout).High));
            }
        }

        consumer.Assign(ends.Select(e => new TopicPartitionOffset(e.TopicPartition, Offset.Beginning)));
        return (consumer, ends);
    }

    /// <summary>Creates a worker topic compacted with one partition if it is missing (a cluster that refuses gets a clear error from the metadata read).</summary>
    public static void EnsureTopic(KafkaS3SinkWorkerOptions options, string name, ILogger logger)
    {
        using var admin = new AdminClientBuilder(Client(options, new AdminClientConfig())).Build();
        var exists = admin.GetMetadata(name, Timeout).Topics.Any(t => t.Topic == name && !t.Error.IsError && t.Partitions.Count > 0);
        if (exists)
        {
            return;
        }

        try
        {
            admin.CreateTopicsAsync(
                [new TopicSpecification { Name = name, NumPartitions = 1, Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" } }],
                new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(10) }).Wait(TimeSpan.FromSeconds(15));
        }
        catch (AggregateException ex) when (ex.InnerException is KafkaException or CreateTopicsException)
        {
            Log.ConfigTopicProblem(logger, name, ex.InnerException.Message);
        }
    }

    /// <summary>A worker topic that does not exist (and could not be created) is a configuration error, named.</summary>
    private static void ThrowIfMissing(TopicMetadata topic, string name)
    {
        if (topic.Error.IsError || topic.Partitions.Count == 0)
        {
            throw new KafkaS3SinkConfigurationException("worker", [$"The worker topic '{name}' does not exist and could not be created ({topic.Error.Reason}): create it compacted with one partition, or let the worker's credentials create topics."]);
        }
    }

    /// <summary>A client config for the worker's topics: its cluster and extra properties.</summary>
    public static T Client<T>(KafkaS3SinkWorkerOptions options, T config)
        where T : ClientConfig
    {
        config.BootstrapServers = options.BootstrapServers;
        foreach (var (key, value) in options.KafkaProperties)
        {
            config.Set(key, value);
        }

        return config;
    }
}
