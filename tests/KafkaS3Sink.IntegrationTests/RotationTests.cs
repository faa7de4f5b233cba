using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Rotation")]
public sealed class RotationTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-rot-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task IdleFlush_QuietTopic_LastRecordsReachS3WithoutNewData()
    {
        var (topic, group, bucket) = await SetUpAsync("idle", partitions: 2);
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 37).Select(i => (i % 2, (string?)null, $"{{\"id\":{i}}}")));

        await RunUntilCommittedAsync(topic, group, bucket, 2, o =>
        {
            o.FlushSize = 1_000; // never reached
            o.IdleRotateInterval = TimeSpan.FromMilliseconds(500);
        });

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Select(o => o.Key).Should().BeEquivalentTo($"topics/{topic}/partition=0/{topic}+0+0000000000.json", $"topics/{topic}/partition=1/{topic}+1+0000000000.json");
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 37));
    }

    [Fact]
    public async Task ScheduledRotation_BurstsSecondsApart_OneRotationPerBurstAndNothingLeftBehind()
    {
        var (topic, group, bucket) = await SetUpAsync("sched", partitions: 1);
        using var stop = new CancellationTokenSource();
        using var sink = Build(topic, group, bucket, o =>
        {
            o.FlushSize = 100_000;
            o.RotateScheduleInterval = TimeSpan.FromSeconds(1);
            o.RotateScheduleTimeZone = "Asia/Kolkata";
        });
        var run = sink.RunAsync(stop.Token);
        for (var burst = 0; burst < 3; burst++)
        {
            SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(burst * 50, 50).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [(burst + 1) * 50L], TimeSpan.FromSeconds(30), run);
        }

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(2)); // a sink that does not stop fails the test instead of hanging it
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Count.Should().BeGreaterThanOrEqualTo(3, "each burst is committed by a scheduled rotation before the next is produced");
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 150));
    }

    /// <summary>
    /// Invariant 6 with a failing commit: an idle-flush rotation (cut where a replay may not cut) is in S3 but its
    /// offset commit keeps failing; the next rotation must wait, not upload. Then the sink stops with its commit
    /// still failing (as after a crash) and a second sink replays every record in one burst, cut elsewhere: it
    /// overwrites the one object the first wrote, and no record is in S3 twice. Had the second rotation been
    /// uploaded, its object (start offset 100) would survive the replay with 100 duplicated records.
    /// </summary>
    [Fact]
    public async Task ReplayUnsafeRotation_CommitFailing_NextUploadWaits_AndAReplayDuplicatesNothing()
    {
        var mock = servers.Kafka.Mock;
        if (mock is null)
        {
            output.WriteLine("Against a real broker commit errors cannot be injected: nothing to test here.");
            return;
        }

        var (topic, group, bucket) = await SetUpAsync("heldcut", partitions: 1);
        void Configure(KafkaS3SinkOptions o)
        {
            o.FlushSize = 100_000;
            o.IdleRotateInterval = TimeSpan.FromMilliseconds(500);
            o.Retry.MaxBackoff = TimeSpan.FromMilliseconds(500);
            o.KafkaProperties["session.timeout.ms"] = "6000"; // the mock cluster frees a closed member's partitions after it
        }

        mock.PushRequestErrors(8, Enumerable.Repeat(15, 2_000).ToArray()); // OffsetCommit: COORDINATOR_NOT_AVAILABLE
        try
        {
            using var stop = new CancellationTokenSource();
            using (var first = Build(topic, group, bucket, Configure))
            {
                var run = first.RunAsync(stop.Token);
                SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 100).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
                await WaitForObjectsAsync(bucket, 1, run);

                SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(100, 100).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
                await Task.Delay(TimeSpan.FromSeconds(4)); // the second burst is rotated by idle flush within ~0.5 s
                var keys = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Select(o => o.Key).ToList();
                keys.Should().Equal([$"topics/{topic}/partition=0/{topic}+0+0000000000.json"], "the second rotation waits until the first is committed to Kafka");
                SinkTestKit.Committed(servers.Kafka, group, topic, 1).Should().Equal([-1L], "every commit was refused");
                first.GetStatus().State.Should().Be(SinkState.Running);

                await stop.CancelAsync();
                await run.WaitAsync(TimeSpan.FromMinutes(2));
            }
        }
        finally
        {
            mock.ClearRequestErrors(8);
        }

        SinkTestKit.Committed(servers.Kafka, group, topic, 1).Should().Equal([-1L], "the first sink stopped with its commit refused, as a crash would leave it");
        await RunUntilCommittedAsync(topic, group, bucket, 1, Configure);
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 200), "every record once after the replay");
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<(string Topic, string Group, string Bucket)> SetUpAsync(string name, int partitions)
    {
        var topic = name + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, partitions);
        return (topic, topic + "-sink", await servers.S3.CreateBucketAsync(name));
    }

    private KafkaS3Sink Build(string topic, string group, string bucket, Action<KafkaS3SinkOptions> configure) => new KafkaS3SinkBuilder()
        .Configure(o =>
        {
            o.Name = group;
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = group;
            o.Topics.Add(topic);
            o.Staging.Directory = staging;
            servers.S3.Configure(o.S3, bucket);
            configure(o);
        })
        .UseLoggerFactory(loggerFactory)
        .Build();

    private async Task WaitForObjectsAsync(string bucket, int count, Task run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Count < count)
        {
            if (run.IsCompleted)
            {
                await run;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"{count} object(s) should reach S3 within 60 s");
            await Task.Delay(200);
        }
    }

    private async Task RunUntilCommittedAsync(string topic, string group, string bucket, int partitions, Action<KafkaS3SinkOptions> configure)
    {
        using var sink = Build(topic, group, bucket, configure);
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, topic, partitions, TimeSpan.FromSeconds(60));
    }
}
