using System.Globalization;
using System.Text;
using Confluent.Kafka;
using KafkaS3Sink.Configuration;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The connector config from the talk that started this product, run unchanged but for endpoint and bucket.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "ConnectConfig")]
public sealed class ConnectConfigTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 2;
    private const int PerPartition = 1_000;
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-talk-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public Task TalkConfig_RunsUnchanged_WritesHourlySeoulPartitionsUnderBackup() => RunTalkConfigAsync(withPoison: false);

    /// <summary>
    /// The talk's config plus what Kafka Connect users add first: errors.tolerance=all and a dead-letter topic.
    /// Only the name and topic differ from the unchanged run (they share the cluster), plus the errors.* keys.
    /// </summary>
    [Fact]
    public Task TalkConfigWithErrorToleranceAllAndDeadLetterTopic_PoisonMixedIn_GoodRecordsOnceBadOnesDeadLettered() => RunTalkConfigAsync(withPoison: true);

    private static bool IsPoison(int seq) => seq % 50 == 7;

    private async Task RunTalkConfigAsync(bool withPoison)
    {
        var config = KafkaConnectConfig.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "talk-connector-config.json")))
            .ToDictionary(kv => kv.Key, kv => kv.Value);
        if (withPoison)
        {
            config["name"] += "-poison";
            config["topics"] += "-poison";
            config["errors.tolerance"] = "all";
            config["errors.log.enable"] = "true";
            config["errors.deadletterqueue.topic.name"] = config["topics"] + "-dlq";
            config["errors.deadletterqueue.topic.replication.factor"] = "1";
            config["errors.deadletterqueue.context.headers.enable"] = "true";
            servers.Kafka.CreateTopic(config["errors.deadletterqueue.topic.name"], 1);
        }

        // The bucket belongs to the config's own user (eng/s3/start-rgw.sh creates "user"/"secret").
        var bucket = await servers.S3.CreateBucketAsync("talk", config["aws.access.key.id"], config["aws.secret.access.key"]);
        config["s3.proxy.url"] = servers.S3.Endpoint.ToString();
        config["s3.bucket.name"] = bucket;
        var topic = config["topics"];
        servers.Kafka.CreateTopic(topic, Partitions);

        // String keys, schemaless JSON values, record timestamps over ~5.5 hours; "seq" is the record's offset.
        var start = new DateTimeOffset(2026, 11, 27, 14, 10, 0, TimeSpan.Zero);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var p = 0; p < Partitions; p++)
            {
                for (var seq = 0; seq < PerPartition; seq++)
                {
                    var time = start.AddSeconds(seq * 20);
                    var value = Encoding.UTF8.GetBytes($"{{\"p\":{p},\"seq\":{seq},\"msg\":\"안녕 {seq}\"}}");
                    if (withPoison && IsPoison(seq))
                    {
                        // Alternately malformed JSON and a Latin-1 byte inside a string (not UTF-8).
                        value = seq % 100 == 7 ? value[..^1] : [.. value[..^2], 0xE9, .. "\"}"u8];
                    }

                    producer.Produce(new TopicPartition(topic, p), new Message<string, byte[]>
                    {
                        Key = $"user-{seq % 17}",
                        Value = value,
                        Timestamp = new Timestamp(time),
                    });
                }
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(new XunitLoggerProvider(output));
        builder.Services.AddKafkaS3Sink(sink => sink
            .UseKafkaConnectConfig(config)
            .Configure(o =>
            {
                o.BootstrapServers = servers.Kafka.BootstrapServers; // a worker setting, not part of a connector config
                o.Staging.Directory = staging;
            }));
        using (var host = builder.Build())
        {
            await host.StartAsync();
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + config["name"], topic, [PerPartition, PerPartition], TimeSpan.FromMinutes(2));
            await host.StopAsync();
        }

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket, accessKey: config["aws.access.key.id"], secretKey: config["aws.secret.access.key"]);
        var seen = new HashSet<(int, int)>();
        foreach (var (key, lines) in objects)
        {
            var records = lines.Select(SinkTestKit.Json).ToList();
            var p = records[0].GetProperty("p").GetInt32();
            var first = records.Min(r => r.GetProperty("seq").GetInt32());
            var local = TimeZoneInfo.ConvertTime(start.AddSeconds(first * 20), Seoul);
            key.Should().Be(string.Create(CultureInfo.InvariantCulture,
                $"backup/{topic}/year={local:yyyy}/month={local:MM}/day={local:dd}/hour={local:HH}/{topic}+{p}+{first:D10}.json"));
            foreach (var record in records)
            {
                var seq = record.GetProperty("seq").GetInt32();
                var hour = TimeZoneInfo.ConvertTime(start.AddSeconds(seq * 20), Seoul).ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture);
                hour.Should().Be(local.ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture), "every record is in its Seoul hour");
                record.GetProperty("p").GetInt32().Should().Be(p);
                seen.Add((p, seq)).Should().BeTrue("no record twice");
            }
        }

        var poisonPerPartition = withPoison ? Enumerable.Range(0, PerPartition).Count(IsPoison) : 0;
        seen.Should().HaveCount(Partitions * (PerPartition - poisonPerPartition), "every good record once");
        if (withPoison)
        {
            seen.Should().NotContain(s => IsPoison(s.Item2));
            using var consumer = new ConsumerBuilder<string, byte[]>(servers.Kafka.ConsumerConfig("read-" + Guid.NewGuid().ToString("N"))).Build();
            var deadLetters = new TopicPartition(config["errors.deadletterqueue.topic.name"], 0);
            consumer.Assign(new TopicPartitionOffset(deadLetters, Offset.Beginning));
            var dead = new List<(int Partition, int Offset, string Key, string Stage)>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (dead.Count < Partitions * poisonPerPartition && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: { } m })
                {
                    string H(string name) => Encoding.UTF8.GetString(m.Headers.GetLastBytes(name));
                    dead.Add((int.Parse(H("__connect.errors.partition"), CultureInfo.InvariantCulture), int.Parse(H("__connect.errors.offset"), CultureInfo.InvariantCulture), m.Key, H("__connect.errors.stage")));
                }
            }

            dead.Select(d => (d.Partition, d.Offset)).Should().BeEquivalentTo(
                Enumerable.Range(0, Partitions).SelectMany(p => Enumerable.Range(0, PerPartition).Where(IsPoison).Select(seq => (p, seq))),
                "each bad record is in the dead-letter topic once (the offset is the seq)");
            dead.Should().OnlyContain(d => d.Key == $"user-{d.Offset % 17}" && d.Stage == "VALUE_CONVERTER");
        }
        objects.Should().Contain(o => o.Key.Contains("/day=27/hour=23/", StringComparison.Ordinal))
            .And.Contain(o => o.Key.Contains("/day=28/hour=04/", StringComparison.Ordinal), "14:10 UTC is 23:10 in Seoul, and the data runs past midnight");
    }

    [Fact]
    public async Task InvalidConfig_HostFailsAtStart_NamingEachProblem()
    {
        var config = new Dictionary<string, string>
        {
            ["name"] = "broken",
            ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector",
            ["topics"] = "orders",
            ["flush.size"] = "lots",
            ["format.class"] = "com.example.OrcFormat",
            ["partitioner.class"] = "com.example.MyPartitioner",
            ["s3.bucket.name"] = "b",
            ["s3.part.size"] = "1024",
            ["timezone"] = "Mars/Olympus",
            ["transforms"] = "unwrap",
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddKafkaS3Sink(sink => sink.UseKafkaConnectConfig(config).Configure(o => o.BootstrapServers = servers.Kafka.BootstrapServers));
        using var host = builder.Build();

        var act = () => host.StartAsync();

        var errors = (await act.Should().ThrowAsync<KafkaS3SinkConfigurationException>()).Which.Errors;
        errors.Select(e => e.Split(':')[0]).Should().Contain(
        [
            "flush.size", "format.class", "partitioner.class", "transforms", "S3.PartSize", "timezone",
        ]);
        errors.Should().OnlyContain(e => !e.Contains("secret", StringComparison.OrdinalIgnoreCase));
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
