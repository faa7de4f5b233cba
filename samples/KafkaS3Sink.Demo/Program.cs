// The embedded demo: an in-process Kafka-protocol cluster, a local S3 server (Ceph RGW, started by
// eng/s3/start-rgw.sh unless S3_ENDPOINT names one), sample order events with an event time, the
// sink with hourly time partitions, and a printout of what landed in S3.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.S3.Model;
using Confluent.Kafka;
using KafkaS3Sink.Eng;
using KafkaS3Sink.Partitioning;
using KafkaS3Sink.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string Topic = "orders";
const int Partitions = 4;
const int Events = 2_000;
const string Bucket = "kafkas3sink-demo";

// Free ports: a fixed monitor port (it was 6810) can collide with the OSD of another Ceph cluster on the machine (6800-7300).
using var s3Server = LocalS3Server.Start(Path.Combine(Path.GetTempPath(), "kafkas3sink-rgw-demo"));
using var kafka = MockKafkaCluster.Start(brokerCount: 1);
kafka.CreateTopic(Topic, Partitions);
Console.WriteLine($"Kafka (in-process mock cluster): {kafka.BootstrapServers}");
Console.WriteLine($"S3 (Ceph RGW):                   {s3Server.Endpoint}");

using var s3 = s3Server.CreateClient();
await s3.PutBucketAsync(new PutBucketRequest { BucketName = Bucket });

// Order events spread over six hours of event time; event i goes to partition i % 4.
var regions = new[] { "eu", "us", "apac" };
var start = new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero);
using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = kafka.BootstrapServers, LingerMs = 5 }).Build())
{
    for (var i = 0; i < Events; i++)
    {
        var eventTime = start.AddSeconds(i * 6 * 3600.0 / Events);
        var json = string.Create(
            CultureInfo.InvariantCulture,
            $"{{\"orderId\":\"o-{i:D5}\",\"customer\":{{\"id\":\"c-{i % 97}\",\"region\":\"{regions[i % 3]}\"}},\"amount\":{(i % 50) + 9.99m},\"eventTime\":\"{eventTime:O}\"}}");
        producer.Produce(new TopicPartition(Topic, i % Partitions), new Message<string, string> { Key = $"o-{i:D5}", Value = json });
    }

    producer.Flush(TimeSpan.FromSeconds(30));
}

Console.WriteLine($"Produced {Events} order events to '{Topic}' ({Partitions} partitions).");

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddKafkaS3Sink(sink => sink
    .Configure(o =>
    {
        o.Name = "orders-backup";
        o.BootstrapServers = kafka.BootstrapServers;
        o.GroupId = "orders-backup";
        o.Topics.Add(Topic);
        o.TopicsDir = "backup";
        o.FlushSize = 100;
        o.S3.BucketName = Bucket;
        o.S3.ServiceUrl = s3Server.Endpoint;
        o.S3.ForcePathStyle = true;
        o.S3.AccessKeyId = s3Server.AccessKey;
        o.S3.SecretAccessKey = s3Server.SecretKey;
    })
    .UseTimeBasedPartitioner(t =>
    {
        t.PathFormat = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
        t.PartitionDuration = TimeSpan.FromHours(1);
        t.TimeZone = "UTC";
        t.TimestampSource = TimestampSource.RecordField;
        t.TimestampField = "eventTime";
    }));

using var host = builder.Build();
await host.StartAsync();
var stopwatch = Stopwatch.StartNew();

// The sink commits offsets only after S3 acknowledged the objects: wait until every offset is committed.
using (var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = "orders-backup" }).Build())
{
    var tps = Enumerable.Range(0, Partitions).Select(p => new TopicPartition(Topic, p)).ToList();
    while (true)
    {
        var committed = probe.Committed(tps, TimeSpan.FromSeconds(10)).Sum(t => t.Offset.IsSpecial ? 0 : t.Offset.Value);
        if (committed >= Events)
        {
            break;
        }

        if (stopwatch.Elapsed > TimeSpan.FromMinutes(2))
        {
            Console.Error.WriteLine($"Timed out: {committed} of {Events} offsets committed.");
            return 1;
        }

        await Task.Delay(200);
    }
}

Console.WriteLine($"The sink committed all {Events} offsets in {stopwatch.Elapsed.TotalSeconds:F1} s.");
await host.StopAsync();

Console.WriteLine();
Console.WriteLine($"Objects in s3://{Bucket}/backup/ (the sink also keeps one lease object per partition under _kafkas3sink/):");
var total = 0;
var ids = new HashSet<string>(StringComparer.Ordinal);
var perHour = new SortedDictionary<string, int>(StringComparer.Ordinal);
string? continuation = null;
do
{
    var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "backup/", ContinuationToken = continuation });
    foreach (var obj in page.S3Objects ?? [])
    {
        using var response = await s3.GetObjectAsync(Bucket, obj.Key);
        using var reader = new StreamReader(response.ResponseStream, Encoding.UTF8);
        var lines = (await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines)
        {
            ids.Add(System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("orderId").GetString()!);
        }

        total += lines.Length;
        var hour = obj.Key[..obj.Key.LastIndexOf('/')];
        perHour[hour] = perHour.GetValueOrDefault(hour) + lines.Length;
        Console.WriteLine($"  {obj.Key,-88} {obj.Size,7} bytes {lines.Length,4} records");
    }

    continuation = page.IsTruncated == true ? page.NextContinuationToken : null;
}
while (continuation is not null);

Console.WriteLine();
Console.WriteLine("Records per hourly partition:");
foreach (var (prefix, count) in perHour)
{
    Console.WriteLine($"  {prefix,-50} {count,5}");
}

Console.WriteLine();
Console.WriteLine($"{total} records in S3, {ids.Count} distinct order ids, {Events} produced: " +
    (total == Events && ids.Count == Events ? "every event exactly once." : "MISMATCH."));
return total == Events && ids.Count == Events ? 0 : 2;
