using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Confluent.Kafka;
using KafkaS3Sink.Eng;

namespace KafkaS3Sink.LoadTest;

/// <summary>The measured process: runs the sink, waits for every offset to be committed, verifies S3.</summary>
internal static class SinkRole
{
    public static async Task<int> RunAsync(HarnessOptions o)
    {
        var records = o.TotalBytes / o.RecordSize / o.Partitions * o.Partitions;
        var perPartition = records / o.Partitions;
        var work = Path.Combine(Path.GetTempPath(), "kafkas3sink-load-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        var progressFile = Path.Combine(work, "progress");
        File.WriteAllText(progressFile, "0");

        using var s3Server = LocalS3Server.Start(Path.Combine(work, "rgw"), rgwPort: 7520, monPort: 6850, memstoreBytes: 8L << 30, endpoint: o.S3Endpoint);
        using var s3 = s3Server.CreateClient();
        var bucket = "load-" + Guid.NewGuid().ToString("N")[..12];
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });

        using var kafka = StartKafkaChild(o, records, progressFile);
        var bootstrap = await ReadBootstrapAsync(kafka);
        Console.Error.WriteLine($"load: {records:N0} records of {o.RecordSize} B on {o.Partitions} partitions, {o.OpenFiles:N0} open files, {o.Buffer} buffer; Kafka {bootstrap}, S3 {s3Server.Endpoint}");

        using var sampler = new Sampler(progressFile);
        using var sink = BuildSink(o, bootstrap, bucket, s3Server, work, perPartition);
        using var stop = new CancellationTokenSource();
        var stopwatch = Stopwatch.StartNew();
        var run = sink.RunAsync(stop.Token);
        await Verification.WaitForCommitsAsync(bootstrap, "load", o.Partitions, perPartition, run);
        var elapsed = stopwatch.Elapsed;
        await stop.CancelAsync();
        await run;
        var peakRssMb = Verification.PeakRssMb();
        sampler.Freeze();
        kafka.StandardInput.Close();

