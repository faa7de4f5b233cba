using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Confluent.Kafka;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// One measured mode of --compare, in its own process (so that CPU, allocation and peak RSS are its own):
/// (a) consume only, (b) raw PUT, (p) the bare pipe, (c) the sink with the file buffer, (d) with the memory
/// buffer, (e) a hand-written consume → buffer → PutObject → commit loop. Prints one JSON line.
/// </summary>
internal static class ModeRole
{
    /// <summary>The consumer settings of (a), (p) and (e): the best found for this client (docs/benchmarks.md).</summary>
    public static ConsumerConfig BestConsumer(string bootstrap, string group) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = group,
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        FetchQueueBackoffMs = 10,
        QueuedMaxMessagesKbytes = 65536,
        FetchMaxBytes = 16 * 1024 * 1024,
        MaxPartitionFetchBytes = 2 * 1024 * 1024,
    };

    public static async Task<int> RunAsync(HarnessOptions o)
    {
        var layout = CompareLayout.Of(o);
        using var s3 = new AmazonS3Client(
            new BasicAWSCredentials(Environment.GetEnvironmentVariable("S3_ACCESS_KEY"), Environment.GetEnvironmentVariable("S3_SECRET_KEY")),
            new AmazonS3Config
            {
                ServiceURL = o.S3Endpoint,
                ForcePathStyle = true,
                AuthenticationRegion = "us-east-1",
                RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
                ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            });
        var group = $"cmp-{o.Mode}-{o.Round}-{Guid.NewGuid():N}";
        if (o.Warmup)
        {
            // The same code over a separate topic with the measured layout first, so that what is measured is the
            // steady state of a long-running process, not the JIT compiling it (the same for every mode). Tiered
            // compilation needs calls to promote a method (tier 0, instrumented, then optimized: 30 calls each, after
            // 100 ms without new tier-0 code), so a method called once per object needs dozens of objects first.
            var warmBucket = $"warm-{Guid.NewGuid():N}"[..30];
            await s3.PutBucketAsync(new PutBucketRequest { BucketName = warmBucket });
            await RunModeAsync(s3, o, layout, new Target("warmup", layout.Records, layout.PerPartition, group + "-warm", warmBucket), new FirstRecordClock());
            await CompareRole.EmptyAndDeleteAsync(s3, warmBucket);
            await JitQuietAsync();
        }

        GC.Collect();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var alloc0 = GC.GetTotalAllocatedBytes(precise: true);
        var (gen0, gen1, gen2, pause0) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var first = new FirstRecordClock();
        var objects = await RunModeAsync(s3, o, layout, new Target("load", layout.Records, layout.PerPartition, group, o.Bucket!), first);

        var seconds = first.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - alloc0;
        var gcs = $"{GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/{GC.CollectionCount(2) - gen2}";
        var gcPauseMs = Math.Round((GC.GetTotalPauseDuration() - pause0).TotalMilliseconds);
        var peakRss = Verification.PeakRssMb();
        long? lost = null, duplicated = null;
        if (o.Mode is "c" or "d" && Environment.GetEnvironmentVariable("COMPARE_SKIP_VERIFY") != "1")
        {
            (objects, var l, var d) = await Verification.VerifyAsync(s3, o.Bucket!, layout.Records);
            (lost, duplicated) = (l, d);
        }

        var bytes = layout.Records * o.RecordSize;
        Console.WriteLine(JsonSerializer.Serialize(new ModeResult(
            o.Mode!, layout.Records, bytes, Math.Round(seconds, 3), Math.Round(layout.Records / seconds), Math.Round(bytes / seconds / 1e6, 1),
            Math.Round(cpu / (bytes / 1e9), 1), Math.Round((double)allocated / layout.Records), Math.Round(peakRss, 1), objects, lost, duplicated, gcs, gcPauseMs)));
        return lost is null or 0 && duplicated is null or 0 ? 0 : 1;
    }

    /// <summary>
    /// Waits (at most 20 s) until the JIT spent less than 10 ms of the last 500 ms compiling: the background tier-up
    /// has caught up. (Counting methods is not enough: the largest, such as the S3 client's endpoint rules, take
    /// tens of milliseconds each to optimize.)
    /// </summary>
    private static async Task JitQuietAsync()
    {
        var waited = Stopwatch.StartNew();
        var spent = System.Runtime.JitInfo.GetCompilationTime();
        while (waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(500);
            var now = System.Runtime.JitInfo.GetCompilationTime();
            if (now - spent < TimeSpan.FromMilliseconds(10))
            {
                break;
            }

            spent = now;
        }

        Console.Error.WriteLine($"warm-up: {System.Runtime.JitInfo.GetCompiledMethodCount():N0} methods compiled in {System.Runtime.JitInfo.GetCompilationTime().TotalSeconds:F1} s, JIT quiet after {waited.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task<int> RunModeAsync(IAmazonS3 s3, HarnessOptions o, CompareLayout layout, Target target, FirstRecordClock first) => o.Mode switch
    {
        "a" => ConsumeOnly(o, target, first),
        "b" => await RawPutAsync(s3, layout, target, first),
        "p" => await BarePipeAsync(s3, o, layout, target, first),
        "c" or "d" => await SinkAsync(o, layout, target, first),
        "e" => HandWritten(s3, o, layout, target, first),
        _ => throw new ArgumentException($"Unknown mode '{o.Mode}'."),
    };

    /// <summary>(a): consume every record and touch its value; nothing else.</summary>
    private static int ConsumeOnly(HarnessOptions o, Target target, FirstRecordClock first)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(BestConsumer(o.Bootstrap!, target.Group)).Build();
        consumer.Subscribe(target.Topic);
        long checksum = 0;
        foreach (var r in Records(consumer, target.Records, first))
        {
            checksum += r.Message.Value.Length;
        }

        first.Stop();
        GC.KeepAlive(checksum);
        consumer.Close();
        return 0;
    }

    /// <summary>(b): PUT the same bytes from memory, in objects of the sink's size, 16 at a time.</summary>
    private static async Task<int> RawPutAsync(IAmazonS3 s3, CompareLayout layout, Target target, FirstRecordClock first)
    {
        var body = new byte[layout.ObjectBytes];
        Random.Shared.NextBytes(body);
        first.Start();
        await Parallel.ForEachAsync(Enumerable.Range(0, (int)(target.Records / layout.FlushSize)), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = target.Bucket, Key = $"raw/{i}", InputStream = new MemoryStream(body, writable: false) }, ct));
        first.Stop();
        return (int)(target.Records / layout.FlushSize);
    }

    /// <summary>(p): (a)'s consumer appending to in-memory buffers per partition, each full buffer PUT concurrently (16 at most).</summary>
    private static async Task<int> BarePipeAsync(IAmazonS3 s3, HarnessOptions o, CompareLayout layout, Target target, FirstRecordClock first)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(BestConsumer(o.Bootstrap!, target.Group)).Build();
        consumer.Subscribe(target.Topic);
        var buffers = new PartitionBuffers(layout.FlushSize, layout.ObjectBytes + 1024);
        var inFlight = new List<Task>();
        using var slots = new SemaphoreSlim(16);
        var objects = 0;
        foreach (var r in Records(consumer, target.Records, first))
        {
            if (buffers.Append(r.Partition.Value, r.Message.Value) is { } data)
            {
                var key = $"pipe/{r.Partition.Value}/{r.Offset.Value}";
                await slots.WaitAsync();
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        data.Position = 0;
                        await s3.PutObjectAsync(new PutObjectRequest { BucketName = target.Bucket, Key = key, InputStream = data });
                    }
                    finally
                    {
                        slots.Release();
                    }
                }));
                objects++;
            }
        }

        await Task.WhenAll(inFlight);
        first.Stop();
        consumer.Close();
        return objects;
    }

    /// <summary>(c)/(d): the sink with its defaults (consumer settings included), until every offset is committed.</summary>
    private static async Task<int> SinkAsync(HarnessOptions o, CompareLayout layout, Target target, FirstRecordClock first)
    {
        var staging = Path.Combine(o.Work!, $"staging-{o.Mode}-{o.Round}-{target.Topic}");
        var builder = new KafkaS3SinkBuilder().Configure(x =>
        {
            x.Name = "compare";
            x.BootstrapServers = o.Bootstrap!;
            x.GroupId = target.Group;
            x.Topics.Add(target.Topic);
            x.FlushSize = layout.FlushSize;
            x.Staging.Directory = staging;
            x.S3.BucketName = target.Bucket;
            x.S3.ServiceUrl = new Uri(o.S3Endpoint!);
            x.S3.ForcePathStyle = true;
            x.S3.AccessKeyId = Environment.GetEnvironmentVariable("S3_ACCESS_KEY");
            x.S3.SecretAccessKey = Environment.GetEnvironmentVariable("S3_SECRET_KEY");
            x.S3.ConditionalWrites = o.ConditionalWrites;
            x.S3.MaxConcurrentUploads = o.MaxUploads ?? x.S3.MaxConcurrentUploads;
            x.Format = o.Format == "parquet" ? OutputFormat.Parquet : OutputFormat.JsonLines;
        });
        if (o.Partitioner == "field-hourly")
        {
            builder.UsePartitioner(p => p.Field("shard").Hourly());
        }

        if (o.Mode == "d")
        {
            builder.UseMemorySegmentBuffer();
        }

        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == "KafkaS3Sink" && i.Name is "kafkas3sink.records.consumed" or "kafkas3sink.commits")
            {
                l.EnableMeasurementEvents(i);
            }
        };
        long consumed = 0;
        var lastAppend = TimeSpan.Zero;
        long lastCommit = 0;
        listener.SetMeasurementEventCallback<long>((i, n, _, _) =>
        {
            if (i.Name == "kafkas3sink.commits")
            {
                Volatile.Write(ref lastCommit, Stopwatch.GetTimestamp());
                return;
            }

            first.Start();
            if ((consumed += n) == target.Records)
            {
                lastAppend = first.Elapsed;
            }
        });
        listener.Start();

        using var sink = builder.Build();
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);
        // The pipe's clock stops the moment its last PUT returns; the sink's end is seen by asking the coordinator, so ask
        // often (10 ms; every 100 ms added ~60 ms to a ~3 s run). As a check on that delay, stderr says when the sink's
        // loop took the last commit's answer (on a tick after the commit returned, so it may come after the harness saw it).
        await Verification.WaitForCommitsAsync(o.Bootstrap!, target.Group, o.Partitions, target.PerPartition, run, target.Topic, pollMs: 10);
        first.Stop();
        var seen = Stopwatch.GetTimestamp();
        await Task.Delay(200);
        var check = Volatile.Read(ref lastCommit) is var at and not 0
            && Stopwatch.GetElapsedTime(seen, at).TotalMilliseconds is var noted
                ? $"the sink took its last commit's answer {Math.Abs(noted):F0} ms {(noted <= 0 ? "before" : "after")} the harness saw it"
                : "the sink reported no commit";
        Console.Error.WriteLine($"mode {o.Mode}: every record appended after {lastAppend.TotalSeconds:F3} s, committed after {first.Elapsed.TotalSeconds:F3} s ({check})");
        await stop.CancelAsync();
        await run;
        Directory.Delete(staging, recursive: true);
        return 0;
    }

    /// <summary>(e): what a user would write by hand: consume, buffer per partition, PutObject when full, commit it.</summary>
    private static int HandWritten(IAmazonS3 s3, HarnessOptions o, CompareLayout layout, Target target, FirstRecordClock first)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = o.Bootstrap,
            GroupId = target.Group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(target.Topic);
        var buffers = new PartitionBuffers(layout.FlushSize, initialCapacity: 0);
        var objects = 0;
        foreach (var r in Records(consumer, target.Records, first))
        {
            if (buffers.Append(r.Partition.Value, r.Message.Value) is { } data)
            {
                data.Position = 0;
                s3.PutObjectAsync(new PutObjectRequest { BucketName = target.Bucket, Key = $"naive/{r.Partition.Value}/{r.Offset.Value}", InputStream = data }).GetAwaiter().GetResult();
                consumer.Commit([new TopicPartitionOffset(r.TopicPartition, r.Offset + 1)]);
                objects++;
            }
        }

        first.Stop();
        consumer.Close();
        return objects;
    }

    /// <summary>Every record of the run, in the order consumed; the clock starts at the first.</summary>
    private static IEnumerable<ConsumeResult<Ignore, byte[]>> Records(IConsumer<Ignore, byte[]> consumer, long count, FirstRecordClock first)
    {
        for (long seen = 0; seen < count;)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message: not null } r)
            {
                first.Start();
                seen++;
                yield return r;
            }
        }
    }

    /// <summary>JSON lines per partition in memory; a buffer is handed out when it holds flush.size records.</summary>
    private sealed class PartitionBuffers(int flushSize, int initialCapacity)
    {
        private readonly Dictionary<int, (MemoryStream Data, int Count)> buffers = [];

        public MemoryStream? Append(int partition, byte[] value)
        {
            if (!buffers.TryGetValue(partition, out var buffer))
            {
                buffer = (new MemoryStream(initialCapacity), 0);
            }

            buffer.Data.Write(value);
            buffer.Data.WriteByte((byte)'\n');
            buffer.Count++;
            if (buffer.Count < flushSize)
            {
                buffers[partition] = buffer;
                return null;
            }

            buffers.Remove(partition);
            return buffer.Data;
        }
    }

    /// <summary>Measures from the first record to the end (group joins are not throughput).</summary>
    private sealed class FirstRecordClock
    {
        private readonly Stopwatch stopwatch = new();
        private int started;

        public TimeSpan Elapsed => stopwatch.Elapsed;

        public void Start()
        {
            if (started == 0 && Interlocked.Exchange(ref started, 1) == 0)
            {
                stopwatch.Start();
            }
        }

        public void Stop() => stopwatch.Stop();
    }
}

