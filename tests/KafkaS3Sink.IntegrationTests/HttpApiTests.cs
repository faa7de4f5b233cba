using System.Net;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The management API of the ready-to-run worker, over HTTP, against real Kafka protocol and S3.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class HttpApiTests(IntegrationServers servers, ITestOutputHelper output)
{
    [Fact]
    public async Task WorkerHttpApi_CreateStatusPauseResumeRestartDelete_SecretsNeverReturnedOrLogged()
    {
        var topic = "http-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("http");
        var name = topic + "-sink";

        await using var worker = await WorkerHost.StartAsync(servers.Kafka, output, LogLevel.Debug);
        var config = WorkerHost.SinkConfig(servers, topic, bucket, 100);

        // Create from a posted connector config.
        var created = await worker.Send(HttpMethod.Post, "/connectors", new { name, config });
        created.Status.Should().Be(HttpStatusCode.Created, created.Body);
        created.Json.GetProperty("config").GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        (await worker.Send(HttpMethod.Get, "/connectors")).Json.EnumerateArray().Select(e => e.GetString()).Should().Contain(name);
        await worker.WaitForState(name, "RUNNING");

        Produce(topic, 0, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [200, 200], TimeSpan.FromMinutes(1));

        // Pause: no new objects while records keep arriving.
        (await worker.Send(HttpMethod.Put, $"/connectors/{name}/pause")).Status.Should().Be(HttpStatusCode.Accepted);
        await worker.WaitForState(name, "PAUSED");
        var objectsAtPause = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Count;
        Produce(topic, 400, 400);
        await Task.Delay(2000);
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Should().HaveCount(objectsAtPause);
        SinkTestKit.Committed(servers.Kafka, "connect-" + name, topic, 2).Should().Equal(200, 200);

        // Resume, restart.
        (await worker.Send(HttpMethod.Put, $"/connectors/{name}/resume")).Status.Should().Be(HttpStatusCode.Accepted);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [400, 400], TimeSpan.FromMinutes(1));
        (await worker.Send(HttpMethod.Post, $"/connectors/{name}/restart")).Status.Should().Be(HttpStatusCode.NoContent);
        await worker.WaitForState(name, "RUNNING");
        Produce(topic, 800, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [600, 600], TimeSpan.FromMinutes(1));
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines)
            .Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 1200));

        // Config (masked), an invalid config (400, each problem named), health and OpenAPI.
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}/config")).Json.GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        var invalid = await worker.Send(HttpMethod.Post, "/connectors", new
        {
            name = "broken",
            config = new Dictionary<string, string> { ["topics"] = "x", ["flush.size"] = "many", ["partitioner.class"] = "com.example.P", ["aws.secret.access.key"] = "hunter2-secret" },
        });
        invalid.Status.Should().Be(HttpStatusCode.BadRequest);
        invalid.Json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!.Split(':')[0])
            .Should().Contain(["flush.size", "partitioner.class", "S3.BucketName"]);
        (await worker.Send(HttpMethod.Get, "/health")).Body.Should().Be("Healthy");
        (await worker.Send(HttpMethod.Get, "/openapi/v1.json")).Body.Should().Contain("/connectors/{name}/pause");

        // Delete.
        (await worker.Send(HttpMethod.Delete, $"/connectors/{name}")).Status.Should().Be(HttpStatusCode.NoContent);
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}/status")).Status.Should().Be(HttpStatusCode.NotFound);
        await worker.App.StopAsync();

        worker.Responses.Should().NotContain(r => r.Contains(servers.S3.SecretKey, StringComparison.Ordinal) || r.Contains("hunter2", StringComparison.Ordinal));
        worker.LogLines.Should().NotContain(l => l.Contains(servers.S3.SecretKey, StringComparison.Ordinal) || l.Contains("hunter2", StringComparison.Ordinal));
    }

    /// <summary>What Confluent's connector cannot do, from a Connect-style config posted to the worker: field and time partitions together.</summary>
    [Fact]
    public async Task WorkerHttpApi_FieldAndHourlyLayoutFromAConnectConfig_EveryRecordOnceAtItsKey()
    {
        var topic = "fieldtime-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("fieldtime");
        var name = topic + "-sink";
        await using var worker = await WorkerHost.StartAsync(servers.Kafka, output);
        var config = WorkerHost.SinkConfig(servers, topic, bucket, 25);
        config["partitioner.class"] = "KafkaS3Sink.Partitioning.FieldAndTimeBasedPartitioner";
        config["partition.field.name"] = "order.region";
        config["path.format"] = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/";
        config["partition.duration.ms"] = "3600000";
        config["timezone"] = "Asia/Seoul";
        config["locale"] = "ko_KR";
        config["timestamp.extractor"] = "RecordField";
        config["timestamp.field"] = "order.at";
        (await worker.Send(HttpMethod.Post, "/connectors", new { name, config })).Status.Should().Be(HttpStatusCode.Created);

        // 400 records over ~6.6 hours from 2026-11-27 13:00 UTC (22:00 in Seoul, so the days change too), three regions.
        var start = new DateTimeOffset(2026, 11, 27, 13, 0, 0, TimeSpan.Zero);
        string[] regions = ["eu", "us", "ap-northeast"];
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 400).Select(i =>
            (i % 2, (string?)null, $"{{\"id\":{i},\"order\":{{\"region\":\"{regions[i % 3]}\",\"at\":\"{start.AddMinutes(i):O}\"}}}}")));
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, SinkTestKit.EndOffsets(servers.Kafka, topic, 2), TimeSpan.FromMinutes(1));
        await worker.App.StopAsync();

        var seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
        var seen = new HashSet<int>();
        foreach (var (key, lines) in await SinkTestKit.ReadObjectsAsync(servers.S3, bucket))
        {
            foreach (var line in lines)
            {
                var id = SinkTestKit.Json(line).GetProperty("id").GetInt32();
                seen.Add(id).Should().BeTrue($"record {id} once");
                var local = TimeZoneInfo.ConvertTime(start.AddMinutes(id), seoul);
                key.Should().StartWith(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"topics/{topic}/order.region={regions[id % 3]}/year={local:yyyy}/month={local:MM}/day={local:dd}/hour={local:HH}/{topic}+{id % 2}+"));
            }
        }

        seen.Should().HaveCount(400);
    }

    private void Produce(string topic, int from, int count)
        => SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, count).Select(i => (i % 2, (string?)null, $"{{\"id\":{i}}}")));
}
