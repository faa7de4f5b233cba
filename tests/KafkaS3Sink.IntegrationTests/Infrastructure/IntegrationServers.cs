namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>One S3 server and one Kafka cluster shared by every integration test (they run one at a time).</summary>
public sealed class IntegrationServers : IDisposable
{
    public IntegrationServers()
    {
        S3 = new S3Server();
        Kafka = new KafkaCluster();
    }

    public S3Server S3 { get; }

    public KafkaCluster Kafka { get; }

    public void Dispose()
    {
        Kafka.Dispose();
        S3.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class IntegrationCollection : ICollectionFixture<IntegrationServers>
{
    public const string Name = "Integration";
}
