using System.Globalization;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SinkEndToEndTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 8;
    private readonly string stagingRoot = Path.Combine(Path.GetTempPath(), "kafkas3sink-it-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task Run_20000JsonRecordsOn8Partitions_EveryRecordExactlyOnceUnderConfluentKeys()
    {
        var topic = "orders-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("e2e");
        SinkTestKit.Produce(servers.Kafka, topic, Records(0, 20_000));

        using var sink = BuildSink(topic, group, bucket, flushSize: 500);
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, topic, Partitions, TimeSpan.FromMinutes(3));

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        var expectedKeys = Enumerable.Range(0, Partitions)
            .SelectMany(p => Enumerable.Range(0, 5).Select(i => $"topics/{topic}/partition={p}/{topic}+{p}+{i * 500:D10}.json"));
        objects.Select(o => o.Key).Should().BeEquivalentTo(expectedKeys);
        objects.Should().OnlyContain(o => o.Lines.Count == 500);
        AssertExactlyOnce(objects, 20_000);

        // Each object holds its partition's records in offset order, starting at the offset in its key.
        foreach (var (key, lines) in objects)
        {
            var partition = int.Parse(key.Split('+')[1], CultureInfo.InvariantCulture);
            var start = long.Parse(key.Split('+')[2].Split('.')[0], CultureInfo.InvariantCulture);
            var seqs = lines.Select(l => SinkTestKit.Json(l)).ToList();
            seqs.Should().OnlyContain(j => j.GetProperty("p").GetInt32() == partition);
            seqs.Select(j => j.GetProperty("seq").GetInt64()).Should().Equal(Enumerable.Range((int)start, 500).Select(i => (long)i));
        }
    }

    [Fact]
    public async Task Run_StoppedAndStartedAgainMidStream_EveryRecordExactlyOnce()
    {
        var topic = "restart-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("restart");
        // 900 records per partition with flush.size 400: whatever the timing, the first run cannot commit
        // the last 100 of each partition, so it always stops mid-stream with records staged.
        SinkTestKit.Produce(servers.Kafka, topic, Records(0, 7_200));

        // First run: stop as soon as part of the data is committed, with uploads possibly in flight.
        using (var first = BuildSink(topic, group, bucket, flushSize: 400))
        {
            using var stop = new CancellationTokenSource();
            var run = first.RunAsync(stop.Token);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (SinkTestKit.Committed(servers.Kafka, group, topic, Partitions).Count(o => o > 0) < 3 && DateTime.UtcNow < deadline)
            {
                run.IsCompleted.Should().BeFalse("the sink must not stop on its own");
                await Task.Delay(20);
            }

            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromMinutes(2)); // a sink that does not stop fails the test instead of hanging it
        }

        var committedAtStop = SinkTestKit.Committed(servers.Kafka, group, topic, Partitions);
        output.WriteLine("committed at stop: " + string.Join(",", committedAtStop));
        committedAtStop.Count(o => o > 0).Should().BeGreaterThanOrEqualTo(3);
        committedAtStop.Should().OnlyContain(o => o <= 800, "only whole rotations are committed");

        // More records arrive while no sink runs; then a new sink (new staging state) resumes: 1,600 per partition.
        SinkTestKit.Produce(servers.Kafka, topic, Records(7_200, 5_600));
        using (var second = BuildSink(topic, group, bucket, flushSize: 400))
        {
            await SinkTestKit.RunToEndAsync(second, servers.Kafka, group, topic, Partitions, TimeSpan.FromMinutes(3));
        }

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        AssertExactlyOnce(objects, 12_800);
        objects.Should().HaveCount(32).And.OnlyContain(o => o.Lines.Count == 400, "replayed rotations cut the same objects as the first attempt");
    }

    [Fact]
    public async Task Run_ObjectSettings_MetadataTagsAclAndStorageClassOnEveryObject()
    {
        var topic = "meta-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("meta");
        SinkTestKit.Produce(servers.Kafka, topic, Records(0, 1_600));

        using (var sink = BuildSink(topic, group, bucket, flushSize: 100, o =>
        {
            o.S3.CannedAcl = "bucket-owner-full-control";
            o.S3.StorageClass = "STANDARD";
            o.S3.ObjectTags["team"] = "data platform";
            o.S3.TagObjectsWithOffsets = true;
        }))
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, topic, Partitions, TimeSpan.FromMinutes(2));
        }

        using var client = servers.S3.CreateClient();
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Should().HaveCount(16);
        foreach (var (key, lines) in objects)
        {
            var start = long.Parse(key.Split('+')[2].Split('.')[0], CultureInfo.InvariantCulture);
            var head = await client.GetObjectMetadataAsync(bucket, key);
            head.Metadata["x-amz-meta-kafkas3sink-topic"].Should().Be(topic);
            head.Metadata["x-amz-meta-kafkas3sink-start-offset"].Should().Be(start.ToString(CultureInfo.InvariantCulture));
            head.Metadata["x-amz-meta-kafkas3sink-end-offset"].Should().Be((start + 99).ToString(CultureInfo.InvariantCulture));
            head.Metadata["x-amz-meta-kafkas3sink-record-count"].Should().Be(lines.Count.ToString(CultureInfo.InvariantCulture));
            var tags = (await client.GetObjectTaggingAsync(new Amazon.S3.Model.GetObjectTaggingRequest { BucketName = bucket, Key = key })).Tagging
                .ToDictionary(t => t.Key, t => t.Value);
            tags.Should().BeEquivalentTo(new Dictionary<string, string>
            {
                ["team"] = "data platform",
                ["startOffset"] = start.ToString(CultureInfo.InvariantCulture),
                ["endOffset"] = (start + 99).ToString(CultureInfo.InvariantCulture),
                ["recordCount"] = "100",
            });
        }
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(stagingRoot))
        {
            Directory.Delete(stagingRoot, recursive: true);
        }
    }

    /// <summary>A host that stops while the sink starts (here: before it probes the bucket) stops it cleanly, not as a failure.</summary>
    [Fact]
    public async Task Run_StoppedBeforeItStarted_EndsStoppedNotFailed()
    {
        var topic = "early-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("early");
        using var sink = BuildSink(topic, topic + "-sink", bucket, flushSize: 10);

        await sink.RunAsync(new CancellationToken(canceled: true)).WaitAsync(TimeSpan.FromSeconds(30));

        sink.State.Should().Be(SinkState.Stopped);
        sink.Failure.Should().BeNull();
    }

    /// <summary>A bucket that does not exist stops the start with the bucket named, before anything is consumed.</summary>
    [Fact]
    public async Task Run_BucketDoesNotExist_FailsAtStartNamingTheBucket()
    {
        var topic = "nobucket-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = "missing-" + Guid.NewGuid().ToString("N");
        using var sink = BuildSink(topic, topic + "-sink", bucket, flushSize: 10);

        var act = () => sink.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which.Message.Should().Be($"S3 bucket '{bucket}' does not exist (404 NoSuchBucket): create it or correct S3.BucketName (s3.bucket.name).");
        sink.State.Should().Be(SinkState.Failed);
        SinkTestKit.Committed(servers.Kafka, topic + "-sink", topic, 1).Should().Equal(-1);
    }

    private KafkaS3Sink BuildSink(string topic, string group, string bucket, int flushSize, Action<KafkaS3SinkOptions>? configure = null) => new KafkaS3SinkBuilder()
        .Configure(o =>
        {
            o.Name = group;
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = group;
            o.Topics.Add(topic);
            o.FlushSize = flushSize;
            o.Staging.Directory = stagingRoot;
            o.KafkaProperties["session.timeout.ms"] = "6000";
            o.KafkaProperties["heartbeat.interval.ms"] = "500";
            servers.S3.Configure(o.S3, bucket);
            configure?.Invoke(o);
        })
        .UseLoggerFactory(loggerFactory)
        .Build();

    /// <summary>Records with a global sequence number; partition = seq % 8, so each partition's offsets are seq / 8.</summary>
    private static IEnumerable<(int, string?, string)> Records(int from, int count) => Enumerable.Range(from, count)
        .Select(i => (i % Partitions, (string?)("k" + i), $"{{\"id\":{i},\"p\":{i % Partitions},\"seq\":{i / Partitions},\"payload\":\"order {i}\"}}"));

    private static void AssertExactlyOnce(List<(string Key, List<string> Lines)> objects, int expected)
    {
        var ids = objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().HaveCount(expected, "every record exactly once (no duplicates)");
        ids.Should().OnlyHaveUniqueItems();
        ids.Order().Should().Equal(Enumerable.Range(0, expected), "no record missing");
    }
}