/// <summary>What one run of a mode reads and where it writes: the measured data ("load") or the warm-up ("warmup").</summary>
internal sealed record Target(string Topic, long Records, long PerPartition, string Group, string Bucket);

/// <summary>What one mode measured (MB = 10^6 bytes of values).</summary>
internal sealed record ModeResult(
    string Mode, long Records, long Bytes, double Seconds, double RecordsPerSec, double MbPerSec,
    double CpuSecondsPerGb, double AllocatedBytesPerRecord, double PeakRssMb, int Objects, long? Lost, long? Duplicated,
    string? Collections = null, double? GcPauseMs = null);

/// <summary>The data and object sizes every mode of one --compare run shares.</summary>
internal sealed record CompareLayout(int FlushSize, long PerPartition, long Records, int ObjectBytes, int Objects)
{
    /// <summary>flush.size from the object size; per partition a multiple of it, at most 3 MB of values (the mock keeps ~5 MiB).</summary>
    public static CompareLayout Of(HarnessOptions o)
    {
        var flush = (int)Math.Max(1, o.ObjectBytes / o.RecordSize);
        var budget = o.TotalBytes > 0 ? o.TotalBytes / o.Partitions : 3_000_000;
        var perPartition = Math.Max(1, budget / o.RecordSize / flush) * flush;
        var records = perPartition * o.Partitions;
        var objects = (int)(records / flush);
        return new CompareLayout(flush, perPartition, records, flush * (o.RecordSize + 1), objects);
    }
}