        Console.Error.WriteLine($"load: sink done in {elapsed.TotalSeconds:F1} s; verifying objects");
        var (objects, lost, duplicated) = await Verification.VerifyAsync(s3, bucket, records);
        var bytes = records * o.RecordSize;
        double? rawMbPerSec = o.RawBaseline ? await RawUploadMbPerSecAsync(s3, bucket, bytes, objects, o.MaxUploads ?? new S3StorageOptions().MaxConcurrentUploads) : null;
        var mbPerSec = bytes / elapsed.TotalSeconds / (1024 * 1024);
        var result = new Dictionary<string, object?>
        {
            ["openFiles"] = o.OpenFiles,
            ["buffer"] = o.Buffer,
            ["conditionalWrites"] = o.ConditionalWrites.ToString(),
            ["records"] = records,
            ["bytes"] = bytes,
            ["seconds"] = Math.Round(elapsed.TotalSeconds, 2),
            ["recordsPerSec"] = Math.Round(records / elapsed.TotalSeconds),
            ["mbPerSec"] = Math.Round(mbPerSec, 1),
            ["rawS3MbPerSec"] = rawMbPerSec is null ? null : Math.Round(rawMbPerSec.Value, 1),
            ["sinkVsRawS3"] = rawMbPerSec is null ? null : Math.Round(mbPerSec / rawMbPerSec.Value, 2),
            ["objectsPerSec"] = Math.Round(objects / elapsed.TotalSeconds, 1),
            ["uploadSpanSeconds"] = Math.Round(sampler.UploadSpanSeconds, 2),
            ["objectsPerSecWhileUploading"] = sampler.UploadSpanSeconds > 0 ? (double?)Math.Round(objects / sampler.UploadSpanSeconds, 1) : null,
            ["rawObjectsPerSec"] = rawMbPerSec is null ? null : Math.Round(objects / (bytes / (rawMbPerSec.Value * 1024 * 1024)), 1),
            ["objects"] = objects,
            ["peakStagedBytes"] = sampler.PeakStagedBytes,
            ["peakOpenSegments"] = sampler.PeakOpenSegments,
            ["peakOpenHandles"] = sampler.PeakOpenHandles,
            ["peakRssMb"] = Math.Round(peakRssMb, 1),
            ["peakGcHeapMb"] = Math.Round(sampler.PeakGcHeapBytes / (1024.0 * 1024), 1),
            ["gcHeapAtPeakRssMb"] = Math.Round(sampler.GcHeapAtPeakRss / (1024.0 * 1024), 1),
            ["gcCommittedAtPeakRssMb"] = Math.Round(sampler.GcCommittedAtPeakRss / (1024.0 * 1024), 1),
            ["peakRssAtSeconds"] = Math.Round(sampler.PeakRssAtSeconds, 1),
            ["lost"] = lost,
            ["duplicated"] = duplicated,
        };
        Directory.Delete(Path.Combine(work, "staging"), recursive: true);
        Console.WriteLine(JsonSerializer.Serialize(result));
        return lost == 0 && duplicated == 0 ? 0 : 1;
    }

    private static KafkaS3Sink BuildSink(HarnessOptions o, string bootstrap, string bucket, LocalS3Server s3, string work, long perPartition)
    {
        var builder = new KafkaS3SinkBuilder().Configure(x =>
        {
            x.Name = "load";
            x.BootstrapServers = bootstrap;
            x.GroupId = "load";
            x.Topics.Add("load");

            // One rotation per partition, at its last record: every output file stays open for the whole run.
            x.FlushSize = (int)perPartition;
            x.Staging.Directory = Path.Combine(work, "staging");
            x.Staging.MaxStagedBytes = 2 * o.TotalBytes + (1L << 30);
            x.Staging.FsyncOnSeal = false;
            x.Staging.MaxOpenFileHandles = o.MaxHandles ?? x.Staging.MaxOpenFileHandles;
            x.S3.BucketName = bucket;
            x.S3.ServiceUrl = s3.Endpoint;
            x.S3.ForcePathStyle = true;
            x.S3.AccessKeyId = s3.AccessKey;
            x.S3.SecretAccessKey = s3.SecretKey;
            x.S3.ConditionalWrites = o.ConditionalWrites;
            x.S3.MaxConcurrentUploads = o.MaxUploads ?? x.S3.MaxConcurrentUploads;
            x.KafkaProperties["fetch.max.bytes"] = "8388608";
            x.KafkaProperties["queued.max.messages.kbytes"] = "16384";
            foreach (var (key, value) in o.KafkaProperties)
            {
                x.KafkaProperties[key] = value;
            }
        }).UsePartitioner(p => p.Field("shard"));
        if (o.Buffer == "memory")
        {
            builder.UseMemorySegmentBuffer();
        }

        return builder.Build();
    }

    private static Process StartKafkaChild(HarnessOptions o, long records, string progressFile)
    {
        var self = typeof(SinkRole).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet",
        [
            self, "--role", "kafka", "--partitions", o.Partitions.ToString(CultureInfo.InvariantCulture),
            "--open-files", o.OpenFiles.ToString(CultureInfo.InvariantCulture), "--record-size", o.RecordSize.ToString(CultureInfo.InvariantCulture),
            "--records", records.ToString(CultureInfo.InvariantCulture), "--progress-file", progressFile,
        ])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        return Process.Start(psi)!;
    }

    private static async Task<string> ReadBootstrapAsync(Process kafka)
    {
        while (await kafka.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("BOOTSTRAP ", StringComparison.Ordinal))
            {
                _ = kafka.StandardOutput.ReadToEndAsync();
                return line["BOOTSTRAP ".Length..];
            }
        }

        throw new InvalidOperationException("The Kafka child process exited before printing its bootstrap servers.");
    }

    /// <summary>The baseline: PUT the same bytes, in as many objects as the sink wrote, as many at a time as the sink uploads, from memory.</summary>
    private static async Task<double> RawUploadMbPerSecAsync(IAmazonS3 s3, string bucket, long bytes, int objects, int concurrency)
    {
        var size = (int)Math.Min(bytes / Math.Max(objects, 1), 256L * 1024 * 1024);
        var body = new byte[size];
        Random.Shared.NextBytes(body);
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, objects), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, ct) =>
        {
            if (size > 64 * 1024 * 1024)
            {
                var init = await s3.InitiateMultipartUploadAsync(bucket, $"raw/{i}", ct);
                var parts = new List<PartETag>();
                const int part = 25 * 1024 * 1024;
                for (int position = 0, n = 1; position < size; position += part, n++)
                {
                    var r = await s3.UploadPartAsync(
                        new UploadPartRequest { BucketName = bucket, Key = $"raw/{i}", UploadId = init.UploadId, PartNumber = n, InputStream = new MemoryStream(body, position, Math.Min(part, size - position)) },
                        ct);
                    parts.Add(new PartETag(n, r.ETag));
                }

                await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket, Key = $"raw/{i}", UploadId = init.UploadId, PartETags = parts }, ct);
            }
            else
            {
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = $"raw/{i}", InputStream = new MemoryStream(body) }, ct);
            }
        });
        return (double)size * objects / stopwatch.Elapsed.TotalSeconds / (1024 * 1024);
    }

    /// <summary>Samples the sink's gauges and writes the consumed count for the producer's pacing.</summary>
    private sealed class Sampler : IDisposable
    {
        private readonly MeterListener listener = new();
        private readonly CancellationTokenSource stop = new();
        private readonly Task loop;
        private readonly Stopwatch started = Stopwatch.StartNew();
        private long consumed;
        private long peakRss;
        private long reportedRss;
        private volatile bool frozen;
        private long firstUpload;
        private long lastUpload;

        public Sampler(string progressFile)
        {
            listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == "KafkaS3Sink")
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            listener.SetMeasurementEventCallback<long>((i, v, _, _) =>
            {
                switch (i.Name)
                {
                    case "kafkas3sink.records.consumed": Interlocked.Add(ref consumed, v); break;
                    case "kafkas3sink.staged.bytes": PeakStagedBytes = Math.Max(PeakStagedBytes, v); break;
                    case "kafkas3sink.uploads":
                        var now = Stopwatch.GetTimestamp();
                        Interlocked.CompareExchange(ref firstUpload, now, 0);
                        Interlocked.Exchange(ref lastUpload, now);
                        break;
                }
            });
            listener.SetMeasurementEventCallback<int>((i, v, _, _) =>
            {
                switch (i.Name)
                {
                    case "kafkas3sink.segments.open": PeakOpenSegments = Math.Max(PeakOpenSegments, v); break;
                    case "kafkas3sink.segments.handles": PeakOpenHandles = Math.Max(PeakOpenHandles, v); break;
                }
            });
            listener.Start();
            var tmp = progressFile + ".tmp";
            loop = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    listener.RecordObservableInstruments();
                    if (!frozen)
                    {
                        var heap = GC.GetTotalMemory(forceFullCollection: false);
                        PeakGcHeapBytes = Math.Max(PeakGcHeapBytes, heap);
                        var rss = Verification.RssBytes();
                        if (rss > peakRss)
                        {
                            peakRss = rss;
                            GcHeapAtPeakRss = heap;
                            GcCommittedAtPeakRss = GC.GetGCMemoryInfo().TotalCommittedBytes;
                            PeakRssAtSeconds = started.Elapsed.TotalSeconds;
                            if (rss > reportedRss + (8L << 20))
                            {
                                // While it grows: what the resident set is made of (anonymous memory, files mapped).
                                reportedRss = rss;
                                Console.Error.WriteLine(FormattableString.Invariant(
                                    $"load: RSS {rss / 1048576.0:F1} MB at {PeakRssAtSeconds:F1} s: GC heap {heap / 1048576.0:F1} MB, GC committed {GcCommittedAtPeakRss / 1048576.0:F1} MB, {Verification.RssParts()}"));
                            }
                        }
                    }
                    File.WriteAllText(tmp, Interlocked.Read(ref consumed).ToString(CultureInfo.InvariantCulture));
                    File.Move(tmp, progressFile, overwrite: true);
                    await Task.Delay(50);
                }
            });
        }

        public long PeakStagedBytes { get; private set; }

        /// <summary>The most bytes the managed heap held, live and not yet collected (sampled while the sink ran).</summary>
        public long PeakGcHeapBytes { get; private set; }

        /// <summary>What the managed heap held when the sampled RSS was highest.</summary>
        public long GcHeapAtPeakRss { get; private set; }

        /// <summary>What the GC had committed (heap, free space it keeps, its bookkeeping) when the sampled RSS was highest.</summary>
        public long GcCommittedAtPeakRss { get; private set; }

        /// <summary>When (s after the sink started) the sampled RSS was highest.</summary>
        public double PeakRssAtSeconds { get; private set; }

        public int PeakOpenSegments { get; private set; }

        public int PeakOpenHandles { get; private set; }

        /// <summary>From the first object uploaded to the last (s): at many open files, the upload phase after the production.</summary>
        public double UploadSpanSeconds => Stopwatch.GetElapsedTime(Interlocked.Read(ref firstUpload), Interlocked.Read(ref lastUpload)).TotalSeconds;

        /// <summary>Stops sampling memory: what the process does after the sink ran (verifying) is not the sink's.</summary>
        public void Freeze() => frozen = true;

        public void Dispose()
        {
            stop.Cancel();
            loop.Wait();
            listener.Dispose();
            stop.Dispose();
        }
    }
}
