using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.S3.Model;
using KafkaS3Sink.Eng;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// --compare: pre-produces the records once, then runs each mode (a, b, p, c, d, e) on the same data and
/// servers, each in its own process, interleaved over --repeat rounds; prints a table and, as the last
/// line, one JSON object with the medians and the ratios (sinkToPipe, sinkToCeiling, sinkToNaive).
/// </summary>
internal static class CompareRole
{
    private static readonly Dictionary<string, string> Names = new()
    {
        ["a"] = "consume only (Kafka ceiling)",
        ["b"] = "raw PUT, 16 at a time (S3 ceiling)",
        ["p"] = "bare pipe: consume → memory → PUT",
        ["c"] = "the sink, file buffer",
        ["d"] = "the sink, memory buffer",
        ["e"] = "hand-written consume → PUT → commit",
    };

    public static async Task<int> RunAsync(HarnessOptions o)
    {
        var layout = CompareLayout.Of(o);
        var work = Path.Combine(Path.GetTempPath(), "kafkas3sink-compare-" + Environment.ProcessId);
        Directory.CreateDirectory(work);
        using var s3Server = LocalS3Server.Start(Path.Combine(work, "rgw"), rgwPort: 7520, monPort: 6850, memstoreBytes: 12L << 30, endpoint: o.S3Endpoint);
        using var s3 = s3Server.CreateClient();
        var common = new[]
        {
            "--partitions", Text(o.Partitions), "--open-files", Text(o.OpenFiles), "--record-size", Text(o.RecordSize),
            "--total-bytes", Text(layout.Records * o.RecordSize), "--object-bytes", Text(o.ObjectBytes),
        };

        string[] warmup = o.Warmup ? ["--warmup"] : [];
        using var kafka = Child([.. common, .. warmup, "--role", "kafka", "--preproduce", "--records", Text(layout.Records)], redirectInput: true);
        var bootstrap = await ExpectAsync(kafka, "BOOTSTRAP ");
        Console.Error.WriteLine($"compare: producing {layout.Records:N0} records of {o.RecordSize} B on {o.Partitions} partitions ({layout.PerPartition:N0} each, flush.size {layout.FlushSize:N0}, {o.Partitioner} partitioner)");
        await ExpectAsync(kafka, "PRODUCED ");
        if (await ExpectAsync(kafka, "LOW ") != "0")
        {
            throw new InvalidOperationException("The mock cluster dropped records (a partition's log start is past 0): give a smaller --total-bytes or more --partitions.");
        }

        var results = o.Modes.ToDictionary(m => m, _ => new List<ModeResult>());
        for (var round = 1; round <= o.Repeat; round++)
        {
            foreach (var mode in o.Modes)
            {
                var bucket = $"cmp-{mode}-{round}-{Guid.NewGuid():N}"[..30];
                await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
                string[] args =
                [
                    .. common, "--role", "mode", "--mode", mode, "--round", Text(round), "--bootstrap", bootstrap, "--bucket", bucket,
                    "--s3-endpoint", s3Server.Endpoint.ToString(), "--work", work, "--partitioner", o.Partitioner, "--format", o.Format,
                    "--conditional-writes", o.ConditionalWrites.ToString(),
                    .. o.MaxUploads is { } uploads ? new[] { "--max-uploads", Text(uploads) } : [],
                    .. warmup,
                ];
                using var child = Child(args, redirectInput: false, s3Server, steady: o.Warmup);
                var output = await child.StandardOutput.ReadToEndAsync();
                await child.WaitForExitAsync();
                var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
                var result = line is null ? null : JsonSerializer.Deserialize<ModeResult>(line);
                if (result is null)
                {
                    throw new InvalidOperationException($"Mode {mode} printed no result (exit {child.ExitCode}).\n{output}");
                }

                Console.Error.WriteLine($"compare: round {round} {mode}: {result.RecordsPerSec:N0} records/s, {result.MbPerSec} MB/s, {result.Seconds} s");
                results[mode].Add(result);

                // An object store that keeps growing gets slower: every mode starts from an empty one.
                await EmptyAndDeleteAsync(s3, bucket);
            }
        }

        kafka.StandardInput.Close();
        await kafka.WaitForExitAsync();
        var medians = results.ToDictionary(r => r.Key, r => Median(r.Value));
        Console.Error.WriteLine(Table(o, layout, medians));
        Console.WriteLine(JsonSerializer.Serialize(Summary(o, layout, medians)));
        Directory.Delete(work, recursive: true);
        var sinks = medians.Where(m => m.Key is "c" or "d").Select(m => m.Value).ToList();
        return sinks.All(s => s.Lost == 0 && s.Duplicated == 0) ? 0 : 1;
    }

