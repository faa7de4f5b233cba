using System.Globalization;
using Confluent.Kafka;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// What an open file segment keeps alive: opens <c>n</c> segments on 8 topic-partitions as the sink does (the
/// buffer's segment, the partition's map from path to segment, the path string) and prints the live bytes per
/// segment, without and with the write buffers (whose budget is shared, not per segment), then how long sealing them
/// all takes (a rotation's part on the consumer thread). Not a BenchmarkDotNet
/// benchmark: it measures retained memory, which BenchmarkDotNet does not report.
/// <c>dotnet run -c Release --project benchmarks/KafkaS3Sink.Benchmarks -- --open-segment-bytes 100000</c>.
/// </summary>
internal static class OpenSegmentMemory
{
    private const int Partitions = 8;

    public static void Run(int segments)
    {
        var root = Path.Combine(Path.GetTempPath(), "ks3-open-segments-" + Guid.NewGuid().ToString("N"));
        var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        try
        {
            var states = Enumerable.Range(0, Partitions).Select(p => new PartitionState(new TopicPartition("load", p), Task.FromResult(0L), 0)).ToArray();
            var payload = new byte[1000];

            // The write buffers first, so that what follows counts the segments only.
            var warm = new List<IOpenSegment>();
            for (var i = 0; i < 1024; i++)
            {
                var segment = buffer.Open(new SegmentDescriptor("warm", 0, "w", i));
                segment.Append(i, payload);
                warm.Add(segment);
            }

            var buffers = buffer.WriteBufferBytes;
            warm.ForEach(s => s.Discard());
            var before = GC.GetTotalMemory(forceFullCollection: true);
            for (var i = 0; i < segments; i++)
            {
                var state = states[i % Partitions];
                var path = "shard=" + (i / Partitions).ToString(CultureInfo.InvariantCulture);
                var segment = buffer.Open(new SegmentDescriptor("load", i % Partitions, path, i));
                state.Open[path] = segment;
                segment.Append(i, payload);
            }

            var after = GC.GetTotalMemory(forceFullCollection: true);
            var perSegment = (after - before) / (double)segments;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{segments:N0} open segments on {Partitions} partitions: {perSegment:F1} B live per segment (path string included), write buffers {buffers / 1e6:F1} MB in all"));
            GC.KeepAlive(states);

            // Then the rotation's part on the consumer thread: sealing every one of them (most hold no handle).
            var sealing = System.Diagnostics.Stopwatch.StartNew();
            var sealedSegments = states.SelectMany(s => s.Open.Values).Select(s => s.Seal()).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sealed them in {sealing.Elapsed.TotalSeconds:F2} s"));
            sealedSegments.ForEach(s => s.Delete());
        }
        finally
        {
            buffer.Dispose();
            Directory.Delete(root, recursive: true);
        }
    }
}
