using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The DuckDB query of docs/querying.md, run as written against a field + hourly layout the sink wrote.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Docs")]
public sealed partial class QueryingDocTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private readonly string local = Path.Combine(Path.GetTempPath(), "kafkas3sink-query-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task DocumentedDuckDbQuery_OverAFieldAndHourlyBackup_CountsEveryRecordInItsPartition()
    {
        var topic = "orders";
        var group = "query-" + Guid.NewGuid().ToString("N")[..8];
        var bucket = await servers.S3.CreateBucketAsync("query");
        var kafkaTopic = group + "-orders";
        servers.Kafka.CreateTopic(kafkaTopic, 2);

        // 300 records over 3 regions and 5 hours of 2026-11-27 (UTC).
        string[] regions = ["eu", "us", "ap-northeast"];
        var start = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);
        SinkTestKit.Produce(servers.Kafka, kafkaTopic, Enumerable.Range(0, 300).Select(i =>
            (i % 2, (string?)null, $"{{\"id\":{i},\"region\":\"{regions[i % 3]}\",\"createdAt\":\"{start.AddMinutes(i):O}\"}}")));
        using (var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = group;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = group;
                o.Topics.Add(kafkaTopic);
                o.FlushSize = 50;
                o.IdleRotateInterval = TimeSpan.FromMilliseconds(500);
                o.Staging.Directory = Path.Combine(local, "staging");
                servers.S3.Configure(o.S3, bucket);
            })
            .UsePartitioner(p => p.Field("region").Hourly(t => { t.TimestampSource = Partitioning.TimestampSource.RecordField; t.TimestampField = "createdAt"; }))
            .Build())
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, group, kafkaTopic, 2, TimeSpan.FromMinutes(2));
        }

        // A local copy of the bucket, with the documented topic name in place of the test's.
        var copy = Path.Combine(local, "my-backups");
        foreach (var (key, lines) in await SinkTestKit.ReadObjectsAsync(servers.S3, bucket))
        {
            var path = Path.Combine(copy, key.Replace($"topics/{kafkaTopic}/", $"topics/{topic}/", StringComparison.Ordinal));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllLinesAsync(path, lines);
        }

        var doc = await File.ReadAllTextAsync(Path.Combine(S3Server.RepositoryRoot(), "docs", "querying.md"));
        var sql = DuckDbBlock().Match(doc).Groups[1].Value.Replace("s3://my-backups/", copy + "/", StringComparison.Ordinal);
        output.WriteLine(sql);
        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        var rows = new List<(string Region, string Hour, long Records, long FirstId)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                reader.GetString(1).Should().Be("2026");
                reader.GetString(2).Should().Be("11");
                reader.GetString(3).Should().Be("27");
                rows.Add((reader.GetString(0), reader.GetString(4), reader.GetInt64(5), reader.GetInt64(6)));
            }
        }

        var expected = Enumerable.Range(0, 300)
            .GroupBy(i => (Region: regions[i % 3], Hour: start.AddMinutes(i).ToString("HH", System.Globalization.CultureInfo.InvariantCulture)))
            .OrderBy(g => g.Key.Region, StringComparer.Ordinal).ThenBy(g => g.Key.Hour, StringComparer.Ordinal)
            .Select(g => (g.Key.Region, g.Key.Hour, (long)g.Count(), (long)g.Min()));
        rows.Should().Equal(expected);
    }

    public void Dispose()
    {
        if (Directory.Exists(local))
        {
            Directory.Delete(local, recursive: true);
        }
    }

    [GeneratedRegex("```sql\\n-- duckdb: field \\+ hourly\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex DuckDbBlock();
}
