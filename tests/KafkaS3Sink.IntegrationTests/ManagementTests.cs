using System.Collections.Concurrent;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Named sinks in one host, operated through IKafkaS3SinkController, with metrics and health.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class ManagementTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-mgmt-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> logLines = new();

    [Fact]
    public async Task Controller_PauseResumeRestartAndFailure_AreVisibleInStatusMetricsAndHealth()
    {
        var orders = "orders-" + Guid.NewGuid().ToString("N")[..8];
        var clicks = "clicks-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(orders, 2);
        servers.Kafka.CreateTopic(clicks, 2);
        var bucket = await servers.S3.CreateBucketAsync("mgmt");
        using var metrics = new MetricsRecorder(orders + "-sink");

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Debug);
        void Sink(string name, string topic) => builder.Services.AddKafkaS3Sink(name, sink => sink.Configure(o =>
        {
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = name;
            o.Topics.Add(topic);
            o.FlushSize = 100;
            o.Staging.Directory = Path.Combine(staging, name);
            o.KafkaProperties["session.timeout.ms"] = "6000";
            servers.S3.Configure(o.S3, bucket);
        }));
        Sink(orders + "-sink", orders);
        Sink(clicks + "-sink", clicks);
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        using var host = builder.Build();
        var controller = host.Services.GetRequiredService<IKafkaS3SinkController>();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        await host.StartAsync();

        controller.SinkNames.Should().Equal(clicks + "-sink", orders + "-sink");
        controller.GetStatus(orders + "-sink").State.Should().Be(SinkState.Running);
        Produce(orders, 0, 400);
        Produce(clicks, 0, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, orders + "-sink", orders, [200, 200], TimeSpan.FromMinutes(1));
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Healthy);

        // Pause: records keep arriving, no new objects, no commits; the other sink goes on.
        controller.Pause(orders + "-sink");
        await WaitUntil(() => controller.GetStatus(orders + "-sink").State == SinkState.Paused);
        var objectsAtPause = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket, $"topics/{orders}/")).Count;
        Produce(orders, 400, 400);
        Produce(clicks, 400, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, clicks + "-sink", clicks, [400, 400], TimeSpan.FromMinutes(1));
        await Task.Delay(1500);
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket, $"topics/{orders}/")).Should().HaveCount(objectsAtPause, "a paused sink writes nothing");
        SinkTestKit.Committed(servers.Kafka, orders + "-sink", orders, 2).Should().Equal(200, 200);

        // Resume and restart: everything arrives exactly once.
        controller.Resume(orders + "-sink");
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, orders + "-sink", orders, [400, 400], TimeSpan.FromMinutes(1));
        await controller.RestartAsync(orders + "-sink");
        controller.GetStatus(orders + "-sink").State.Should().Be(SinkState.Running);
        Produce(orders, 800, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, orders + "-sink", orders, [600, 600], TimeSpan.FromMinutes(1));
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket, $"topics/{orders}/");
        objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 1200));

        // Metrics agree with what happened.
        metrics.Sums["kafkas3sink.uploads"].Should().Be(objects.Count);
        metrics.Sums["kafkas3sink.records.consumed"].Should().Be(1200);
        metrics.Sums["kafkas3sink.upload.bytes"].Should().Be(objects.Sum(o => o.Lines.Sum(l => l.Length + 1)));
        metrics.Sums["kafkas3sink.commits"].Should().BeGreaterThan(0);
        metrics.Sums["kafkas3sink.upload.duration.count"].Should().Be(objects.Count, "one duration per uploaded object");
        metrics.Sums.Should().NotContainKey("kafkas3sink.s3.retries", "no S3 request failed");
        metrics.Last["kafkas3sink.consumer.lag"].Should().Be(0, "everything produced was consumed");
        metrics.Last["kafkas3sink.oldest_record.age"].Should().Be(0, "nothing waits: every record is committed");

        // A bad record fails the sink: status and health name it; the host keeps running (the controller is in use).
        SinkTestKit.Produce(servers.Kafka, orders, [(1, null, "{not json")]);
        await WaitUntil(() => controller.GetStatus(orders + "-sink").State == SinkState.Failed);
        controller.GetStatus(orders + "-sink").Error.Should().Contain($"{orders}[1]@600").And.Contain("not valid JSON");
        var report = await health.CheckHealthAsync();
        report.Status.Should().Be(HealthStatus.Unhealthy);
        report.Entries["kafkas3sink"].Description.Should().Contain($"sink '{orders}-sink' failed");
        controller.GetStatus(clicks + "-sink").State.Should().Be(SinkState.Running);

        await host.StopAsync();
        controller.GetStatus(clicks + "-sink").State.Should().Be(SinkState.Stopped);
        logLines.Should().NotContain(l => l.Contains(servers.S3.SecretKey, StringComparison.Ordinal), "secrets are never logged");
    }

    public void Dispose()
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private void Produce(string topic, int from, int count)
        => SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, count).Select(i => (i % 2, (string?)null, $"{{\"id\":{i}}}")));

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "the condition should hold within 30 s");
            await Task.Delay(50);
        }
    }
}
