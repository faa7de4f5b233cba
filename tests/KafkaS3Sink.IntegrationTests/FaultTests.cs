using System.Collections.Concurrent;
using System.Diagnostics;
using Amazon.S3.Model;
using KafkaS3Sink.Hosting;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Everyday faults, through the Kafka protocol and real RGW behind a fault-injecting HTTP proxy on loopback:
/// the sink rides each out by itself, stays Running, and every record lands in S3 exactly once.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Faults")]
public sealed partial class FaultTests : IDisposable
{
    private const int Partitions = 4;
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-faults-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logLines = new();
    private readonly IntegrationServers servers;
    private readonly ITestOutputHelper output;
    private readonly ILoggerFactory loggerFactory;

    public FaultTests(IntegrationServers servers, ITestOutputHelper output)
    {
        this.servers = servers;
        this.output = output;
        loggerFactory = LoggerFactory.Create(b => b.AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Information));
    }

    private ILoggerFactory Logs => loggerFactory;

    /// <summary>Scenario 1: S3 refuses connections for 60 s in the middle of the stream, default retry settings.</summary>
    [Fact]
    public async Task S3RefusesConnectionsFor60sMidStream_SinkWaitsAndRecoversExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("refuse");
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        using var sink = Sink(topic, bucket, proxy.Endpoint, flushSize: 250);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);

        Produce(topic, 0, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90), run);
        await proxy.RefuseAsync();
        Produce(topic, 2_000, 2_000);
        var outage = Stopwatch.StartNew();
        var sawRetrying = false;
        while (outage.Elapsed < TimeSpan.FromSeconds(60))
        {
            run.IsCompleted.Should().BeFalse("the sink must ride out the outage");
            var status = sink.GetStatus();
            status.State.Should().Be(SinkState.Running);
            sawRetrying |= status.RetryingSince is not null && status.Retrying.Count > 0;
            await Task.Delay(500);
        }

        sawRetrying.Should().BeTrue("the status must show the S3 operations being retried");
        SinkTestKit.Committed(servers.Kafka, topic, topic, Partitions).Should().OnlyContain(c => c == 500, "nothing past what is in S3 is committed");
        await proxy.ListenAsync();
        var recovery = Stopwatch.StartNew();

        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(120), run);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after S3 took connections again");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        sink.GetStatus().LastError.Should().NotBeNull();
        await StopAsync(stop, run);
        await AssertExactlyOnceAsync(bucket, 4_000);
        logLines.Count(l => l.StartsWith("S3 ", StringComparison.Ordinal) && l.Contains("retry", StringComparison.Ordinal))
            .Should().BeLessThan(40, "retry warnings are rate-limited");
    }

    /// <summary>Scenario 2: S3 unreachable for 30 s right when partitions are assigned (the lease cannot be taken).</summary>
    [Fact]
    public async Task S3UnreachableFor30sAtAssignment_HealthIsNotHealthyAndTheSinkRecoversExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("assign");
        Produce(topic, 0, 2_000);
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output));
        builder.Services.AddKafkaS3Sink("assign", sink => Configure(sink, topic, bucket, proxy.Endpoint, flushSize: 250, o => o.Retry.StallTimeout = TimeSpan.FromSeconds(10)));
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        using var host = builder.Build();
        var controller = host.Services.GetRequiredService<IKafkaS3SinkController>();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        await host.StartAsync();
        await WaitForLogAsync("Conditional writes on bucket", TimeSpan.FromSeconds(30));
        await proxy.RefuseAsync(); // the probe passed; the assignment and its leases come next
        var outage = Stopwatch.StartNew();
        var reports = new List<HealthReport>();
        while (outage.Elapsed < TimeSpan.FromSeconds(30))
        {
            reports.Add(await health.CheckHealthAsync());
            controller.GetStatus("assign").State.Should().Be(SinkState.Running);
            await Task.Delay(1_000);
        }

        reports.Skip(5).Select(r => r.Status).Should().NotContain(HealthStatus.Healthy, "a sink waiting for S3 is not healthy");
        reports.Skip(5).Take(3).Select(r => r.Status).Should().Contain(HealthStatus.Degraded, "retrying within the budget is Degraded");

        // The watchdog (StallTimeout 10 s): the partitions have lag and made no progress — Unhealthy, naming them.
        var last = reports[^1];
        last.Status.Should().Be(HealthStatus.Unhealthy);
        last.Entries.Values.Single().Description.Should().Contain("is not making progress").And.Contain($"{topic}[0]: no upload or commit for")
            .And.Contain("waiting for its lease in S3");
        controller.GetStatus("assign").StalledPartitions.Should().HaveCount(Partitions);
        controller.GetStatus("assign").Retrying.Should().Contain(r => r.Contains("leases/", StringComparison.Ordinal), "the lease is what waits");
        SinkTestKit.Committed(servers.Kafka, topic, topic, Partitions).Should().OnlyContain(c => c == -1);
        await proxy.ListenAsync();
        var recovery = Stopwatch.StartNew();

        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90));
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after S3 took connections again");
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await AssertExactlyOnceAsync(bucket, 2_000);
    }

    /// <summary>
    /// Scenario 4: every broker down for 30 s (health Degraded, a bounded number of log lines), a leader move,
    /// and injected offset-commit errors; the sink keeps running and every record lands once.
    /// </summary>
    [Fact]
    public async Task KafkaBrokersDown30s_LeaderMove_CommitErrors_BoundedLogsAndExactlyOnce()
    {
        var mock = servers.Kafka.Mock;
        if (mock is null)
        {
            output.WriteLine("Against a real broker faults cannot be injected: nothing to test here.");
            return;
        }

        var (topic, bucket) = await SetUpAsync("kafkaout");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output));
        builder.Services.AddKafkaS3Sink("kafkaout", sink => Configure(sink, topic, bucket, servers.S3.Endpoint, flushSize: 250));
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        using var host = builder.Build();
        var controller = host.Services.GetRequiredService<IKafkaS3SinkController>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();
        Produce(topic, 0, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90));

        var linesBefore = logLines.Count;
        var statuses = new List<HealthStatus>();
        for (var broker = 1; broker <= 3; broker++)
        {
            mock.SetBrokerDown(broker);
        }

        try
        {
            var outage = Stopwatch.StartNew();
            while (outage.Elapsed < TimeSpan.FromSeconds(30))
            {
                statuses.Add((await health.CheckHealthAsync()).Status);
                controller.GetStatus("kafkaout").State.Should().Be(SinkState.Running);
                await Task.Delay(1_000);
            }
        }
        finally
        {
            for (var broker = 1; broker <= 3; broker++)
            {
                mock.SetBrokerUp(broker);
            }
        }

        // The sink's own lines (the health check service logs each Degraded result by itself).
        var recovery = Stopwatch.StartNew();
        var outageLines = logLines.Skip(linesBefore).Where(l => !l.StartsWith("Health check ", StringComparison.Ordinal)).ToList();
        output.WriteLine($"{outageLines.Count} log lines during the 30 s outage");
        outageLines.Count.Should().BeLessThanOrEqualTo(20, "repeated warnings are rate-limited");
        statuses.Should().Contain(HealthStatus.Degraded, "health is Degraded while no broker is reachable");
        outageLines.Should().Contain(l => l.StartsWith("Kafka brokers unreachable", StringComparison.Ordinal));

        // A leader move, then commits refused by the coordinator a few times.
        mock.SetPartitionLeader(topic, 0, 2);
        mock.SetPartitionLeader(topic, 1, 3);
        // The errors are armed before the records whose commits they refuse: produced first, the sink could commit
        // some rotations while the producer still flushes.
        mock.PushRequestErrors(8, 27, 27, 27, 15, 16); // OffsetCommit: REBALANCE_IN_PROGRESS ×3, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR
        Produce(topic, 2_000, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(120));
        mock.ClearRequestErrors(8);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after the brokers came back (2,000 records produced after)");
        controller.GetStatus("kafkaout").State.Should().Be(SinkState.Running);
        var commitWarnings = logLines.Count(l => l.StartsWith("Offset commit failed", StringComparison.Ordinal));
        output.WriteLine($"{commitWarnings} commit warnings");
        commitWarnings.Should().BeInRange(1, 10, "the injected commit errors surface, retried with backoff and rate-limited");
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Healthy);
        await host.StopAsync().WaitAsync(TimeSpan.FromMinutes(1));
        await AssertExactlyOnceAsync(bucket, 4_000);
    }

    /// <summary>
    /// Scenario 3: 30 % of requests fail (503 SlowDown, 500, stalls, resets before and in the middle of request
    /// and response bodies, bodies damaged on the way), with single PUTs of small bodies (read into memory), of bodies
    /// over 4 MiB (streamed from the segment, re-read on every attempt) and with multipart objects (parts and
    /// completes fail too); "corrupted": small single PUTs, and every fault is a body with a byte flipped.
    /// </summary>
    [Theory]
    [InlineData("single")]
    [InlineData("streamed")]
    [InlineData("multipart")]
    [InlineData("corrupted")]
    public async Task ProxyFaultsAThirdOfRequests_ExactlyOnceAndNoIncompleteMultipartUploads(string shape)
    {
        var multipart = shape == "multipart";
        var streamed = shape == "streamed";
        var corrupted = shape == "corrupted";
        var (topic, bucket) = await SetUpAsync("flaky" + shape[0] + shape[1]);
        var perPartition = multipart ? 900 : streamed ? 750 : 2_000;
        Produce(topic, 0, Partitions * perPartition);
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        proxy.StallFor = TimeSpan.FromSeconds(1);
        proxy.FaultRate = 0.3;
        if (corrupted)
        {
            proxy.Faults = [S3Fault.CorruptRequestBody];
        }

        using var metrics = new MetricsRecorder(topic);
        using var sink = Sink(topic, bucket, proxy.Endpoint, flushSize: multipart ? 300 : 250, o =>
        {
            if (multipart)
            {
                // 300 records of ~20 KB each: 6 MB objects, two 5 MiB parts (see FencingTests for why Bytes).
                o.Format = OutputFormat.Bytes;
                o.BytesSeparator = new string('-', 19_999) + "\n";
                o.S3.PartSize = S3StorageOptions.MinimumPartSize;
            }
            else if (streamed)
            {
                // 250 records of ~18 KB: 4.5 MB objects, above the 4 MiB read into memory, below the 25 MiB part size.
                o.Format = OutputFormat.Bytes;
                o.BytesSeparator = new string('-', 17_999) + "\n";
            }

            o.Retry.MaxBackoff = TimeSpan.FromSeconds(1);
        });
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);

        var elapsed = Stopwatch.StartNew();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, Enumerable.Repeat((long)perPartition, Partitions).ToArray(), TimeSpan.FromMinutes(4), run);
        output.WriteLine($"all committed after {elapsed.Elapsed.TotalSeconds:0.0} s with faults on");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        proxy.FaultRate = 0;
        await StopAsync(stop, run);

        output.WriteLine($"{proxy.Requests} requests ({proxy.ArmedRequests} with faults on), faults: {string.Join(", ", proxy.Counts.OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}"))}");
        // 3 faults in every bag of 10 armed requests: at least 3 × the full bags dealt (the proxy's deal, exact).
        var faulted = proxy.Counts.Where(c => !c.Key.Contains(' ', StringComparison.Ordinal)).Sum(c => c.Value);
        faulted.Should().BeGreaterThanOrEqualTo((int)(proxy.ArmedRequests / S3FaultProxy.BagSize * 3), "30 % of the requests sent while faults were on were failed");
        metrics.Sums.GetValueOrDefault("kafkas3sink.s3.retries").Should().BeGreaterThan(0, "retries are counted");
        output.WriteLine($"PUTs with a body by payload signing: {string.Join(", ", proxy.PayloadSigning.Select(c => $"{c.Key}={c.Value}"))}");
        proxy.PayloadSigning.Keys.Should().Equal(["sha256"], "objects, parts and leases are sent whole with the body's SHA-256 (aws-chunked streaming allocated ~236 KB per 1 MB object against ~40 KB)");
        if (corrupted)
        {
            // The store refused every damaged body (400 XAmzContentSHA256Mismatch: its SHA-256 is signed), the sink
            // retried it, and the objects read back below are intact.
            proxy.Counts.GetValueOrDefault("CorruptRequestBody PUT object").Should().BeGreaterThan(0, "object bodies were damaged on the way");
        }

        if (multipart)
        {
            proxy.Counts.Keys.Should().Contain(k => k.EndsWith(" part", StringComparison.Ordinal), "parts were faulted");
            using var s3 = servers.S3.CreateClient();
            var uploads = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket });
            (uploads.MultipartUploads ?? []).Should().BeEmpty("every multipart upload that was given up was aborted");
        }

        if (streamed)
        {
            using var s3 = servers.S3.CreateClient();
            var listed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket });
            (listed.S3Objects ?? []).Where(o => !o.Key.StartsWith("_kafkas3sink/", StringComparison.Ordinal)).Should()
                .HaveCount(Partitions * perPartition / 250).And
                .OnlyContain(o => o.Size > 4L * 1024 * 1024 && o.Size < 25L * 1024 * 1024, "every object is a single PUT streamed from its segment");
        }

        await AssertExactlyOnceAsync(bucket, Partitions * perPartition, multipart || streamed);
    }

    /// <summary>Scenario 6: permanent S3 errors fail the start at once, naming what to fix; nothing is consumed.</summary>
    [Fact]
    public async Task WrongSecretOrMissingBucket_StartFailsNamingTheCause()
    {
        var (topic, bucket) = await SetUpAsync("perm");
        Produce(topic, 0, 100);
        using (var wrongSecret = Sink(topic, bucket, servers.S3.Endpoint, 10, o => o.S3.SecretAccessKey = "not-the-secret"))
        {
            var act = () => wrongSecret.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which.Message.Should().Be(
                $"S3 rejected the sink's credentials for bucket '{bucket}' (403 SignatureDoesNotMatch): check S3.AccessKeyId and S3.SecretAccessKey (aws.access.key.id / aws.secret.access.key).");
        }

        var missing = bucket + "-missing";
        using (var noBucket = Sink(topic, missing, servers.S3.Endpoint, 10))
        {
            var act = () => noBucket.RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            (await act.Should().ThrowAsync<KafkaS3SinkException>()).Which.Message.Should().StartWith($"S3 bucket '{missing}' does not exist (404 NoSuchBucket)");
        }

        SinkTestKit.Committed(servers.Kafka, topic, topic, Partitions).Should().OnlyContain(c => c == -1, "nothing is consumed before S3 works");
        logLines.Should().NotContain(l => l.Contains("does not honour conditional writes", StringComparison.Ordinal));
    }

    /// <summary>Scenario 7: a stop during an S3 outage ends within the drain timeout; the next start completes exactly once.</summary>
    [Fact]
    public async Task StopDuringS3Outage_EndsWithinTheDrainTimeout_AndTheNextStartCompletesExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("stopout");
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        var drain = TimeSpan.FromSeconds(5);
        var stopTook = TimeSpan.Zero;
        using (var sink = Sink(topic, bucket, proxy.Endpoint, flushSize: 250, drainTimeout: drain))
        {
            using var stop = new CancellationTokenSource();
            var run = sink.RunAsync(stop.Token);
            Produce(topic, 0, 2_000);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [250, 250, 250, 250], TimeSpan.FromSeconds(90), run);
            await proxy.RefuseAsync();
            Produce(topic, 2_000, 2_000);
            await Task.Delay(TimeSpan.FromSeconds(5));

            var stopping = Stopwatch.StartNew();
            await stop.CancelAsync();
            await run.WaitAsync(TimeSpan.FromSeconds(60));
            stopTook = stopping.Elapsed;
            stopTook.Should().BeLessThan(drain + TimeSpan.FromSeconds(10), "the stop waits for uploads at most the drain timeout (+ leaving the group)");
            sink.State.Should().Be(SinkState.Stopped);
        }

        await proxy.ListenAsync();
        var recovery = Stopwatch.StartNew();
        using (var next = Sink(topic, bucket, proxy.Endpoint, flushSize: 250))
        {
            await SinkTestKit.RunToEndAsync(next, servers.Kafka, topic, topic, Partitions, TimeSpan.FromSeconds(120));
        }

        output.WriteLine($"stopped in {stopTook.TotalSeconds:0.0} s; the next start committed everything in {recovery.Elapsed.TotalSeconds:0.0} s");

        await AssertExactlyOnceAsync(bucket, 4_000);
    }
}
