using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// Writing one sealed segment of 10,000 JSON records (~200 bytes each, from an in-memory segment) as an
/// object body, per format. Results are per segment; divide by 10,000 for per-record figures.
/// </summary>
[MemoryDiagnoser]
public class FormatBenchmarks
{
    private const int Records = 10_000;
    private MemorySegmentBuffer buffer = null!;
    private ISealedSegment segment = null!;
    private readonly IObjectFormat json = new JsonLinesFormat();
    private readonly IObjectFormat gzip = new JsonLinesFormat(OutputCompression.Gzip);
    private readonly IObjectFormat zstd = new JsonLinesFormat(OutputCompression.Zstd);
    private readonly IObjectFormat parquet = new ParquetFormat(OutputCompression.Snappy);
    private readonly IObjectFormat avro = new AvroFormat(OutputCompression.Gzip);

    [GlobalSetup]
    public void Setup()
    {
        buffer = new MemorySegmentBuffer();
        var open = buffer.Open(new SegmentDescriptor("orders", 0, "p", 0));
        for (var i = 0; i < Records; i++)
        {
            open.Append(i, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{{\"id\":{i},\"customer\":\"c-{i % 97}\",\"region\":\"{(i % 3 == 0 ? "eu" : "us")}\",\"amount\":{i % 500}.25,\"paid\":{(i % 2 == 0 ? "true" : "false")},\"note\":\"order number {i} of the benchmark\"}}")));
        }

        segment = open.Seal();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        segment.Delete();
        buffer.Dispose();
    }

    [Benchmark(Baseline = true)]
    public long JsonLines() => Write(json);

    [Benchmark]
    public long JsonLinesGzip() => Write(gzip);

    [Benchmark]
    public long JsonLinesZstd() => Write(zstd);

    [Benchmark]
    public long ParquetSnappy() => Write(parquet);

    [Benchmark]
    public long AvroDeflate() => Write(avro);

    private long Write(IObjectFormat format)
    {
        using var output = new CountingStream();
        format.Write(segment, output);
        return output.Length;
    }

    /// <summary>Counts bytes and drops them, so the benchmark measures formatting only.</summary>
    private sealed class CountingStream : Stream
    {
        private long length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => length;

        public override long Position
        {
            get => length;
            set => throw new NotSupportedException();
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => length += count;

        public override void Write(ReadOnlySpan<byte> buffer) => length += buffer.Length;

        public override void WriteByte(byte value) => length++;
    }
}
