using FluentAssertions;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// What a newly assigned partition does while its lease is taken (fencing on): its records are staged at once,
/// and no object of it is uploaded until the lease is in S3. Lease requests are held in a real HTTP proxy.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Fencing")]
public sealed class AssignmentTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 4;
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-assign-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task WhileLeasesAreHeld_RecordsAreStagedAndNothingIsUploaded_ThenEveryRecordLandsOnce()
    {
        var topic = "lease-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("lease");

        // 250 records per partition; flush.size 100: two rotations per partition sealed, 50 records left open.
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 1_000).Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i}}}")));
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        proxy.HoldWhere = r => r.Path.Value!.Contains("/_kafkas3sink/leases/", StringComparison.Ordinal);

        using var sink = new KafkaS3SinkBuilder().Configure(o =>
        {
            o.Name = topic;
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = topic;
            o.Topics.Add(topic);
            o.FlushSize = 100;
            o.Staging.Directory = staging;
            servers.S3.Configure(o.S3, bucket);
            o.S3.ServiceUrl = proxy.Endpoint;
            o.S3.ConditionalWrites = ConditionalWrites.Required;
        }).Build();
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);

        // Every partition's records reach the staging disk while its lease request waits in the proxy: 3 segment
        // files per partition (two sealed rotations and the open one).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (SegmentFiles() < 3 * Partitions)
        {
            run.IsCompleted.Should().BeFalse("the sink keeps running while its leases wait");
            DateTime.UtcNow.Should().BeBefore(deadline, $"records should be staged while the leases are held ({SegmentFiles()} segment files, {proxy.Holding} lease requests held)");
            await Task.Delay(50);
        }

        proxy.Holding.Should().BeGreaterThan(0, "the leases are still being taken");
        await Task.Delay(1_000); // time for an upload that should not start
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Should().BeEmpty("no object is uploaded before its partition's lease is taken");
        SinkTestKit.Committed(servers.Kafka, topic, topic, Partitions).Should().OnlyContain(c => c == -1);

        proxy.ReleaseHeld();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [200, 200, 200, 200], TimeSpan.FromSeconds(60), run);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(2));

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        output.WriteLine($"{objects.Count} objects after the leases were released");
        objects.Select(o => o.Key).Should().HaveCount(2 * Partitions);
        var ids = objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems();
        ids.Order().Should().Equal(Enumerable.Range(0, 800), "offsets 0-199 of every partition: ids below 800");
    }

    public void Dispose()
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private int SegmentFiles() =>
        Directory.Exists(staging)
            ? Directory.EnumerateFiles(staging, "*.tmp", SearchOption.AllDirectories).Count(f => !f.Contains(Path.DirectorySeparatorChar + ".objects" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            : 0;
}
