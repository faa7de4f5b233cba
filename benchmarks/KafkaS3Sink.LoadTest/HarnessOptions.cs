using System.Globalization;

namespace KafkaS3Sink.LoadTest;

internal sealed class HarnessOptions
{
    public string Role { get; private set; } = "sink";

    public int OpenFiles { get; private set; } = 1000;

    public string Buffer { get; private set; } = "file";

    public long TotalBytes { get; private set; } = 1L << 30;

    public int RecordSize { get; private set; } = 1024;

    public int Partitions { get; private set; }

    public string? S3Endpoint { get; private set; }

    public string? ProgressFile { get; private set; }

    public long Records { get; private set; }

    public bool RawBaseline { get; private set; } = true;

    public int? MaxHandles { get; private set; }

    /// <summary>The sink's S3.MaxConcurrentUploads (its default when not given).</summary>
    public int? MaxUploads { get; private set; }

    public ConditionalWrites ConditionalWrites { get; private set; } = ConditionalWrites.Auto;

    /// <summary>--compare: run every mode on the same pre-produced data (see CompareRole).</summary>
    public bool Compare { get; private set; }

    /// <summary>The modes --compare runs, in this order in every round.</summary>
    public string[] Modes { get; private set; } = ["a", "b", "p", "c", "d", "e"];

    /// <summary>The mode a --role mode child runs.</summary>
    public string? Mode { get; private set; }

    /// <summary>Rounds of all modes (interleaved); medians are reported.</summary>
    public int Repeat { get; private set; } = 1;

    /// <summary>"default" (Kafka partition) or "field-hourly" (field shard + hourly on the record time).</summary>
    public string Partitioner { get; private set; } = "default";

    /// <summary>
    /// --compare: the sink's output format in (c) and (d), "jsonl" (JSON lines) or "parquet" (schema inferred from
    /// the JSON). The other modes write the values as they are whatever this says: the pipe's point is no formatting.
    /// </summary>
    public string Format { get; private set; } = "jsonl";

    /// <summary>Target object size for --compare: flush.size = this / record size.</summary>
    public long ObjectBytes { get; private set; } = 1_000_000;

    /// <summary>Produce everything before measuring (--compare), instead of pacing the producer.</summary>
    public bool Preproduce { get; private set; }

    /// <summary>
    /// --compare: the steady state. Each mode's process runs without tiered compilation (every method compiled once,
    /// fully optimized), first over a separate "warmup" topic holding as many records as the measured one, then waits
    /// until the JIT has gone quiet; then it is measured.
    /// </summary>
    public bool Warmup { get; private set; }

    public string? Bootstrap { get; private set; }

    /// <summary>Consumer properties for the sink, after the harness's own (<c>--kafka-property key=value</c>, repeatable).</summary>
    public Dictionary<string, string> KafkaProperties { get; } = [];

    public string? Bucket { get; private set; }

    public string? Work { get; private set; }

    public int Round { get; private set; }

    public static HarnessOptions Parse(string[] args)
    {
        var o = new HarnessOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--role": o.Role = Next(); break;
                case "--open-files": o.OpenFiles = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--buffer": o.Buffer = Next(); break;
                case "--total-bytes": o.TotalBytes = ParseBytes(Next()); break;
                case "--record-size" or "--record-bytes": o.RecordSize = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--partitions": o.Partitions = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--s3-endpoint": o.S3Endpoint = Next(); break;
                case "--progress-file": o.ProgressFile = Next(); break;
                case "--records": o.Records = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-raw-baseline": o.RawBaseline = false; break;
                case "--max-handles": o.MaxHandles = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--max-uploads": o.MaxUploads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--conditional-writes": o.ConditionalWrites = Enum.Parse<ConditionalWrites>(Next(), ignoreCase: true); break;
                case "--compare": o.Compare = true; break;
                case "--modes": o.Modes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries); break;
                case "--mode": o.Mode = Next(); break;
                case "--repeat": o.Repeat = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--partitioner": o.Partitioner = Next(); break;
                case "--format": o.Format = Next(); break;
                case "--object-bytes": o.ObjectBytes = ParseBytes(Next()); break;
                case "--preproduce": o.Preproduce = true; break;
                case "--warmup": o.Warmup = true; break;
                case "--bootstrap": o.Bootstrap = Next(); break;
                case "--bucket": o.Bucket = Next(); break;
                case "--work": o.Work = Next(); break;
                case "--round": o.Round = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--kafka-property":
                    var pair = Next().Split('=', 2);
                    o.KafkaProperties[pair[0]] = pair.Length == 2 ? pair[1] : throw new ArgumentException("--kafka-property needs key=value.");
                    break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'. See benchmarks/README.md.");
            }
        }

        if (o.Compare && !args.Contains("--total-bytes"))
        {
            // librdkafka's mock cluster keeps ~5 MiB per partition: pre-produce at most 3 MB of values each.
            o.TotalBytes = 0;
        }

        if (o.Compare && o.Partitions == 0)
        {
            o.Partitions = 64;
        }

        if ((o.Compare || o.Role == "mode") && o.OpenFiles == 1000 && !args.Contains("--open-files"))
        {
            // One file per partition (field + hourly: one shard value per partition), so every mode writes as many
            // objects as the bare pipe and the rows compare per-record cost; --open-files sets more.
            o.OpenFiles = o.Partitions;
        }

        if (o.Partitioner is not ("default" or "field-hourly"))
        {
            throw new ArgumentException("--partitioner must be default or field-hourly.");
        }

        if (o.Format is not ("jsonl" or "parquet"))
        {
            throw new ArgumentException("--format must be jsonl or parquet.");
        }

        if (o.Modes.Except(["a", "b", "p", "c", "d", "e"]).FirstOrDefault() is { } unknown)
        {
            throw new ArgumentException($"--modes: unknown mode '{unknown}' (a, b, p, c, d, e).");
        }

        if (o.Partitions == 0)
        {
            // The largest divisor of N up to 8, so that every partition has N / P open files.
            o.Partitions = Enumerable.Range(1, 8).Last(p => o.OpenFiles % p == 0);
        }

        if (o.Buffer is not ("file" or "memory"))
        {
            throw new ArgumentException("--buffer must be file or memory.");
        }

        if (o.OpenFiles < o.Partitions || o.OpenFiles % o.Partitions != 0)
        {
            throw new ArgumentException($"--open-files must be a multiple of --partitions ({o.Partitions}).");
        }

        if (o.RecordSize < 64)
        {
            throw new ArgumentException("--record-size must be at least 64.");
        }

        return o;
    }

    private static long ParseBytes(string text)
    {
        var multiplier = 1L;
        var t = text.Trim().ToUpperInvariant();
        foreach (var (suffix, m) in new[] { ("GB", 1L << 30), ("G", 1L << 30), ("MB", 1L << 20), ("M", 1L << 20), ("KB", 1L << 10), ("K", 1L << 10) })
        {
            if (t.EndsWith(suffix, StringComparison.Ordinal))
            {
                multiplier = m;
                t = t[..^suffix.Length];
                break;
            }
        }

        return (long)(double.Parse(t, CultureInfo.InvariantCulture) * multiplier);
    }
}
