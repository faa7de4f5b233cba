using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using Confluent.Kafka;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Produces test data, waits for the sink's commits and reads back what landed in S3.</summary>
public static class SinkTestKit
{
    /// <summary>Whether a key is a data object (not one of the sink's lease objects under <c>_kafkas3sink/</c>).</summary>
    public static bool IsDataKey(string key) => !key.StartsWith("_kafkas3sink/", StringComparison.Ordinal);

    public static void Produce(KafkaCluster kafka, string topic, IEnumerable<(int Partition, string? Key, string Value)> records)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        };
        using var producer = new ProducerBuilder<string?, string>(config).Build();
        Exception? failure = null;
        foreach (var (partition, key, value) in records)
        {
            producer.Produce(
                new TopicPartition(topic, partition),
                new Message<string?, string> { Key = key, Value = value },
                report =>
                {
                    if (report.Error.IsError)
                    {
                        failure ??= new InvalidOperationException("Produce failed: " + report.Error);
                    }
                });
        }

        producer.Flush(TimeSpan.FromSeconds(60));
        if (failure is not null)
        {
            throw failure;
        }
    }

    /// <summary>Reads the group's committed offsets of every partition of a topic (-1 where none).</summary>
    public static long[] Committed(KafkaCluster kafka, string groupId, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig(groupId)).Build();
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        return consumer.Committed(tps, TimeSpan.FromSeconds(10))
            .OrderBy(t => t.Partition.Value)
            .Select(t => t.Offset.IsSpecial ? -1L : t.Offset.Value)
            .ToArray();
    }

    /// <summary>The end (high watermark) offsets of every partition.</summary>
    public static long[] EndOffsets(KafkaCluster kafka, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(kafka.ConsumerConfig("end-offsets-" + Guid.NewGuid())).Build();
        return Enumerable.Range(0, partitions)
            .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value)
            .ToArray();
    }

    /// <summary>Runs a sink until its group's committed offsets reach the topic's end offsets, then stops it gracefully.</summary>
    public static async Task RunToEndAsync(KafkaS3Sink sink, KafkaCluster kafka, string groupId, string topic, int partitions, TimeSpan timeout)
    {
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);
        await WaitForCommitsAsync(kafka, groupId, topic, EndOffsets(kafka, topic, partitions), timeout, run);
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(2)); // a sink that does not stop fails the test instead of hanging it
    }

    /// <summary>Waits until the group's committed offsets reach the targets; fails the test on timeout.</summary>
    public static async Task WaitForCommitsAsync(KafkaCluster kafka, string groupId, string topic, long[] targets, TimeSpan timeout, Task? sinkRun = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        long[] committed = [];
        while (DateTime.UtcNow < deadline)
        {
            if (sinkRun is { IsCompleted: true })
            {
                await sinkRun; // surfaces the sink's failure
                throw new InvalidOperationException("The sink stopped before committing everything.");
            }

            committed = Committed(kafka, groupId, topic, targets.Length);
            if (committed.Zip(targets).All(x => x.First >= x.Second))
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Committed offsets [{string.Join(",", committed)}] did not reach [{string.Join(",", targets)}] within {timeout}.");
    }

    /// <summary>Every object under a prefix with its lines (read 8 at a time; <c>.gz</c> objects decompressed).</summary>
    public static async Task<List<(string Key, List<string> Lines)>> ReadObjectsAsync(
        S3Server s3, string bucket, string prefix = "", string? accessKey = null, string? secretKey = null)
    {
        using var client = s3.CreateClient(accessKey, secretKey);
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = prefix, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(IsDataKey));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        var result = new (string, List<string>)[keys.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, keys.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            using var response = await client.GetObjectAsync(bucket, keys[i], ct);
            using var reader = new StreamReader(
                keys[i].EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(response.ResponseStream, System.IO.Compression.CompressionMode.Decompress) : response.ResponseStream,
                Encoding.UTF8);
            var lines = (await reader.ReadToEndAsync(ct)).Split('\n').ToList();
            lines.Should().HaveElementAt(lines.Count - 1, string.Empty, $"object {keys[i]} must end with a newline");
            lines.RemoveAt(lines.Count - 1);
            result[i] = (keys[i], lines);
        });
        return [.. result];
    }

    /// <summary>Downloads every object of a bucket under <paramref name="root"/>, keeping the keys as paths (for DuckDB and other readers).</summary>
    /// <returns>The keys.</returns>
    public static async Task<List<string>> DownloadAllAsync(S3Server s3, string bucket, string root)
    {
        using var client = s3.CreateClient();
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key).Where(IsDataKey));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        foreach (var key in keys)
        {
            using var response = await client.GetObjectAsync(bucket, key);
            await response.WriteResponseStreamToFileAsync(Path.Combine(root, key), append: false, CancellationToken.None);
        }

        return keys;
    }

    public static JsonElement Json(string line) => JsonDocument.Parse(line).RootElement.Clone();
}
