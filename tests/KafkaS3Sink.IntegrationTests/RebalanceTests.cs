using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Several sink instances in one consumer group, joining and leaving while records arrive.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Rebalance")]
public sealed class RebalanceTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 8;
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-rebal-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Theory]
    [InlineData("count")]
    [InlineData("schedule+idle")]
    public async Task InstancesJoinAndLeave_WhileRecordsArrive_EveryRecordExactlyOnce(string rotation)
    {
        const int perPartition = 3_000;
        var topic = "rebal-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("rebal");

        var producing = Task.Run(async () =>
        {
            const int batches = 30;
            for (var b = 0; b < batches; b++)
            {
                var from = b * Partitions * perPartition / batches;
                SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, Partitions * perPartition / batches)
                    .Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i},\"region\":\"r{i % 5}\"}}")));
                await Task.Delay(250);
            }
        });

        var running = new List<(KafkaS3Sink Sink, CancellationTokenSource Stop, Task Run)>();
        var instance = 0;
        (KafkaS3Sink, CancellationTokenSource, Task) Start()
        {
            var name = $"{group}-{instance++}";
            var sink = new KafkaS3SinkBuilder()
                .Configure(o =>
                {
                    o.Name = name;
                    o.BootstrapServers = servers.Kafka.BootstrapServers;
                    o.GroupId = group;
                    o.Topics.Add(topic);
                    o.FlushSize = rotation == "count" ? 300 : 1_000_000;
                    if (rotation != "count")
                    {
                        o.RotateScheduleInterval = TimeSpan.FromSeconds(1);
                        o.IdleRotateInterval = TimeSpan.FromMilliseconds(600);
                    }

                    o.Staging.Directory = Path.Combine(staging, name);
                    o.KafkaProperties["session.timeout.ms"] = "6000";
                    o.KafkaProperties["heartbeat.interval.ms"] = "500";
                    servers.S3.Configure(o.S3, bucket);
                })
                .UsePartitioner(p => p.Field("region"))
                .UseLoggerFactory(loggerFactory)
                .Build();
            var stop = new CancellationTokenSource();
            return (sink, stop, sink.RunAsync(stop.Token));
        }

        async Task StopOldest()
        {
            var (sink, stop, run) = running[0];
            running.RemoveAt(0);
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromMinutes(2)); // a sink that does not stop fails the test instead of hanging it
            sink.Dispose();
            stop.Dispose();
        }

        // Join, join, leave, join, leave, join, leave: 2-3 members at a time, a rebalance every ~1.5 s.
        running.Add(Start());
        await Task.Delay(1500);
        running.Add(Start());
        foreach (var step in new[] { "leave", "join", "leave", "join", "leave", "join" })
        {
            await Task.Delay(1500);
            running.Should().OnlyContain(r => !r.Run.IsCompleted, "no sink may fail");
            if (step == "leave")
            {
                await StopOldest();
            }
            else
            {
                running.Add(Start());
            }
        }

        await producing;
        var targets = Enumerable.Repeat((long)perPartition, Partitions).ToArray();

        // With "count", 3,000 per partition is a multiple of 300, so the last rotation is cut by count;
        // otherwise the schedule and the idle flush cut it.
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, targets, TimeSpan.FromMinutes(3), running[^1].Run);

        while (running.Count > 0)
        {
            await StopOldest();
        }

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        var ids = objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems("no record may be written twice");
        ids.Order().Should().Equal(Enumerable.Range(0, Partitions * perPartition), "every record must be written");
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }
}
