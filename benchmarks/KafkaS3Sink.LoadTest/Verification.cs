using System.Collections;
using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using Confluent.Kafka;
using Parquet;

namespace KafkaS3Sink.LoadTest;

/// <summary>Shared by the harness's roles: waiting for the group's commits, reading every record back, peak RSS.</summary>
internal static class Verification
{
    /// <summary>
    /// Returns once the group has committed <paramref name="perPartition"/> on every partition of <paramref name="topic"/>,
    /// asking the coordinator every <paramref name="pollMs"/> (a timed run ends up to that much after its last commit).
    /// </summary>
    public static async Task WaitForCommitsAsync(string bootstrap, string group, int partitions, long perPartition, Task run, string topic = "load", int pollMs = 100)
    {
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group }).Build();
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        while (true)
        {
            if (run.IsCompleted)
            {
                await run;
                throw new InvalidOperationException("The sink stopped before committing everything.");
            }

            var committed = probe.Committed(tps, TimeSpan.FromSeconds(10));
            if (committed.All(c => !c.Offset.IsSpecial && c.Offset.Value >= perPartition))
            {
                return;
            }

            await Task.Delay(pollMs);
        }
    }

    /// <summary>Lists and reads every object under topics/ and counts each record id: (objects, lost, duplicated).</summary>
    public static async Task<(int Objects, long Lost, long Duplicated)> VerifyAsync(IAmazonS3 s3, string bucket, long records)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = "topics/", ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(x => x.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);

        var seen = new BitArray(checked((int)records));
        long duplicated = 0;
        long outOfRange = 0;
        var gate = new object();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (key, ct) =>
        {
            using var response = await s3.GetObjectAsync(bucket, key, ct);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory, ct);
            var ids = key.EndsWith(".parquet", StringComparison.Ordinal) ? await ParquetIdsAsync(memory, ct) : LineIds(memory);

            lock (gate)
            {
                foreach (var id in ids)
                {
                    if (id < 0 || id >= records)
                    {
                        outOfRange++;
                    }
                    else if (seen[(int)id])
                    {
                        duplicated++;
                    }
                    else
                    {
                        seen[(int)id] = true;
                    }
                }
            }
        });

        long present = 0;
        for (var i = 0; i < seen.Length; i++)
        {
            if (seen[i])
            {
                present++;
            }
        }

        return (keys.Count, records - present, duplicated + outOfRange);
    }

    /// <summary>The "id" of each JSON line.</summary>
    private static List<long> LineIds(MemoryStream memory)
    {
        var ids = new List<long>();
        var span = memory.GetBuffer().AsSpan(0, (int)memory.Length);
        while (span.Length > 0)
        {
            var nl = span.IndexOf((byte)'\n');
            var line = nl < 0 ? span : span[..nl];
            ids.Add(Records.ParseId(line));
            span = nl < 0 ? default : span[(nl + 1)..];
        }

        return ids;
    }

    /// <summary>The "id" column of a Parquet object (the sink infers it from the JSON as an optional int64).</summary>
    private static async Task<List<long>> ParquetIdsAsync(MemoryStream memory, CancellationToken ct)
    {
        memory.Position = 0;
        var ids = new List<long>();
        await using var reader = await ParquetReader.CreateAsync(memory, cancellationToken: ct);
        var field = reader.Schema.GetDataFields().Single(f => f.Name == "id");
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var values = new long?[group.RowCount];
            await group.ReadAsync<long>(field, values.AsMemory(), cancellationToken: ct);
            ids.AddRange(values.Select(v => v ?? -1)); // a missing id counts as out of range (reported with the duplicates)
        }

        return ids;
    }

    /// <summary>The process's resident set now (bytes).</summary>
    public static long RssBytes()
    {
        var statm = File.ReadAllText("/proc/self/statm").Split(' ');
        return long.Parse(statm[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    /// <summary>The resident set's parts now, as /proc/self/status gives them (anonymous, file-backed, shared memory).</summary>
    public static string RssParts()
        => string.Join(", ", File.ReadLines("/proc/self/status").Where(l => l.StartsWith("RssAnon:", StringComparison.Ordinal) || l.StartsWith("RssFile:", StringComparison.Ordinal) || l.StartsWith("RssShmem:", StringComparison.Ordinal))
            .Select(l => string.Join(' ', l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))));

    /// <summary>VmHWM of this process, in MiB.</summary>
    public static double PeakRssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }
}
