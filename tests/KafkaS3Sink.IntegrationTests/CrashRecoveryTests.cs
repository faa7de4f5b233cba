using System.Globalization;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The sink in its own process, killed with SIGKILL at random moments and started again.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "CrashRecovery")]
public sealed class CrashRecoveryTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 8;
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-crash-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("count")]
    [InlineData("schedule+idle")]
    public async Task SinkProcess_KilledRepeatedlyWithTornSegmentTails_EveryRecordExactlyOnce(string rotation)
    {
        const int perPartition = 12_500; // 100,000 records on 8 partitions
        // 625 divides 12,500 (so the tail rotates) but not a producer batch of 500 per partition, so
        // most kills find open segments; count-only rotation would otherwise leave nothing to tear.
        var flushSize = rotation == "count" ? 625 : 100_000;
        var topic = "crash-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("crash");
        var environment = SinkProcess.Environment(servers, topic, group, bucket, staging, flushSize);

        // Small write buffers put partial rotations on disk, so a kill leaves segment files to tear.
        environment["SINK_WRITE_BUFFER"] = "512";
        environment["SINK_PARTITIONER"] = "field:event.region+hourly-field:event.time";
        if (rotation != "count")
        {
            // Wall-clock rotation every second on the second, and a flush of partitions idle for 700 ms.
            environment["SINK_SCHEDULE_MS"] = "1000";
            environment["SINK_IDLE_MS"] = "700";
        }

        // Records arrive over ~10 s while the sink is killed and restarted.
        var producing = Task.Run(async () =>
        {
            const int batches = 25;
            for (var b = 0; b < batches; b++)
            {
                var from = b * Partitions * perPartition / batches;
                SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, Partitions * perPartition / batches).Select(Record));
                await Task.Delay(400);
            }
        });

        var random = new Random(20261127);
        var kills = 0;
        var tornFiles = 0;
        while (kills < 6)
        {
            using var sink = await SinkProcess.StartAsync(environment, Log);
            await sink.Assigned.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(random.Next(100, 1200));

            // Kill while a segment is open (bounded: the precondition below still counts what was torn).
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (DateTime.UtcNow < deadline && !OpenSegments().Any(f => LengthOf(f) > 64))
            {
                await Task.Delay(20);
            }

            sink.HasExited.Should().BeFalse("the sink must not stop on its own");
            sink.Kill();
            kills++;

            // Simulate a torn write: cut the tail of every open segment file mid-record and add garbage.
            foreach (var file in OpenSegments())
            {
                var length = LengthOf(file);
                if (length > 64)
                {
                    using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
                    stream.SetLength(length - 7);
                    stream.Seek(0, SeekOrigin.End);
                    stream.Write([0xDE, 0xAD, 0xBE]);
                    tornFiles++;
                }
            }

            Log($"kill {kills}: committed {string.Join(",", SinkTestKit.Committed(servers.Kafka, group, topic, Partitions))}; torn files so far {tornFiles}");
        }

        await producing;
        using (var last = await SinkProcess.StartAsync(environment, Log))
        {
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, Enumerable.Repeat((long)perPartition, Partitions).ToArray(), TimeSpan.FromMinutes(3));
            await last.StopAsync();
        }

        tornFiles.Should().BeGreaterThan(0, "the test must have torn at least one staged segment");
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        var ids = objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems("no record may be written twice");
        ids.Order().Should().Equal(Enumerable.Range(0, Partitions * perPartition), "every record must be written");

        // Every record is under its region and the hour of its event time.
        foreach (var (key, lines) in objects)
        {
            foreach (var line in lines)
            {
                var e = SinkTestKit.Json(line).GetProperty("event");
                var time = DateTimeOffset.Parse(e.GetProperty("time").GetString()!, CultureInfo.InvariantCulture);
                key.Should().Contain(string.Create(CultureInfo.InvariantCulture, $"/region={e.GetProperty("region").GetString()}/year={time:yyyy}/month={time:MM}/day={time:dd}/hour={time:HH}/"));
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    // Segment files still being written; the sink may seal or delete them while this runs.
    private List<string> OpenSegments()
    {
        try
        {
            return Directory.Exists(staging) ? Directory.EnumerateFiles(staging, "*.tmp", SearchOption.AllDirectories).ToList() : [];
        }
        catch (IOException)
        {
            return [];
        }
    }

    private static long LengthOf(string file)
    {
        try
        {
            return new FileInfo(file).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static (int, string?, string) Record(int i)
    {
        var time = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero).AddSeconds(i * 0.2);
        var region = (i / 13 % 3) switch { 0 => "eu", 1 => "us", _ => "apac" };
        return (i % Partitions, null, string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"event\":{{\"region\":\"{region}\",\"time\":\"{time:O}\"}}}}"));
    }

    private void Log(string line)
    {
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    }
}
