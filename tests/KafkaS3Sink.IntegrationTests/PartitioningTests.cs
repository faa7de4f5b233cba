using System.Globalization;
using DuckDB.NET.Data;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using KafkaS3Sink.Partitioning;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Partitioning")]
public sealed class PartitioningTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 4;
    private static readonly string[] Regions = ["eu", "us", "apac", "sa/north"];
    private readonly string work = Path.Combine(Path.GetTempPath(), "kafkas3sink-part-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task FieldPlusHourlyComposite_NestedFields_DuckDbCountsEveryPartition()
    {
        var topic = "part-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("part");
        const int count = 4_000;
        var start = new DateTimeOffset(2026, 11, 27, 5, 0, 0, TimeSpan.Zero);
        var expected = new Dictionary<(string Region, string Hour), int>();
        var records = new List<(int, string?, string)>();
        for (var i = 0; i < count; i++)
        {
            var region = Regions[(i / 7) % Regions.Length];
            var time = start.AddSeconds(i * 4.3); // ~4.8 hours
            var hour = time.ToString("yyyy-MM-dd HH", CultureInfo.InvariantCulture);
            expected[(region, hour)] = expected.GetValueOrDefault((region, hour)) + 1;
            records.Add((i % Partitions, null, string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"id\":{i},\"order\":{{\"customer\":{{\"region\":\"{region}\"}},\"createdAt\":\"{time:O}\"}}}}")));
        }

        SinkTestKit.Produce(servers.Kafka, topic, records);
        using (var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = group;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = group;
                o.Topics.Add(topic);
                o.FlushSize = 250;
                o.Staging.Directory = Path.Combine(work, "staging");
                servers.S3.Configure(o.S3, bucket);
            })
            .UsePartitioner(p => p
                .Field("order.customer.region")
                .Hourly(t =>
                {
                    t.TimestampSource = TimestampSource.RecordField;
                    t.TimestampField = "order.createdAt";
                }))
            .UseLoggerFactory(loggerFactory)
            .Build())
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, topic, Partitions, TimeSpan.FromMinutes(3));
        }

        // Every object sits under region=<encoded>/year=/month=/day=/hour= matching its records.
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.SelectMany(o => o.Lines).Should().HaveCount(count);
        foreach (var (key, lines) in objects)
        {
            foreach (var line in lines)
            {
                var order = SinkTestKit.Json(line).GetProperty("order");
                var region = S3KeyEncoding.EncodeSegment(order.GetProperty("customer").GetProperty("region").GetString()!);
                var time = DateTimeOffset.Parse(order.GetProperty("createdAt").GetString()!, CultureInfo.InvariantCulture);
                key.Should().StartWith(string.Create(CultureInfo.InvariantCulture, $"topics/{topic}/region={region}/year={time:yyyy}/month={time:MM}/day={time:dd}/hour={time:HH}/{topic}+"));
            }
        }

        // DuckDB reads the downloaded tree with Hive partitioning and prunes by the key's columns.
        var root = Path.Combine(work, "download");
        await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"""
            SELECT region, year, month, day, hour, count(*) AS n, count(DISTINCT id) AS ids
            FROM read_json_auto('{root}/topics/{topic}/*/*/*/*/*/*.json', hive_partitioning = true, hive_types_autocast = false)
            GROUP BY ALL
            """;
        var actual = new Dictionary<(string Region, string Hour), int>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var hour = $"{reader.GetString(1)}-{reader.GetString(2)}-{reader.GetString(3)} {reader.GetString(4)}";
                reader.GetInt64(5).Should().Be(reader.GetInt64(6), "no duplicates within a partition");
                // DuckDB decodes %XX in Hive values (sa%2Fnorth -> sa/north); unescaping is a no-op otherwise.
                actual[(Uri.UnescapeDataString(reader.GetString(0)), hour)] = (int)reader.GetInt64(5);
            }
        }

        // The percent-encoding of key values decodes back to the original value.
        actual.Should().BeEquivalentTo(expected);
        using var pruned = duck.CreateCommand();
        pruned.CommandText = $"SELECT count(*) FROM read_json_auto('{root}/topics/{topic}/*/*/*/*/*/*.json', hive_partitioning = true, hive_types_autocast = false) WHERE region = 'eu' AND hour = '06'";
        Convert.ToInt64(pruned.ExecuteScalar(), CultureInfo.InvariantCulture)
            .Should().Be(expected.Where(kv => kv.Key.Region == "eu" && kv.Key.Hour.EndsWith(" 06", StringComparison.Ordinal)).Sum(kv => kv.Value));
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
