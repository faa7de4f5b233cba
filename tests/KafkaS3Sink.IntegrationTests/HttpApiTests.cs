using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using KafkaS3Sink.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The management API of the ready-to-run worker, over HTTP, against real Kafka protocol and S3.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class HttpApiTests(IntegrationServers servers, ITestOutputHelper output)
{
    private readonly ConcurrentQueue<string> logLines = new();
    private readonly List<string> responses = [];

    [Fact]
    public async Task WorkerHttpApi_CreateStatusPauseResumeRestartDelete_SecretsNeverReturnedOrLogged()
    {
        var topic = "http-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("http");
        var name = topic + "-sink";

        await using var app = WorkerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--KafkaS3Sink:BootstrapServers", servers.Kafka.BootstrapServers],
            b => b.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Debug));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var config = new Dictionary<string, string>
        {
            ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector",
            ["topics"] = topic,
            ["flush.size"] = "100",
            ["format.class"] = "io.confluent.connect.s3.format.json.JsonFormat",
            ["value.converter"] = "org.apache.kafka.connect.json.JsonConverter",
            ["value.converter.schemas.enable"] = "false",
            ["s3.bucket.name"] = bucket,
            ["s3.region"] = "us-east-1",
            ["store.url"] = servers.S3.Endpoint.ToString(),
            ["aws.access.key.id"] = servers.S3.AccessKey,
            ["aws.secret.access.key"] = servers.S3.SecretKey,

            // The mock cluster only notices a member that left after its session timeout (45 s by default).
            ["consumer.override.session.timeout.ms"] = "6000",
            ["consumer.override.heartbeat.interval.ms"] = "500",
        };

        // Create from a posted connector config.
        var created = await Send(http, HttpMethod.Post, "/connectors", new { name, config });
        created.Status.Should().Be(HttpStatusCode.Created, created.Body);
        created.Json.GetProperty("config").GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        (await Send(http, HttpMethod.Get, "/connectors")).Json.EnumerateArray().Select(e => e.GetString()).Should().Contain(name);
        await WaitForState(http, name, "RUNNING");

        Produce(topic, 0, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [200, 200], TimeSpan.FromMinutes(1));

        // Pause: no new objects while records keep arriving.
        (await Send(http, HttpMethod.Put, $"/connectors/{name}/pause")).Status.Should().Be(HttpStatusCode.Accepted);
        await WaitForState(http, name, "PAUSED");
        var objectsAtPause = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Count;
        Produce(topic, 400, 400);
        await Task.Delay(2000);
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Should().HaveCount(objectsAtPause);
        SinkTestKit.Committed(servers.Kafka, "connect-" + name, topic, 2).Should().Equal(200, 200);

        // Resume, restart.
        (await Send(http, HttpMethod.Put, $"/connectors/{name}/resume")).Status.Should().Be(HttpStatusCode.Accepted);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [400, 400], TimeSpan.FromMinutes(1));
        (await Send(http, HttpMethod.Post, $"/connectors/{name}/restart")).Status.Should().Be(HttpStatusCode.NoContent);
        await WaitForState(http, name, "RUNNING");
        Produce(topic, 800, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [600, 600], TimeSpan.FromMinutes(1));
        (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines)
            .Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, 1200));

        // Config (masked), an invalid config (400, each problem named), health and OpenAPI.
        (await Send(http, HttpMethod.Get, $"/connectors/{name}/config")).Json.GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        var invalid = await Send(http, HttpMethod.Post, "/connectors", new
        {
            name = "broken",
            config = new Dictionary<string, string> { ["topics"] = "x", ["flush.size"] = "many", ["partitioner.class"] = "com.example.P", ["aws.secret.access.key"] = "hunter2-secret" },
        });
        invalid.Status.Should().Be(HttpStatusCode.BadRequest);
        invalid.Json.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!.Split(':')[0])
            .Should().Contain(["flush.size", "partitioner.class", "S3.BucketName"]);
        (await Send(http, HttpMethod.Get, "/health")).Body.Should().Be("Healthy");
        (await Send(http, HttpMethod.Get, "/openapi/v1.json")).Body.Should().Contain("/connectors/{name}/pause");

        // Delete.
        (await Send(http, HttpMethod.Delete, $"/connectors/{name}")).Status.Should().Be(HttpStatusCode.NoContent);
        (await Send(http, HttpMethod.Get, $"/connectors/{name}/status")).Status.Should().Be(HttpStatusCode.NotFound);
        await app.StopAsync();

        responses.Should().NotContain(r => r.Contains(servers.S3.SecretKey, StringComparison.Ordinal) || r.Contains("hunter2", StringComparison.Ordinal));
        logLines.Should().NotContain(l => l.Contains(servers.S3.SecretKey, StringComparison.Ordinal) || l.Contains("hunter2", StringComparison.Ordinal));
    }

    /// <summary>What Confluent's connector cannot do, from a Connect-style config posted to the worker: field and time partitions together.</summary>
    [Fact]
    public async Task WorkerHttpApi_FieldAndHourlyLayoutFromAConnectConfig_EveryRecordOnceAtItsKey()
    {
        var topic = "fieldtime-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("fieldtime");
        var name = topic + "-sink";
        await using var app = WorkerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--KafkaS3Sink:BootstrapServers", servers.Kafka.BootstrapServers],
            b => b.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(logLines, output)).SetMinimumLevel(LogLevel.Information));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var config = new Dictionary<string, string>
        {
            ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector",
            ["topics"] = topic,
            ["flush.size"] = "25",
            ["format.class"] = "io.confluent.connect.s3.format.json.JsonFormat",
            ["value.converter"] = "org.apache.kafka.connect.json.JsonConverter",
            ["value.converter.schemas.enable"] = "false",
            ["partitioner.class"] = "KafkaS3Sink.Partitioning.FieldAndTimeBasedPartitioner",
            ["partition.field.name"] = "order.region",
            ["path.format"] = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/",
            ["partition.duration.ms"] = "3600000",
            ["timezone"] = "Asia/Seoul",
            ["locale"] = "ko_KR",
            ["timestamp.extractor"] = "RecordField",
            ["timestamp.field"] = "order.at",
            ["s3.bucket.name"] = bucket,
            ["store.url"] = servers.S3.Endpoint.ToString(),
            ["aws.access.key.id"] = servers.S3.AccessKey,
            ["aws.secret.access.key"] = servers.S3.SecretKey,
            ["consumer.override.session.timeout.ms"] = "6000",
            ["consumer.override.heartbeat.interval.ms"] = "500",
        };
        (await Send(http, HttpMethod.Post, "/connectors", new { name, config })).Status.Should().Be(HttpStatusCode.Created);

        // 400 records over ~6.6 hours from 2026-11-27 13:00 UTC (22:00 in Seoul, so the days change too), three regions.
        var start = new DateTimeOffset(2026, 11, 27, 13, 0, 0, TimeSpan.Zero);
        string[] regions = ["eu", "us", "ap-northeast"];
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, 400).Select(i =>
            (i % 2, (string?)null, $"{{\"id\":{i},\"order\":{{\"region\":\"{regions[i % 3]}\",\"at\":\"{start.AddMinutes(i):O}\"}}}}")));
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, SinkTestKit.EndOffsets(servers.Kafka, topic, 2), TimeSpan.FromMinutes(1));
        await app.StopAsync();

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

    private async Task<(HttpStatusCode Status, string Body, JsonElement Json)> Send(HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        responses.Add(text);
        var json = text.StartsWith('{') || text.StartsWith('[') ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, text, json);
    }

    private async Task WaitForState(HttpClient http, string name, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var status = await Send(http, HttpMethod.Get, $"/connectors/{name}/status");
            if (status.Status == HttpStatusCode.OK && status.Json.GetProperty("connector").GetProperty("state").GetString() == state)
            {
                return;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"the sink should reach {state} (last: {status.Body})");
            await Task.Delay(50);
        }
    }
}
