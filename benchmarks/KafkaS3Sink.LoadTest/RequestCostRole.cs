using System.Diagnostics;
using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Eng;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// --request-costs URL: what each kind of request the sink sends costs (and a plain PUT, the bare pipe's), 4 at a time as the sink's uploads run:
/// wall time per request, this process's CPU and allocation (nearly all the AWS SDK's) per request, and the store's CPU (the radosgw and ceph-osd processes,
/// read from /proc; "n/a" when the store is elsewhere). Two rounds of 200 of each, after 20 unmeasured.
/// </summary>
internal static class RequestCostRole
{
    private const int Requests = 200;

    public static async Task<int> RunAsync(string endpoint)
    {
        using var server = LocalS3Server.Start(Path.Combine(Path.GetTempPath(), $"kafkas3sink-request-costs-{Guid.NewGuid():N}"), endpoint: endpoint);
        using var s3 = server.CreateClient();
        var bucket = $"cost-{Guid.NewGuid():N}"[..30];
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        var body = new byte[1_000_000];
        Random.Shared.NextBytes(body);
        var lease = "{\"epoch\":1,\"owner\":\"host/1/0123456789abcdef\",\"acquiredAt\":\"2026-12-05T00:00:00.0000000+00:00\"}"u8.ToArray();
        Console.WriteLine("| request (4 at a time) | wall ms per request | client CPU ms | client KB allocated | store CPU ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        for (var round = 0; round < 2; round++)
        {
            var r = round;
            await MeasureAsync("PUT 1 MB (plain, as the bare pipe)", i => s3.PutObjectAsync(Put(bucket, $"r{r}/plain/{i}", body, condition: false, metadata: false)));
            await MeasureAsync("PUT 1 MB, sent whole (no aws-chunked)", i => s3.PutObjectAsync(Put(bucket, $"r{r}/whole/{i}", body, condition: false, metadata: false, whole: true)));
            await MeasureAsync("PUT 1 MB, the sink's 6 metadata entries", i => s3.PutObjectAsync(Put(bucket, $"r{r}/meta/{i}", body, condition: false, metadata: true)));
            await MeasureAsync("PUT 1 MB, If-None-Match: *", i => s3.PutObjectAsync(Put(bucket, $"r{r}/cond/{i}", body, condition: true, metadata: false)));
            await MeasureAsync("PUT 1 MB, all three (as the sink, fenced)", i => s3.PutObjectAsync(Put(bucket, $"r{r}/data/{i}", body, condition: true, metadata: true, whole: true)));
            await MeasureAsync("PUT lease (100 B, If-None-Match: *, whole)", i => s3.PutObjectAsync(Put(bucket, $"r{r}/lease/{i}", lease, condition: true, metadata: true, whole: true)));
            await MeasureAsync("GET lease", async i =>
            {
                using var response = await s3.GetObjectAsync(bucket, $"r{r}/lease/{i % Requests}");
                await response.ResponseStream.CopyToAsync(Stream.Null);
            });
            await MeasureAsync("HEAD lease", i => s3.GetObjectMetadataAsync(bucket, $"r{r}/lease/{i % Requests}"));
            await MeasureAsync("ListMultipartUploads (none open)", i => s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = "r0/" }));
        }

        await CompareRole.EmptyAndDeleteAsync(s3, bucket);
        return 0;
    }

    /// <summary>A PUT; <paramref name="whole"/> sends the body with its SHA-256 instead of the SDK's default aws-chunked streaming, as the sink does.</summary>
    private static PutObjectRequest Put(string bucket, string key, byte[] body, bool condition, bool metadata, bool whole = false)
    {
        var request = new PutObjectRequest
        {
            BucketName = bucket, Key = key, InputStream = new MemoryStream(body, writable: false), IfNoneMatch = condition ? "*" : null, UseChunkEncoding = !whole,
        };
        foreach (var name in metadata ? new[] { "epoch", "topic", "partition", "start-offset", "end-offset", "record-count" } : [])
        {
            request.Metadata.Add("kafkas3sink-" + name, "1");
        }

        return request;
    }

    private static async Task MeasureAsync(string name, Func<int, Task> request)
    {
        for (var i = 0; i < 20; i++)
        {
            await request(Requests + i);
        }

        var store0 = StoreTicks();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var allocated0 = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Requests), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) => await request(i));
        var wall = clock.Elapsed.TotalMilliseconds * 4 / Requests;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds / Requests;
        var allocatedKb = (GC.GetTotalAllocatedBytes(precise: true) - allocated0) / 1024.0 / Requests;
        var store = store0 is null ? "n/a" : ((StoreTicks() - store0) * 1000.0 / 100 / Requests)?.ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine($"| {name} | {wall:F1} | {cpu:F2} | {allocatedKb:F1} | {store} |");
    }

    /// <summary>CPU ticks (1/100 s) of the local store's processes, or null when there are none.</summary>
    private static long? StoreTicks()
    {
        long? ticks = null;
        foreach (var process in Process.GetProcesses())
        {
            if (process.ProcessName is "radosgw" or "ceph-osd")
            {
                var fields = File.ReadAllText($"/proc/{process.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                ticks = (ticks ?? 0) + long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
        }

        return ticks;
    }
}
