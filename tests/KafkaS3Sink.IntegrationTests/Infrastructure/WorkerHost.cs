using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using KafkaS3Sink.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>The ready-to-run worker in-process on a free loopback port, with an HTTP client and its log lines.</summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private WorkerHost(WebApplication app, HttpClient http, ConcurrentQueue<string> lines)
    {
        App = app;
        Http = http;
        LogLines = lines;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public ConcurrentQueue<string> LogLines { get; }

    /// <summary>Every response body, to check that none shows a secret.</summary>
    public ConcurrentQueue<string> Responses { get; } = new();

    public static async Task<WorkerHost> StartAsync(KafkaCluster kafka, ITestOutputHelper output, LogLevel level = LogLevel.Information, params string[] extraArgs)
    {
        var lines = new ConcurrentQueue<string>();
        var app = WorkerApp.Build(
            ["--urls", "http://127.0.0.1:0", "--KafkaS3Sink:BootstrapServers", kafka.BootstrapServers, .. extraArgs],
            b => b.Logging.ClearProviders().AddProvider(new CapturingLoggerProvider(lines, output)).SetMinimumLevel(level));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new WorkerHost(app, new HttpClient { BaseAddress = new Uri(address) }, lines);
    }

    /// <summary>A Kafka Connect S3 sink config for the test servers (secret included), short session timeouts for the mock cluster.</summary>
    public static Dictionary<string, string> SinkConfig(IntegrationServers servers, string topic, string bucket, int flushSize) => new()
    {
        ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector",
        ["topics"] = topic,
        ["flush.size"] = flushSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
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

    public async Task<(HttpStatusCode Status, string Body, JsonElement Json)> Send(HttpMethod method, string path, object? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        }

        configure?.Invoke(request);
        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Responses.Enqueue(text);
        var json = text.StartsWith('{') || text.StartsWith('[') ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, text, json);
    }

    /// <summary>Waits until the sink's connector state is <paramref name="state"/>.</summary>
    public async Task WaitForState(string name, string state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = await Send(HttpMethod.Get, $"/connectors/{name}/status");
            if (status.Status == HttpStatusCode.OK && status.Json.GetProperty("connector").GetProperty("state").GetString() == state)
            {
                return;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"the sink should reach {state} (last: {status.Body})");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