    internal static async Task EmptyAndDeleteAsync(Amazon.S3.IAmazonS3 s3, string bucket)
    {
        while (true)
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, MaxKeys = 1000 });
            if (page.S3Objects is not { Count: > 0 } objects)
            {
                break;
            }

            await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Objects = [.. objects.Select(o => new KeyVersion { Key = o.Key })] });
        }

        await s3.DeleteBucketAsync(bucket);
    }

    private static Dictionary<string, object?> Summary(HarnessOptions o, CompareLayout layout, Dictionary<string, ModeResult> m)
    {
        double? Mb(string mode) => m.TryGetValue(mode, out var r) ? r.MbPerSec : null;
        double? Ratio(double? x, double? y) => x is { } a && y is { } b && b > 0 ? Math.Round(a / b, 2) : null;
        var ceiling = Mb("a") is { } a && Mb("b") is { } b ? Math.Min(a, b) : (double?)null;
        var sink = m.GetValueOrDefault("c");
        return new Dictionary<string, object?>
        {
            ["recordBytes"] = o.RecordSize,
            ["partitions"] = o.Partitions,
            ["openFiles"] = o.OpenFiles,
            ["partitioner"] = o.Partitioner,
            ["format"] = o.Format,
            ["conditionalWrites"] = o.ConditionalWrites.ToString(),
            ["records"] = layout.Records,
            ["flushSize"] = layout.FlushSize,
            ["rounds"] = o.Repeat,
            ["warmup"] = o.Warmup,
            ["modes"] = m,
            ["sinkToPipe"] = Ratio(Mb("c"), Mb("p")),
            ["sinkToCeiling"] = Ratio(Mb("c"), ceiling),
            ["sinkToNaive"] = Ratio(Mb("c"), Mb("e")),
            ["memorySinkToPipe"] = Ratio(Mb("d"), Mb("p")),
            ["lost"] = sink?.Lost,
            ["duplicated"] = sink?.Duplicated,
        };
    }

    private static string Table(HarnessOptions o, CompareLayout layout, Dictionary<string, ModeResult> m)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{o.RecordSize} B records, {o.Partitioner} partitioner, the sink writing {o.Format}, {layout.Records:N0} records, median of {o.Repeat}{(o.Warmup ? ", each mode warmed up first" : "")} (MB = 10^6 B of values)");
        text.AppendLine("| mode | records/s | MB/s | CPU s/GB | allocated B/record | peak RSS MB | GCs 0/1/2 | GC pause ms | objects | vs (p) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var pipe = m.GetValueOrDefault("p")?.MbPerSec;
        foreach (var (mode, r) in m)
        {
            var ratio = pipe is > 0 ? (r.MbPerSec / pipe.Value).ToString("F2", CultureInfo.InvariantCulture) : "";
            text.AppendLine(CultureInfo.InvariantCulture, $"| ({mode}) {Names[mode]} | {r.RecordsPerSec:N0} | {r.MbPerSec:F1} | {r.CpuSecondsPerGb:F1} | {r.AllocatedBytesPerRecord:N0} | {r.PeakRssMb:F0} | {r.Collections} | {r.GcPauseMs:F0} | {r.Objects:N0} | {ratio} |");
        }

        return text.ToString();
    }

    /// <summary>The run with the median time; lost and duplicated are the worst of all runs.</summary>
    private static ModeResult Median(List<ModeResult> runs)
    {
        var median = runs.OrderBy(r => r.Seconds).ElementAt(runs.Count / 2);
        return median with { Lost = runs.Max(r => r.Lost), Duplicated = runs.Max(r => r.Duplicated) };
    }

    private static Process Child(string[] args, bool redirectInput, LocalS3Server? s3 = null, bool steady = false)
    {
        var psi = new ProcessStartInfo("dotnet", [typeof(CompareRole).Assembly.Location, .. args])
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        if (steady)
        {
            // --warmup measures the steady state: every method is compiled once, fully optimized, during the
            // warm-up. With tiered compilation, a few seconds of load are not enough to reach it: a method is
            // compiled three times (tier 0, instrumented, optimized) after dozens of calls each, and in a 4 s run the
            // background JIT still took 20 % of the sink's CPU after a warm-up of the same size (docs/benchmarks.md).
            psi.Environment["DOTNET_TieredCompilation"] = "0";
        }
        if (s3 is not null)
        {
            psi.Environment["S3_ACCESS_KEY"] = s3.AccessKey;
            psi.Environment["S3_SECRET_KEY"] = s3.SecretKey;
        }

        return Process.Start(psi)!;
    }

    private static async Task<string> ExpectAsync(Process child, string prefix)
    {
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..];
            }
        }

        throw new InvalidOperationException($"The Kafka child process exited before printing '{prefix.Trim()}'.");
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
