using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.S3.Model;
using KafkaS3Sink.Hosting;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// What a start checks and cleans up after an earlier run: the staging volume's size against the quota,
/// formatted object files a killed process left, incomplete multipart uploads of an earlier owner, a
/// subscribed topic that does not exist, and a failed sink leaving its group.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Faults")]
public sealed class StartupChecksTests : IDisposable
{
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-start-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logLines = new();
    private readonly IntegrationServers servers;
    private readonly ILoggerFactory loggerFactory;
    private readonly ITestOutputHelper output;
    private bool mounted;

    public StartupChecksTests(IntegrationServers servers, ITestOutputHelper output)
    {
        this.servers = servers;
        this.output = output;
        loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Information));
    }

    [Fact]
    public async Task StagingVolumeSmallerThanMinFreeDiskBytes_StartFailsWithTheNumbers()
    {
        Directory.CreateDirectory(staging);
        Root.Run("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", staging);
        mounted = true;
        var (topic, bucket) = await SetUpAsync("smallvol", 10);
        using var sink = Sink(topic, bucket, 10);

        var act = () => sink.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        var message = (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which.Message;
        message.Should().StartWith($"The staging volume of '{staging}' has 20,971,520 bytes in all, not more than Staging.MinFreeDiskBytes (536,870,912)");
        message.Should().Contain("Lower Staging.MinFreeDiskBytes or stage on a larger volume");
    }

    /// <summary>
    /// A topic in Topics that Kafka does not have (misspelt, or not created yet): the client consumes nothing from it
    /// and used to say so only in a warning every 30 s while health said Healthy. The status lists it, health is
    /// Degraded naming it, the other topic is written as usual, and once the topic exists it is consumed too.
    /// </summary>
    [Fact]
    public async Task ATopicThatDoesNotExist_IsNamedInStatusAndHealth_UntilItIsCreated()
    {
        var (topic, bucket) = await SetUpAsync("missing", 100);
        var later = topic + "-later";
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output));
        builder.Services.AddKafkaS3Sink("missing", sink => sink.Configure(o =>
        {
            Configure(o, topic, bucket, 100);
            o.Topics.Add(later);

            // The client looks for subscribed topics again every 5 minutes by default; the test cannot wait that long.
            o.KafkaProperties["topic.metadata.refresh.interval.ms"] = "1000";
        }));
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        using var host = builder.Build();
        var controller = host.Services.GetRequiredService<IKafkaS3SinkController>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();

        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [100], TimeSpan.FromSeconds(60));
        var deadline = Stopwatch.StartNew();
        while (controller.GetStatus("missing").MissingTopics.Count == 0 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        controller.GetStatus("missing").MissingTopics.Should().Equal([later], "the client said the topic is not there");
        var report = await health.CheckHealthAsync();
        report.Status.Should().Be(HealthStatus.Degraded);
        report.Entries.Values.Single().Description.Should().Contain($"topic(s) {later} do not exist in Kafka").And.Contain("correct Topics");
        logLines.Should().Contain(l => l.Contains($"the topic '{later}' does not exist in Kafka", StringComparison.Ordinal));

        servers.Kafka.CreateTopic(later, 1);
        SinkTestKit.Produce(servers.Kafka, later, Enumerable.Range(100, 100).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, later, [100], TimeSpan.FromSeconds(60));
        deadline.Restart();
        while (controller.GetStatus("missing").MissingTopics.Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }

        controller.GetStatus("missing").MissingTopics.Should().BeEmpty("the topic exists now");
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order();
        ids.Should().Equal(Enumerable.Range(0, 200), "both topics' records, each once");
    }

    [Fact]
    public async Task ObjectFilesLeftByAKilledProcess_AreClearedAtStart()
    {
        var leftover = Path.Combine(staging, ".objects", "17.obj");
        Directory.CreateDirectory(Path.GetDirectoryName(leftover)!);
        await File.WriteAllBytesAsync(leftover, new byte[1024]);
        var (topic, bucket) = await SetUpAsync("leftover", 100);
        using var sink = Sink(topic, bucket, 100);

        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic, topic, 1, TimeSpan.FromSeconds(90));

        File.Exists(leftover).Should().BeFalse();
        logLines.Should().Contain("Cleared 1 formatted object file(s) left in the staging folder by an earlier run.");
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Should().HaveCount(100);
    }

    [Fact]
    public async Task IncompleteMultipartUploadsOfAnEarlierOwner_AreAbortedOnAssignment()
    {
        var (topic, bucket) = await SetUpAsync("staleup", 100);
        using var s3 = servers.S3.CreateClient();
        var stale = $"topics/{topic}/partition=0/{topic}+0+0000000000.json";
        var other = $"topics/{topic}/partition=1/{topic}+1+0000000000.json";
        await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = stale });
        await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = other });
        using var sink = Sink(topic, bucket, 100);

        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic, topic, 1, TimeSpan.FromSeconds(90));

        var left = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        (left.MultipartUploads ?? []).Select(u => u.Key).Should().Equal([other], "only the assigned partition's uploads are the sink's to clean up");
        logLines.Should().Contain($"Aborted 1 incomplete multipart upload(s) of {topic}[0] left by an earlier owner.");
    }

    /// <summary>
    /// The set-ups of partitions assigned together share the listing of the topic's incomplete uploads (one LIST,
    /// not one per partition), and each partition still has its earlier owner's uploads aborted.
    /// </summary>
    [Fact]
    public async Task IncompleteUploadsOfSixteenPartitions_AreAbortedWithASharedListing()
    {
        const int Partitions = 16;
        var topic = "stalemany-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, Partitions * 20).Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i}}}")));
        var bucket = await servers.S3.CreateBucketAsync("stalemany");
        using var s3 = servers.S3.CreateClient();
        var other = $"topics/{topic}x/partition=0/{topic}x+0+0000000000.json";
        await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = other });
        for (var p = 0; p < Partitions; p++)
        {
            await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = $"topics/{topic}/partition={p}/{topic}+{p}+0000000000.json" });
        }

        // The first listing is held until every partition's lease is taken (each set-up lists after its lease), so
        // the set-ups of partitions whose first records came later ask while it is held and share the next one:
        // 2 listings, however the consumer's fetches spread the partitions' first records on a loaded machine.
        using var counting = new GatedS3Client(servers.S3, GatedS3Client.Stage.None) { HoldListingsUntilLeases = Partitions };
        using (var sink = new KafkaS3SinkBuilder().Configure(o => Configure(o, topic, bucket, 10)).UseLoggerFactory(loggerFactory).UseS3Client(counting).Build())
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic, topic, Partitions, TimeSpan.FromSeconds(90));
        }

        var left = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
        (left.MultipartUploads ?? []).Select(u => u.Key).Should().Equal([other], "every assigned partition's stale upload was aborted, nothing else");
        for (var p = 0; p < Partitions; p++)
        {
            logLines.Should().Contain($"Aborted 1 incomplete multipart upload(s) of {topic}[{p}] left by an earlier owner.");
        }

        var listings = counting.Requests.GetValueOrDefault("LIST uploads data");
        output.WriteLine($"listings of incomplete uploads: {listings} for {Partitions} partitions");
        listings.Should().BeInRange(2, 3, "a set-up shares a listing that had not started when it asked (2; a third if a set-up asked only after the second was sent)");
        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32());
        ids.Order().Should().Equal(Enumerable.Range(0, Partitions * 20), "every record once");
    }

    /// <summary>
    /// A sink that fails closes its consumer (the revoke runs, then LeaveGroup), so on a real cluster its
    /// partitions move at once instead of after session.timeout.ms. librdkafka's mock cluster makes the next
    /// member wait for the session timeout even after a clean leave, so this checks the close itself (the
    /// revoke logged before the failure) rather than the time to reassignment; a restart then completes.
    /// </summary>
    [Fact]
    public async Task FailedSink_ClosesItsConsumerBeforeItEnds_AndARestartCompletesExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("leave", 0);

        // A tombstone fails the sink (the default NullValues = Fail).
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 50).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, string?>(new Confluent.Kafka.ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers }).Build())
        {
            producer.Produce(new Confluent.Kafka.TopicPartition(topic, 0), new Confluent.Kafka.Message<string, string?> { Key = "k", Value = null });
            producer.Flush(TimeSpan.FromSeconds(10));
        }

        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(50, 10).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        using (var failing = Sink(topic, bucket, 10))
        {
            var act = () => failing.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            await act.Should().ThrowAsync<RecordConversionException>();
        }

        var lines = logLines.ToList();
        var revoked = lines.FindIndex(l => l == $"Partitions revoked from sink '{topic}': {topic}[0].");
        var failed = lines.FindIndex(l => l.StartsWith($"Sink '{topic}' failed.", StringComparison.Ordinal));
        revoked.Should().BeGreaterThan(-1, "the failed sink closes its consumer, which revokes its partitions and leaves the group");
        revoked.Should().BeLessThan(failed, "the consumer is closed before the sink reports its failure");

        using var next = Sink(topic, bucket, 10, o => o.NullValues = NullValueBehavior.Ignore);
        await SinkTestKit.RunToEndAsync(next, servers.Kafka, topic, topic, 1, TimeSpan.FromSeconds(60));
        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order();
        ids.Should().Equal(Enumerable.Range(0, 60));
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (mounted)
        {
            Root.Run("umount", staging);
        }

        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<(string Topic, string Bucket)> SetUpAsync(string name, int records)
    {
        var topic = name + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, records).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        return (topic, await servers.S3.CreateBucketAsync(name));
    }

    private KafkaS3Sink Sink(string topic, string bucket, int flushSize, Action<KafkaS3SinkOptions>? configure = null) => new KafkaS3SinkBuilder()
        .Configure(o =>
        {
            Configure(o, topic, bucket, flushSize);
            configure?.Invoke(o);
        })
        .UseLoggerFactory(loggerFactory)
        .Build();

    private void Configure(KafkaS3SinkOptions o, string topic, string bucket, int flushSize)
    {
        o.Name = topic;
        o.BootstrapServers = servers.Kafka.BootstrapServers;
        o.GroupId = topic;
        o.Topics.Add(topic);
        o.FlushSize = flushSize;
        o.Staging.Directory = staging;
        o.KafkaProperties["session.timeout.ms"] = "6000";
        o.KafkaProperties["heartbeat.interval.ms"] = "500";
        servers.S3.Configure(o.S3, bucket);
    }
}
