using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using FluentAssertions;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Two owners of one topic-partition writing the same prefix: an older owner that stalled (here a second
/// consumer group, which is what a zombie looks like from S3) resumes after a newer owner wrote and
/// committed. With conditional writes it must not overwrite or add objects; without them it does.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Rebalance")]
[Trait("Category", "Fencing")]
public sealed class FencingTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Records = 1_000;
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-fence-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logLines = new();

    /// <summary>
    /// The older owner stalls before writing: before its rotation's lease check, or right before its PUT. The
    /// newer owner cuts differently (200 vs 300 records), so the older owner's keys would collide with (+0) and
    /// fall between (+300) the newer owner's: it must write neither.
    /// </summary>
    [Theory]
    [InlineData(GatedS3Client.Stage.BeforeRead)]
    [InlineData(GatedS3Client.Stage.BeforeWrite)]
    public async Task OlderOwnerResumingAfterNewerOwnerWrote_IsFenced_EveryRecordOnceFromTheNewerOwner(GatedS3Client.Stage stage)
    {
        var (topic, bucket) = await ProduceAsync();
        using var gated = new GatedS3Client(servers.S3, stage);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));

        // stalls at the gate on its first data object.
        using var older = Sink("older", topic, bucket, flushSize: stage == GatedS3Client.Stage.BeforeRead ? 300 : 200, gated, loggerFactory, ConditionalWrites.Required);
        using var stopOlder = new CancellationTokenSource();
        var olderRun = older.RunAsync(stopOlder.Token);
        var stalledOn = await gated.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"older owner stalled on {stalledOn}");

        using (var newer = Sink("newer", topic, bucket, flushSize: 200, s3: null, loggerFactory, ConditionalWrites.Required))
        {
            await SinkTestKit.RunToEndAsync(newer, servers.Kafka, topic + "-newer", topic, 1, TimeSpan.FromSeconds(90));
        }

        var newerObjects = await Snapshot(bucket);
        gated.Open();

        // The older owner resumes: every write it attempts is refused, it logs the fence and commits nothing.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!logLines.Any(l => l.StartsWith("Fenced:", StringComparison.Ordinal)) && DateTime.UtcNow < deadline && !olderRun.IsCompleted)
        {
            await Task.Delay(100);
        }

        await Task.Delay(1_000);
        await stopOlder.CancelAsync();
        await olderRun.WaitAsync(TimeSpan.FromMinutes(1));

        logLines.Should().Contain(l => l.StartsWith("Fenced: " + topic + " [0]: fenced at epoch 1, a newer owner holds epoch 2", StringComparison.Ordinal));
        SinkTestKit.Committed(servers.Kafka, topic + "-older", topic, 1).Should().Equal(-1);
        (await Snapshot(bucket)).Should().BeEquivalentTo(newerObjects, "the older owner neither replaced nor added an object");

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Select(o => o.Key).Should().Equal(Enumerable.Range(0, 5).Select(i => $"topics/{topic}/partition=0/{topic}+0+{i * 200:D10}.json"));
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Should().Equal(Enumerable.Range(0, Records));
        newerObjects.Values.Should().OnlyContain(epoch => epoch == "2");
    }

    /// <summary>The same stall without conditional writes: the older owner's objects land over and beside the newer owner's.</summary>
    [Fact]
    public async Task WithoutConditionalWrites_TheSameStallDuplicatesRecords()
    {
        var (topic, bucket) = await ProduceAsync();
        using var gated = new GatedS3Client(servers.S3, GatedS3Client.Stage.BeforeWrite);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        using var older = Sink("older", topic, bucket, flushSize: 300, gated, loggerFactory, ConditionalWrites.Disabled);
        using var stopOlder = new CancellationTokenSource();
        var olderRun = older.RunAsync(stopOlder.Token);
        await gated.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
        using (var newer = Sink("newer", topic, bucket, flushSize: 200, s3: null, loggerFactory, ConditionalWrites.Disabled))
        {
            await SinkTestKit.RunToEndAsync(newer, servers.Kafka, topic + "-newer", topic, 1, TimeSpan.FromSeconds(90));
        }

        gated.Open();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic + "-older", topic, [900], TimeSpan.FromSeconds(60), olderRun);
        await stopOlder.CancelAsync();
        await olderRun.WaitAsync(TimeSpan.FromMinutes(1));

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().HaveCountGreaterThan(Records, "without fencing the older owner's +300 and +600 objects sit beside the newer owner's");
        (await Snapshot(bucket)).Should().NotContainKey("_kafkas3sink/leases/topics/" + topic + "/0", "Disabled writes no lease");
    }

    /// <summary>A store that ignores the conditions (simulated by dropping them from every request): Required refuses to start, Auto warns and writes unfenced.</summary>
    [Fact]
    public async Task StoreIgnoringConditions_RequiredFailsAtStart_AutoWritesUnfenced()
    {
        var (topic, bucket) = await ProduceAsync();
        using var ignoring = new GatedS3Client(servers.S3, GatedS3Client.Stage.None) { DropConditions = true };
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));

        using (var required = Sink("required", topic, bucket, 200, ignoring, loggerFactory, ConditionalWrites.Required))
        {
            var act = () => required.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            (await act.Should().ThrowAsync<KafkaS3SinkException>())
                .Which.Message.Should().Be($"S3.ConditionalWrites is Required but bucket '{bucket}' does not honour conditional writes: a PUT with If-None-Match: * over an existing object succeeded.");
        }

        using (var auto = Sink("auto", topic, bucket, 200, ignoring, loggerFactory, ConditionalWrites.Auto))
        {
            await SinkTestKit.RunToEndAsync(auto, servers.Kafka, topic + "-auto", topic, 1, TimeSpan.FromSeconds(90));
        }

        logLines.Should().Contain($"Bucket '{bucket}' does not honour conditional writes (a PUT with If-None-Match: * over an existing object succeeded); writing without fencing older owners (S3.ConditionalWrites = Auto).");
        var snapshot = await Snapshot(bucket);
        snapshot.Keys.Should().OnlyContain(k => SinkTestKit.IsDataKey(k), "no lease and no probe object is left behind");
        snapshot.Should().HaveCount(5).And.OnlyContain(o => o.Value == "0");
    }

    /// <summary>
    /// A writer that may PUT but not read (a bucket policy denying it s3:GetObject; a Deny, because the
    /// uploader of an object may otherwise read it through the object's ACL): fencing needs reads,
    /// so Required and Auto refuse to start, naming the permission and the way out (a 403 is never taken for a
    /// store without conditional writes); with Disabled the sink writes unfenced — every record lands once.
    /// </summary>
    [Fact]
    public async Task WriterWithoutReadPermission_FailsAtStartNamingThePermission_DisabledWritesUnfenced()
    {
        var (topic, bucket) = await ProduceAsync(400);
        using (var owner = servers.S3.CreateClient())
        {
            await owner.PutBucketPolicyAsync(new PutBucketPolicyRequest
            {
                BucketName = bucket,
                Policy = $$"""
                    {"Version":"2012-10-17","Statement":[
                      {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/talk"]},
                       "Action":["s3:PutObject","s3:PutObjectAcl","s3:DeleteObject","s3:AbortMultipartUpload"],"Resource":["arn:aws:s3:::{{bucket}}/*"]},
                      {"Effect":"Deny","Principal":{"AWS":["arn:aws:iam:::user/talk"]},
                       "Action":["s3:GetObject"],"Resource":["arn:aws:s3:::{{bucket}}/*"]}]}
                    """,
            });
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        KafkaS3Sink WriteOnly(string name, ConditionalWrites mode)
        {
            // Objects written by another user: give the bucket owner (the test's reader) access, as cross-account writers do.
            var sink = Sink(name, topic, bucket, 200, null, loggerFactory, mode, accessKey: "user", secretKey: "secret", cannedAcl: "bucket-owner-full-control");
            return sink;
        }

        foreach (var mode in new[] { ConditionalWrites.Required, ConditionalWrites.Auto })
        {
            using var refused = WriteOnly(mode.ToString().ToLowerInvariant(), mode);
            var act = () => refused.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            var message = (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which.Message;
            message.Should().StartWith("S3 denied the start-up probe (HEAD)").And.Contain($"in bucket '{bucket}' (403")
                .And.Contain("s3:GetObject").And.EndWith("Without read access, set S3.ConditionalWrites = Disabled to write without fencing.");
            refused.State.Should().Be(SinkState.Failed);
        }

        using (var disabled = WriteOnly("disabled", ConditionalWrites.Disabled))
        {
            await SinkTestKit.RunToEndAsync(disabled, servers.Kafka, topic + "-disabled", topic, 1, TimeSpan.FromSeconds(90));
        }

        logLines.Should().NotContain(l => l.Contains("does not honour conditional writes", StringComparison.Ordinal), "a 403 is not a store without conditional writes");
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Select(o => o.Key).Should().OnlyContain(k => k.StartsWith("topics/", StringComparison.Ordinal), "no lease, no probe left behind");
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Should().Equal(Enumerable.Range(0, 400));
    }

    /// <summary>
    /// Objects above the part size go up as multipart uploads (5 MiB parts, streamed from the object file)
    /// with their epoch; an older owner stalled before its multipart upload is fenced like a single PUT.
    /// The mock broker keeps only ~5 MiB per partition, so the objects are made large by the Bytes format's
    /// separator (20,000 bytes after each small record) instead of by large records.
    /// </summary>
    [Fact]
    public async Task MultipartObjects_CarryTheEpoch_AndAnOlderOwnersMultipartUploadIsFenced()
    {
        const int records = 600;
        var separator = new string('-', 19_999) + "\n";
        var topic = "fence-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("fencemp");
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, records).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        using var gated = new GatedS3Client(servers.S3, GatedS3Client.Stage.BeforeRead);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        void Large(KafkaS3SinkOptions o)
        {
            o.Format = OutputFormat.Bytes;
            o.BytesSeparator = separator;
            o.S3.PartSize = S3StorageOptions.MinimumPartSize;
        }

        // The older owner cuts 300 records (~6 MB: a multipart upload) and stalls before its first read.
        using var older = Sink("older", topic, bucket, 300, gated, loggerFactory, ConditionalWrites.Required, configure: Large);
        using var stopOlder = new CancellationTokenSource();
        var olderRun = older.RunAsync(stopOlder.Token);
        await gated.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));

        // The newer owner cuts 600 records (~12 MB: three parts).
        using (var newer = Sink("newer", topic, bucket, 600, null, loggerFactory, ConditionalWrites.Required, configure: Large))
        {
            await SinkTestKit.RunToEndAsync(newer, servers.Kafka, topic + "-newer", topic, 1, TimeSpan.FromSeconds(90));
        }

        gated.Open();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!logLines.Any(l => l.StartsWith("Fenced: " + topic, StringComparison.Ordinal)) && DateTime.UtcNow < deadline && !olderRun.IsCompleted)
        {
            await Task.Delay(100);
        }

        await stopOlder.CancelAsync();
        await olderRun.WaitAsync(TimeSpan.FromMinutes(1));

        logLines.Should().Contain(l => l.StartsWith("Fenced: " + topic + " [0]: fenced at epoch 1, a newer owner holds epoch 2", StringComparison.Ordinal));
        var snapshot = await Snapshot(bucket);
        var key = $"topics/{topic}/partition=0/{topic}+0+0000000000.bin";
        snapshot.Keys.Where(SinkTestKit.IsDataKey).Should().Equal(key);
        snapshot[key].Should().Be("2", "the newer owner's object, not replaced");
        using var client = servers.S3.CreateClient();
        using var response = await client.GetObjectAsync(bucket, key);
        response.ETag.Should().EndWith("-3\"", "a multipart upload of three parts");
        using var reader = new StreamReader(response.ResponseStream);
        var body = await reader.ReadToEndAsync();
        body.Length.Should().BeGreaterThan(2 * (int)S3StorageOptions.MinimumPartSize);
        body.Split(separator).Should().Equal([.. Enumerable.Range(0, records).Select(i => $"{{\"id\":{i}}}"), string.Empty]);
    }

    /// <summary>
    /// A fenced sink in a host: its status lists the partition, its health check turns Degraded naming it,
    /// and the metric counts it.
    /// </summary>
    [Fact]
    public async Task FencedSinkInAHost_ShowsInStatusHealthAndMetrics()
    {
        var (topic, bucket) = await ProduceAsync(400);
        using var gated = new GatedS3Client(servers.S3, GatedS3Client.Stage.BeforeRead);
        using var metrics = new MetricsRecorder("older");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output));
        builder.Services.AddKafkaS3Sink("older", sink => sink
            .Configure(o =>
            {
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-older";
                o.Topics.Add(topic);
                o.FlushSize = 300;
                o.Staging.Directory = Path.Combine(staging, "older");
                o.S3.ConditionalWrites = ConditionalWrites.Required;
                servers.S3.Configure(o.S3, bucket);
            })
            .UseS3Client(gated));
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        using var host = builder.Build();
        var controller = host.Services.GetRequiredService<IKafkaS3SinkController>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        await gated.Stalled.Task.WaitAsync(TimeSpan.FromSeconds(60));
        controller.GetStatus("older").FencedPartitions.Should().BeEmpty();

        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        using (var newer = Sink("newer", topic, bucket, 200, null, loggerFactory, ConditionalWrites.Required))
        {
            await SinkTestKit.RunToEndAsync(newer, servers.Kafka, topic + "-newer", topic, 1, TimeSpan.FromSeconds(90));
        }

        gated.Open();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (controller.GetStatus("older").FencedPartitions.Count == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        controller.GetStatus("older").FencedPartitions.Should().Equal($"{topic}[0]");
        var report = await health.CheckHealthAsync();
        report.Status.Should().Be(HealthStatus.Degraded);
        report.Entries.Values.Single().Description.Should().Be(
            $"sink 'older' was fenced out of {topic}[0] by a newer owner (another sink or group writes the same prefix, or this member was replaced)");
        metrics.Sums.GetValueOrDefault("kafkas3sink.partitions.fenced").Should().Be(1);
        metrics.Sums.GetValueOrDefault("kafkas3sink.upload.failures").Should().Be(0, "a refused write is a fence, not a failed upload");
        await host.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        SinkTestKit.Committed(servers.Kafka, topic + "-older", topic, 1).Should().Equal(-1);
    }

    /// <summary>Each assignment raises the partition's lease epoch by one; objects carry the epoch of their writer.</summary>
    [Fact]
    public async Task EachRunTakesTheLeaseOneEpochHigher()
    {
        var (topic, bucket) = await ProduceAsync(400);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        using (var first = Sink("first", topic, bucket, 200, null, loggerFactory, ConditionalWrites.Auto))
        {
            await SinkTestKit.RunToEndAsync(first, servers.Kafka, topic + "-first", topic, 1, TimeSpan.FromSeconds(60));
        }

        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(400, 400).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        using (var second = Sink("first", topic, bucket, 200, null, loggerFactory, ConditionalWrites.Auto))
        {
            await SinkTestKit.RunToEndAsync(second, servers.Kafka, topic + "-first", topic, 1, TimeSpan.FromSeconds(60));
        }

        var snapshot = await Snapshot(bucket);
        snapshot.Should().Equal(new Dictionary<string, string>
        {
            ["_kafkas3sink/leases/topics/" + topic + "/0"] = "2",
            [$"topics/{topic}/partition=0/{topic}+0+0000000000.json"] = "1",
            [$"topics/{topic}/partition=0/{topic}+0+0000000200.json"] = "1",
            [$"topics/{topic}/partition=0/{topic}+0+0000000400.json"] = "2",
            [$"topics/{topic}/partition=0/{topic}+0+0000000600.json"] = "2",
        });
    }

    public void Dispose()
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// What fencing costs: a new key is one conditional PUT and a rotation one lease read, with no HEAD; a replay
    /// over existing keys (another group, a newer epoch) adds one HEAD and one PUT per key that exists.
    /// </summary>
    [Fact]
    public async Task FencedWrites_OneLeaseReadPerRotation_AndAHeadOnlyWhenTheKeyExists()
    {
        var (topic, bucket) = await ProduceAsync();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)));
        using var first = new GatedS3Client(servers.S3, GatedS3Client.Stage.None);
        using (var sink = Sink("first", topic, bucket, 200, first, loggerFactory, ConditionalWrites.Required))
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-first", topic, 1, TimeSpan.FromSeconds(90));
        }

        output.WriteLine("first owner: " + string.Join(", ", first.Requests.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}")));
        first.Requests.GetValueOrDefault("PUT data").Should().Be(5, "five 200-record objects, each created in one request");
        first.Requests.GetValueOrDefault("HEAD data").Should().Be(0, "no object existed, so none was read");
        first.Requests.GetValueOrDefault("HEAD lease").Should().Be(1 + 5, "one read to take the lease, then one per rotation");
        first.Requests.GetValueOrDefault("GET lease").Should().Be(0, "the epoch and the holder are metadata: no lease body is read");
        first.Requests.GetValueOrDefault("LIST uploads data").Should().Be(1, "one listing of the topic's incomplete uploads at assignment");

        using var replay = new GatedS3Client(servers.S3, GatedS3Client.Stage.None);
        using (var sink = Sink("replay", topic, bucket, 200, replay, loggerFactory, ConditionalWrites.Required))
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-replay", topic, 1, TimeSpan.FromSeconds(90));
        }

        output.WriteLine("replaying owner: " + string.Join(", ", replay.Requests.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}")));
        replay.Requests.GetValueOrDefault("HEAD data").Should().Be(5, "each existing key is read once after its create was refused");
        replay.Requests.GetValueOrDefault("PUT data").Should().Be(10, "a refused create, then the replacement of the version read");
        (await Snapshot(bucket)).Where(o => SinkTestKit.IsDataKey(o.Key)).Should().HaveCount(5).And.OnlyContain(o => o.Value == "2");
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Should().Equal(Enumerable.Range(0, Records));
    }

    private async Task<(string Topic, string Bucket)> ProduceAsync(int records = Records)
    {
        var topic = "fence-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("fence");
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, records).Select(i => (0, (string?)null, $"{{\"id\":{i}}}")));
        return (topic, bucket);
    }

    private KafkaS3Sink Sink(string name, string topic, string bucket, int flushSize, IAmazonS3? s3, ILoggerFactory loggerFactory, ConditionalWrites mode, string? accessKey = null, string? secretKey = null, string? cannedAcl = null, Action<KafkaS3SinkOptions>? configure = null)
    {
        var builder = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = name;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-" + name;
                o.Topics.Add(topic);
                o.FlushSize = flushSize;
                o.Staging.Directory = Path.Combine(staging, name);
                o.S3.ConditionalWrites = mode;
                o.KafkaProperties["session.timeout.ms"] = "6000";
                servers.S3.Configure(o.S3, bucket);
                o.S3.AccessKeyId = accessKey ?? o.S3.AccessKeyId;
                o.S3.SecretAccessKey = secretKey ?? o.S3.SecretAccessKey;
                o.S3.CannedAcl = cannedAcl;
                configure?.Invoke(o);
            })
            .UseLoggerFactory(loggerFactory)
            .UseDrainTimeout(TimeSpan.FromSeconds(5));
        if (s3 is not null)
        {
            builder.UseS3Client(s3);
        }

        return builder.Build();
    }

    /// <summary>Every key of the bucket with its <c>kafkas3sink-epoch</c> metadata.</summary>
    private async Task<Dictionary<string, string>> Snapshot(string bucket)
    {
        using var client = servers.S3.CreateClient();
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var obj in (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects ?? [])
        {
            var head = await client.GetObjectMetadataAsync(bucket, obj.Key);
            result[obj.Key] = head.Metadata["kafkas3sink-epoch"] ?? "(none)";
        }

        return result;
    }
}
