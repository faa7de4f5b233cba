using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Buffering;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// Appending 1 KiB records to an open file segment (framing + CRC32C + buffered write) against
/// writing the same bytes to a plain buffered FileStream.
/// </summary>
[MemoryDiagnoser]
public class SegmentAppendBenchmarks
{
    private const int RecordsPerInvoke = 1000;
    private readonly byte[] payload = new byte[1024];
    private string root = string.Empty;
    private FileSegmentBuffer? buffer;
    private IOpenSegment? segment;
    private FileStream? raw;
    private long offset;

    [GlobalSetup]
    public void Setup()
    {
        new Random(42).NextBytes(payload);
        root = Path.Combine(Path.GetTempPath(), "ks3-bench-" + Guid.NewGuid().ToString("N"));
        buffer = new FileSegmentBuffer(Path.Combine(root, "segments"), fsyncOnSeal: false);
        segment = buffer.Open(new SegmentDescriptor("bench", 0, "region=eu/year=2026/month=11/day=27/hour=09", 0));
        raw = new FileStream(Path.Combine(root, "raw.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 16 * 1024);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        segment?.Discard();
        raw?.Dispose();
        buffer?.Dispose();
        Directory.Delete(root, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = RecordsPerInvoke)]
    public void RawFileStreamWrite()
    {
        for (var i = 0; i < RecordsPerInvoke; i++)
        {
            raw!.Write(payload);
        }
    }

    [Benchmark(OperationsPerInvoke = RecordsPerInvoke)]
    public void FileSegmentAppend()
    {
        for (var i = 0; i < RecordsPerInvoke; i++)
        {
            segment!.Append(offset++, payload);
        }
    }
}
