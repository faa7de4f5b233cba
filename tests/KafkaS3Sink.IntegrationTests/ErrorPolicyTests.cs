using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Bad records through the Kafka protocol and real S3, one kind at a time: with errors.tolerance=none the sink
/// stops naming the record (and a restart stops at it again); with all, every good record is in S3 exactly once at
/// its key, and every bad one is in the dead-letter topic with its original key, value and headers and Kafka
/// Connect's context headers.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "ErrorPolicy")]
public sealed class ErrorPolicyTests : IDisposable
{
    private const int Good = 40;

    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-errors-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logLines = new();
    private readonly IntegrationServers servers;
    private readonly ILoggerFactory loggerFactory;

    public ErrorPolicyTests(IntegrationServers servers, ITestOutputHelper output)
    {
        this.servers = servers;
        loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Information));
    }

    private static readonly string[] KindNames = ["malformed-json", "invalid-utf8", "array", "missing-field", "long-path", "bad-timestamp", "out-of-range-timestamp", "oversized", "throwing-partitioner"];

    public static TheoryData<string> Kinds => [.. KindNames];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ToleranceNone_StopsNamingTheRecord_AndARestartStopsAtTheSameRecord(string kind)
    {
        var (poison, reason, stage) = Poison(kind, 0);
        var topic = "none-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        ProduceMixed(topic, 0, [(25, poison)]);
        var bucket = await servers.S3.CreateBucketAsync("none");

        var messages = new List<string>();
        for (var run = 0; run < 2; run++)
        {
            using var sink = Sink(topic, bucket, _ => { });
            var act = () => sink.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90));
            var thrown = (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which;
            thrown.Should().BeAssignableTo(stage == "VALUE_CONVERTER" || kind == "oversized" ? typeof(RecordConversionException) : typeof(RecordPartitioningException));
            (thrown is RecordConversionException c ? c.Record : ((RecordPartitioningException)thrown).Record)!.Offset.Should().Be(25);
            messages.Add(thrown.Message);
            sink.GetStatus().State.Should().Be(SinkState.Failed);
        }

        foreach (var message in messages)
        {
            message.Should().Contain($"record {topic}[0]@25:").And.Contain(reason).And.Contain("errors.tolerance=none").And.Contain("errors.tolerance=all");
        }

        messages[1].Should().Be(messages[0], "the policy is a function of the record: a restart stops at the same record for the same reason");
        SinkTestKit.Committed(servers.Kafka, topic, topic, 1)[0].Should().BeLessThanOrEqualTo(25, "nothing past the bad record is committed");
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ToleranceAllWithDeadLetterTopic_EveryGoodRecordOnceAtItsKey_EveryBadOneDeadLetteredWithContext(string kind)
    {
        var topic = "dlq-" + Guid.NewGuid().ToString("N")[..8];
        var deadLetters = topic + "-dlq";
        servers.Kafka.CreateTopic(topic, 2);
        servers.Kafka.CreateTopic(deadLetters, 1);

        // Bad records in the middle of a rotation, first in a partition, and last (no rotation follows it).
        var placed = new (int Partition, int Index)[] { (0, 5), (0, 23), (0, Good + 2), (1, 0) };
        var bad = placed.Select((p, i) => (p.Partition, p.Index, Value: Poison(kind, i).Value)).ToList();
        var offsets = new Dictionary<(int, int), long>();
        foreach (var partition in new[] { 0, 1 })
        {
            foreach (var (index, offset) in ProduceMixed(topic, partition, bad.Where(b => b.Partition == partition).Select(b => (b.Index, b.Value)).ToList()))
            {
                offsets[(partition, index)] = offset;
            }
        }

        var bucket = await servers.S3.CreateBucketAsync("dlq");
        using (var sink = Sink(topic, bucket, o =>
        {
            o.Errors.Tolerance = ErrorTolerance.All;
            o.Errors.DeadLetterTopic = deadLetters;
            o.Errors.DeadLetterContextHeaders = true;
            o.Errors.LogErrors = true;
        }))
        {
            using var stop = new CancellationTokenSource();
            var run = sink.RunAsync(stop.Token);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, SinkTestKit.EndOffsets(servers.Kafka, topic, 2), TimeSpan.FromSeconds(90), run);
            var status = sink.GetStatus();
            status.RecordsSkipped.Should().Be(placed.Length);
            var lastOfPartition0 = $"{topic}[0]: offset {offsets[(0, Good + 2)]} (";
            status.RecordErrors.Should().HaveCount(2).And.Contain(e => e.StartsWith(lastOfPartition0, StringComparison.Ordinal), "the last bad record of each partition is shown");
            status.State.Should().Be(SinkState.Running);
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromMinutes(1));
        }

        await AssertGoodRecordsOnceAsync(topic, bucket, partitions: 2);

        var (_, reason, stage) = Poison(kind, 0);
        var dead = ReadTopic(deadLetters, placed.Length);
        dead.Should().HaveCount(placed.Length, "every bad record once, and nothing else");
        foreach (var (partition, index, value) in bad)
        {
            var offset = offsets[(partition, index)];
            var copy = dead.Single(d => Header(d, "__connect.errors.offset") == offset.ToString(CultureInfo.InvariantCulture) && Header(d, "__connect.errors.partition") == partition.ToString(CultureInfo.InvariantCulture));
            copy.Message.Key.Should().Equal(Encoding.UTF8.GetBytes($"bad-{partition}-{index}"));
            copy.Message.Value.Should().Equal(value, "the value bytes are produced unchanged");
            copy.Message.Timestamp.UnixTimestampMs.Should().Be(Timestamp(index).ToUnixTimeMilliseconds(), "the original timestamp is kept");
            var headers = copy.Message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))).ToList();
            headers[0].Should().Be(("trace", $"t-{partition}-{index}"), "the original headers come first, unchanged");
            Header(copy, "__connect.errors.topic").Should().Be(topic);
            Header(copy, "__connect.errors.connector.name").Should().Be(topic);
            Header(copy, "__connect.errors.task.id").Should().Be("0");
            Header(copy, "__connect.errors.stage").Should().Be(stage);
            Header(copy, "__connect.errors.class.name").Should().StartWith("KafkaS3Sink.");
            Header(copy, "__connect.errors.exception.class.name").Should().BeOneOf("KafkaS3Sink.RecordConversionException", "KafkaS3Sink.RecordPartitioningException");
            Header(copy, "__connect.errors.exception.message").Should().Contain($"{topic}[{partition}]@{offset}").And.Contain(reason);
            Header(copy, "__connect.errors.exception.stacktrace").Should().Contain(Header(copy, "__connect.errors.exception.class.name"));
        }

        var logged = $"Bad record {topic}[1]@{offsets[(1, 0)]} at stage {stage}";
        logLines.Should().Contain(l => l.StartsWith(logged, StringComparison.Ordinal), "errors.log.enable logs each one");
    }

    [Fact]
    public async Task ToleranceAllWithoutDeadLetterTopic_MixedBadRecords_SkippedCountedAndCommittedPast()
    {
        var topic = "skip-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var kinds = KindNames;
        ProduceMixed(topic, 0, [.. kinds.Select((k, i) => (3 + (i * 4), Poison(k, i).Value))]);
        var bucket = await servers.S3.CreateBucketAsync("skip");
        using (var measurements = new MetricsRecorder(topic))
        {
            using (var sink = Sink(topic, bucket, o => o.Errors.Tolerance = ErrorTolerance.All))
            {
                await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic, topic, 1, TimeSpan.FromSeconds(90));
            }

            measurements.Sums.GetValueOrDefault("kafkas3sink.records.skipped").Should().Be(kinds.Length);
            measurements.Sums.GetValueOrDefault("kafkas3sink.records.skipped{reason=conversion}").Should().Be(2);
            measurements.Sums.GetValueOrDefault("kafkas3sink.records.skipped{reason=partitioning}").Should().Be(6);
            measurements.Sums.GetValueOrDefault("kafkas3sink.records.skipped{reason=oversized}").Should().Be(1);
            measurements.Sums.Should().NotContainKey("kafkas3sink.records.deadlettered");
        }

        await AssertGoodRecordsOnceAsync(topic, bucket, partitions: 1);
        logLines.Should().Contain(l => l.StartsWith("Bad record skipped (errors.tolerance=all;", StringComparison.Ordinal), "without errors.log.enable a throttled summary still says so");
    }

    [Fact]
    public async Task DeadLetterBrokerDown_CommitsStayBeforeTheBadRecordUntilItIsAcknowledged()
    {
        var mock = servers.Kafka.Mock;
        if (mock is null)
        {
            return; // needs the mock cluster's fault injection
        }

        var topic = "dlqdown-" + Guid.NewGuid().ToString("N")[..8];
        var deadLetters = topic + "-dlq";
        servers.Kafka.CreateTopic(topic, 1);
        servers.Kafka.CreateTopic(deadLetters, 1);
        mock.SetPartitionLeader(topic, 0, 1);
        mock.SetPartitionLeader(deadLetters, 0, 3);
        mock.SetGroupCoordinator(topic, 1);
        ProduceMixed(topic, 0, [], lastId: 10);
        var bucket = await servers.S3.CreateBucketAsync("dlqdown");
        using var sink = Sink(topic, bucket, o =>
        {
            o.Errors.Tolerance = ErrorTolerance.All;
            o.Errors.DeadLetterTopic = deadLetters;

            // Deliveries give up after 2 s here, so the sink's own re-produce loop runs while the broker is down.
            o.Errors.DeadLetterProducerProperties["message.timeout.ms"] = "2000";
        });
        using var stop = new CancellationTokenSource();

        // Broker 3 (the dead-letter partition's leader) is up while the sink starts, then goes down before the bad record comes.
        var run = sink.RunAsync(stop.Token);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [10], TimeSpan.FromSeconds(60), run);
        mock.SetBrokerDown(3);
        long bad;
        try
        {
            bad = ProduceMixed(topic, 0, [(5, Poison("malformed-json", 0).Value)], firstId: 10).Single().Offset;
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [bad], TimeSpan.FromSeconds(60), run);
            var retrying = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!sink.GetStatus().Retrying.Any(r => r.Contains($"dead-letter produce to '{deadLetters}'", StringComparison.Ordinal)) && DateTime.UtcNow < retrying)
            {
                await Task.Delay(100);
            }

            sink.GetStatus().Retrying.Should().Contain(r => r.Contains($"dead-letter produce to '{deadLetters}' failing since", StringComparison.Ordinal), "a failed dead-letter produce is a transient fault, reported while retried (what makes health Degraded)");
            SinkTestKit.Committed(servers.Kafka, topic, topic, 1)[0].Should().Be(bad, "the rotations after the bad record are in S3, but it is not in the dead-letter topic yet");
        }
        finally
        {
            mock.SetBrokerUp(3);
        }

        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, SinkTestKit.EndOffsets(servers.Kafka, topic, 1), TimeSpan.FromSeconds(90), run);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(1));
        var dead = ReadTopic(deadLetters, 1);
        dead.Should().NotBeEmpty().And.OnlyContain(d => d.Message.Value.SequenceEqual(Poison("malformed-json", 0).Value), "the record is dead-lettered (at least once: a timed-out delivery may have landed)");
        sink.GetStatus().Retrying.Should().BeEmpty("the fault cleared once the broker was back");
        await AssertGoodRecordsOnceAsync(topic, bucket, partitions: 1);
    }

    /// <summary>
    /// SIGKILL after the dead-letter topic acknowledged two bad records but before the rotation around them was
    /// committed: the restart replays them and dead-letters them again (the documented at-least-once of the
    /// dead-letter topic, each copy with the same source coordinates), while S3 gets every good record once.
    /// </summary>
    [Fact]
    public async Task KilledBetweenDeadLetterAndCommit_S3ExactlyOnce_DeadLetterCopiesCarryTheSameCoordinates()
    {
        var topic = "dlqkill-" + Guid.NewGuid().ToString("N")[..8];
        var deadLetters = topic + "-dlq";
        servers.Kafka.CreateTopic(topic, 1);
        servers.Kafka.CreateTopic(deadLetters, 1);
        var bad = ProduceMixed(topic, 0, [(10, Poison("malformed-json", 0).Value), (20, Poison("invalid-utf8", 1).Value)]);
        var bucket = await servers.S3.CreateBucketAsync("dlqkill");
        // Flush size 1,000: no rotation completes in the first run, so nothing is committed.
        var environment = SinkProcess.Environment(servers, topic, group: topic, bucket, staging, flushSize: 1000);
        environment["SINK_ERRORS"] = "all";
        environment["SINK_DLQ"] = deadLetters;

        using (var first = await SinkProcess.StartAsync(environment, line => logLines.Enqueue(line)))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (ReadTopic(deadLetters, 0).Count < 2 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            first.Kill();
        }

        ReadTopic(deadLetters, 2).Should().HaveCount(2, "both bad records were acknowledged before the kill");
        SinkTestKit.Committed(servers.Kafka, topic, topic, 1)[0].Should().Be(-1, "the rotation around them was not in S3, so nothing was committed");

        environment["SINK_IDLE_MS"] = "500";
        using (var second = await SinkProcess.StartAsync(environment, line => logLines.Enqueue(line)))
        {
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, SinkTestKit.EndOffsets(servers.Kafka, topic, 1), TimeSpan.FromSeconds(90));
            await second.StopAsync();
        }

        await AssertGoodRecordsOnceAsync(topic, bucket, partitions: 1, defaultPartitioner: true);
        var copies = ReadTopic(deadLetters, 4);
        copies.Should().HaveCount(4, "the replay dead-letters both records again, and nothing more after the commit");
        foreach (var (_, offset) in bad)
        {
            var same = copies.Where(c => Header(c, "__connect.errors.offset") == offset.ToString(CultureInfo.InvariantCulture)).ToList();
            same.Should().HaveCount(2);
            same[1].Message.Value.Should().Equal(same[0].Message.Value);
            same[1].Message.Key.Should().Equal(same[0].Message.Key);
            Header(same[1], "__connect.errors.topic").Should().Be(topic).And.Be(Header(same[0], "__connect.errors.topic"));
        }
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>A bad value of a kind, the reason the sink gives for it, and Kafka Connect's stage name.</summary>
    internal static (byte[] Value, string Reason, string Stage) Poison(string kind, int n) => kind switch
    {
        "malformed-json" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\""), "the value is not valid JSON", "VALUE_CONVERTER"),
        "invalid-utf8" => ([.. Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\",\"ts\":\"2026-11-03T10:00:00Z\",\"name\":\"M"), 0xFC, .. "ller\"}"u8], "the value is not valid UTF-8", "VALUE_CONVERTER"),
        "array" => (Encoding.UTF8.GetBytes($"[{n},\"eu\"]"), "the record value is a JSON array, not an object with field 'region'", "TASK_PUT"),
        "missing-field" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"ts\":\"2026-11-03T10:00:00Z\"}}"), "field 'region' is missing", "TASK_PUT"),
        "long-path" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"{new string('r', 600)}\",\"ts\":\"2026-11-03T10:00:00Z\"}}"), "partition path is longer than 512 UTF-8 bytes", "TASK_PUT"),
        "bad-timestamp" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\",\"ts\":\"yesterday\"}}"), "timestamp field 'ts' holds 'yesterday'", "TASK_PUT"),
        "out-of-range-timestamp" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\",\"ts\":400000000000000000}}"), "is outside years 1-9999, which a path cannot hold", "TASK_PUT"),
        "oversized" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\",\"ts\":\"2026-11-03T10:00:00Z\",\"pad\":\"{new string('x', 1200)}\"}}"), "more than Errors.MaxRecordBytes (max.record.bytes) = 1000", "TASK_PUT"),
        "throwing-partitioner" => (Encoding.UTF8.GetBytes($"{{\"id\":{n},\"region\":\"eu\",\"ts\":\"2026-11-03T10:00:00Z\",\"boom\":true}}"), "threw InvalidOperationException: boom", "TASK_PUT"),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>A good record's value: region and day come from the id.</summary>
    internal static string GoodValue(int partition, int id) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"p\":{partition},\"id\":{id},\"region\":\"{(id % 2 == 0 ? "eu" : "us")}\",\"ts\":\"2026-11-{1 + (id % 3):00}T10:00:00Z\"}}");

    private static DateTimeOffset Timestamp(int index) => new DateTimeOffset(2026, 11, 5, 0, 0, 0, TimeSpan.Zero).AddSeconds(index);

    private static string? Header(ConsumeResult<byte[], byte[]> result, string name)
        => result.Message.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>
    /// Produces <see cref="Good"/> good records to a partition with the bad ones at their indexes (index = position
    /// among all records produced to the partition); returns each bad record's index and offset.
    /// </summary>
    private List<(int Index, long Offset)> ProduceMixed(string topic, int partition, List<(int Index, byte[] Value)> bad, int firstId = 0, int lastId = Good)
    {
        var placed = new List<(int, long)>();
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build();
        var id = firstId;
        for (var index = 0; id < lastId || bad.Any(b => b.Index >= index); index++)
        {
            var poison = bad.FirstOrDefault(b => b.Index == index);
            Message<byte[], byte[]> message = poison.Value is not null
                ? new() { Key = Encoding.UTF8.GetBytes($"bad-{partition}-{index}"), Value = poison.Value, Headers = new Headers { { "trace", Encoding.UTF8.GetBytes($"t-{partition}-{index}") } }, Timestamp = new Timestamp(Timestamp(index)) }
                : new() { Key = Encoding.UTF8.GetBytes($"k{id}"), Value = Encoding.UTF8.GetBytes(GoodValue(partition, id++)), Timestamp = new Timestamp(Timestamp(index)) };
            var result = producer.ProduceAsync(new TopicPartition(topic, partition), message).GetAwaiter().GetResult();
            if (poison.Value is not null)
            {
                placed.Add((index, result.Offset.Value));
            }
        }

        return placed;
    }

    private async Task AssertGoodRecordsOnceAsync(string topic, string bucket, int partitions, bool defaultPartitioner = false)
    {
        var seen = new HashSet<(int, int)>();
        foreach (var (key, lines) in await SinkTestKit.ReadObjectsAsync(servers.S3, bucket))
        {
            foreach (var line in lines)
            {
                var json = SinkTestKit.Json(line);
                var (p, id) = (json.GetProperty("p").GetInt32(), json.GetProperty("id").GetInt32());
                seen.Add((p, id)).Should().BeTrue($"record {p}/{id} is written once");
                key.Should().StartWith(defaultPartitioner ? $"topics/{topic}/partition={p}/{topic}+{p}+" : $"topics/{topic}/v=1/region={(id % 2 == 0 ? "eu" : "us")}/year=2026/month=11/day={1 + (id % 3):00}/{topic}+{p}+");
            }
        }

        seen.Should().HaveCount(partitions * Good, "every good record is in S3");
    }

    private List<ConsumeResult<byte[], byte[]>> ReadTopic(string topic, int atLeast)
    {
        var config = servers.Kafka.ConsumerConfig("read-" + Guid.NewGuid().ToString("N"));
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var end = consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).High.Value;
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((results.Count < atLeast || results.Count < end) && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: not null } result)
            {
                results.Add(result);
            }
        }

        return results;
    }

    private KafkaS3Sink Sink(string topic, string bucket, Action<KafkaS3SinkOptions> configure) => new KafkaS3SinkBuilder()
        .Configure(o =>
        {
            o.Name = topic;
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = topic;
            o.Topics.Add(topic);
            o.FlushSize = 10;
            o.Staging.Directory = staging;
            o.Errors.MaxRecordBytes = 1000;
            o.KafkaProperties["session.timeout.ms"] = "6000";
            o.KafkaProperties["heartbeat.interval.ms"] = "500";
            servers.S3.Configure(o.S3, bucket);
            configure(o);
        })
        .UsePartitioner(p => p
            .Custom(r => r.Source.Value is { } v && v.Span.IndexOf("\"boom\""u8) >= 0 ? throw new InvalidOperationException("boom") : "v=1")
            .Field("region")
            .Daily(t =>
            {
                t.TimestampSource = Partitioning.TimestampSource.RecordField;
                t.TimestampField = "ts";
            }))
        .UseLoggerFactory(loggerFactory)
        .Build();
}
