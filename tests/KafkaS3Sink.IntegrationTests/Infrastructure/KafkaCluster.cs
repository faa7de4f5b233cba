using Confluent.Kafka;
using Confluent.Kafka.Admin;
using KafkaS3Sink.Testing;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>
/// The Kafka cluster the integration tests use: the broker named by KAFKA_BOOTSTRAP_SERVERS, or an
/// in-process librdkafka mock cluster speaking the Kafka protocol on 127.0.0.1.
/// </summary>
public sealed class KafkaCluster : IDisposable
{
    private readonly MockKafkaCluster? mock;

    public KafkaCluster()
    {
        var external = Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS");
        if (!string.IsNullOrEmpty(external))
        {
            BootstrapServers = external;
            return;
        }

        mock = MockKafkaCluster.Start(brokerCount: 3);
        BootstrapServers = mock.BootstrapServers;
    }

    public string BootstrapServers { get; }

    /// <summary>The mock cluster, for fault injection; null against a real broker.</summary>
    public MockKafkaCluster? Mock => mock;

    public void CreateTopic(string topic, int partitions)
    {
        if (mock is not null)
        {
            mock.CreateTopic(topic, partitions);
            return;
        }

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = 1 }])
            .GetAwaiter().GetResult();
    }

    public ConsumerConfig ConsumerConfig(string groupId) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        EnableAutoCommit = false,
        SessionTimeoutMs = 6000,
        HeartbeatIntervalMs = 500,
    };

    public void Dispose() => mock?.Dispose();
}
