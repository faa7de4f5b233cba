using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Buffering;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// The staged record checksum (CRC-32C over the offset and payload, on write and on read-back): the sink's three-lane
/// loop against one serial chain of the same CRC instruction (the sink's loop until 2026-12-06).
/// </summary>
[MemoryDiagnoser]
public class ChecksumBenchmarks
{
    private byte[] data = [];

    /// <summary>Payload size: a 200 B record, a 2 KB record, a 1 MiB body.</summary>
    [Params(200, 2000, 1 << 20)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        data = new byte[Bytes];
        new Random(42).NextBytes(data);
    }

    [Benchmark(Baseline = true)]
    public uint SerialChain() => Crc32C.AppendSerially(0, data);

    [Benchmark]
    public uint ThreeLanes() => Crc32C.Append(0, data);
}
