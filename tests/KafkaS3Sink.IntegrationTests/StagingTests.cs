using System.Globalization;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The staging stage through the real Kafka protocol and S3: handle cap, open-segment cap, disk quota.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
public sealed class StagingTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 4;
    private const int PerPartition = 2_000;
    private const int Paths = 50;
    private readonly string stagingRoot = Path.Combine(Path.GetTempPath(), "kafkas3sink-it-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task Run_MoreOpenSegmentsThanHandleCap_ObjectsAreCorrectAndHandlesStayCapped()
    {
        var (topic, group, bucket) = await SetUpAsync("handles");
        using var metrics = new MetricsRecorder(group);

        await RunToEndAsync(topic, group, bucket, flushSize: 1_000, o => o.Staging.MaxOpenFileHandles = 4);

        // 50 paths per partition (up to 50 open segments per partition), through 4 handles. The gauge is
        // sampled every 10 ms, so it may miss the peak: assert only that it saw far more segments than handles.
        metrics.Max["kafkas3sink.segments.open"].Should().BeGreaterThanOrEqualTo(10);
        metrics.Max["kafkas3sink.segments.handles"].Should().BeLessThanOrEqualTo(4);
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        AssertExactlyOnce(objects);

        // Deterministic cuts: two rotations of 1,000 records per partition, one object per path per rotation,
        // keyed by the first offset of the path in the rotation.
        var expectedKeys = new List<string>();
        for (var p = 0; p < Partitions; p++)
        {
            for (var rotationStart = 0; rotationStart < PerPartition; rotationStart += 1_000)
            {
                var firstOffsetOfPath = new SortedDictionary<int, int>();
                for (var offset = rotationStart; offset < rotationStart + 1_000; offset++)
                {
                    firstOffsetOfPath.TryAdd(PathOf(offset), offset);
                }

                expectedKeys.AddRange(firstOffsetOfPath.Select(kv => $"topics/{topic}/bucket={kv.Key}/{topic}+{p}+{kv.Value:D10}.json"));
            }
        }

        objects.Select(o => o.Key).Should().BeEquivalentTo(expectedKeys);
        foreach (var (key, lines) in objects)
        {
            var bucketValue = key.Split('/')[2]["bucket=".Length..];
            lines.Select(l => PathOf(SinkTestKit.Json(l).GetProperty("id").GetInt32() / Partitions))
                .Should().OnlyContain(v => v.ToString(CultureInfo.InvariantCulture) == bucketValue);
        }
    }

    [Fact]
    public async Task Run_OpenSegmentCapExceeded_RotatesWholePartitionsAndStaysExactlyOnce()
    {
        var (topic, group, bucket) = await SetUpAsync("segcap");
        using var metrics = new MetricsRecorder(group);

        await RunToEndAsync(topic, group, bucket, flushSize: 1_000, o => o.Staging.MaxOpenSegments = 30);

        metrics.Sums["kafkas3sink.rotations.forced"].Should().BeGreaterThan(0);
        metrics.Max["kafkas3sink.segments.open"].Should().BeLessThanOrEqualTo(30);
        AssertExactlyOnce(await SinkTestKit.ReadObjectsAsync(servers.S3, bucket));
    }

    [Fact]
    public async Task Run_QuotaSmallerThanTheData_PausesAndResumesWithoutLossOrDuplicates()
    {
        var (topic, group, bucket) = await SetUpAsync("quota");
        using var metrics = new MetricsRecorder(group);
        const long quota = 64 * 1024; // the data is ~1 MB

        await RunToEndAsync(topic, group, bucket, flushSize: 1_000, o =>
        {
            o.Staging.MaxStagedBytes = quota;
            o.Staging.ResumeStagedBytes = quota / 2;
        });

        metrics.Sums["kafkas3sink.pauses"].Should().BeGreaterThan(0, "the sink must have paused");
        metrics.Sums["kafkas3sink.rotations.forced"].Should().BeGreaterThan(0);

        // Appends stop at the quota; while paused, a sealed segment and its formatted object coexist until upload.
        metrics.Max["kafkas3sink.staged.bytes"].Should().BeLessThan(3 * quota);
        AssertExactlyOnce(await SinkTestKit.ReadObjectsAsync(servers.S3, bucket));
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(stagingRoot))
        {
            Directory.Delete(stagingRoot, recursive: true);
        }
    }

    private async Task<(string Topic, string Group, string Bucket)> SetUpAsync(string name)
    {
        var topic = name + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync(name);

        // Record id i goes to partition i % 4 at offset i / 4; its path is bucket=PathOf(offset), field "b".
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, Partitions * PerPartition)
            .Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i},\"b\":{PathOf(i / Partitions)},\"filler\":\"{new string('x', 60)}\"}}")));
        return (topic, topic + "-sink", bucket);
    }

    private async Task RunToEndAsync(string topic, string group, string bucket, int flushSize, Action<KafkaS3SinkOptions> configure)
    {
        using var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = group;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = group;
                o.Topics.Add(topic);
                o.FlushSize = flushSize;
                o.Staging.Directory = stagingRoot;
                servers.S3.Configure(o.S3, bucket);
                configure(o);
            })
            .UsePartitioner(r => "bucket=" + (((System.Text.Json.JsonElement)r.Value!).GetProperty("b").GetInt32()).ToString(CultureInfo.InvariantCulture))

            // Count-based, plus: rotate at the last record of the data, so nothing stays staged at the end.
            .UseRotationPolicy(new CountOrLastRecordPolicy(flushSize, PerPartition - 1))
            .UseLoggerFactory(loggerFactory)
            .Build();
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, topic, Partitions, TimeSpan.FromMinutes(3));
    }

    /// <summary>Runs of 20 consecutive records share a path; 50 paths in turn.</summary>
    private static int PathOf(int offset) => offset / 20 % Paths;

    private static void AssertExactlyOnce(List<(string Key, List<string> Lines)> objects)
    {
        var ids = objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems("no record may be written twice");
        ids.Order().Should().Equal(Enumerable.Range(0, Partitions * PerPartition), "every record must be written");
    }

    private sealed class CountOrLastRecordPolicy(long count, long lastOffset) : IRotationPolicy
    {
        public bool ShouldRotate(in RotationState state) => state.RecordCount >= count || state.LastOffset == lastOffset;
    }
}
