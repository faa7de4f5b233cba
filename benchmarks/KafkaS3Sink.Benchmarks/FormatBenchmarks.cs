using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// Writing one sealed segment of 10,000 JSON records (~200 bytes each, from an in-memory segment) as an
/// object body, per format; the writer-schema cases start from the same records staged as Avro binary.
/// Results are per segment; divide by 10,000 for per-record figures.
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
    private readonly IObjectFormat avroSnappy = new AvroFormat(OutputCompression.Snappy);
    private readonly IObjectFormat avroZstd = new AvroFormat(OutputCompression.Zstd);
    private readonly MemoryStream output = new(16 * 1024 * 1024);
    private ISealedSegment avroSegment = null!;

    private const string AvroSchemaJson = """
        {"type":"record","name":"Order","fields":[{"name":"id","type":"long"},{"name":"customer","type":"string"},
        {"name":"region","type":{"type":"enum","name":"Region","symbols":["eu","us"]}},{"name":"amount","type":"double"},
        {"name":"paid","type":"boolean"},{"name":"note","type":["null","string"]}]}
        """;

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

        var schema = (Avro.RecordSchema)Avro.Schema.Parse(AvroSchemaJson);
        var writer = new Avro.Generic.GenericDatumWriter<Avro.Generic.GenericRecord>(schema);
        var avroOpen = buffer.Open(new SegmentDescriptor("orders", 0, "a", 0));
        for (var i = 0; i < Records; i++)
        {
            var record = new Avro.Generic.GenericRecord(schema);
            record.Add("id", (long)i);
            record.Add("customer", "c-" + (i % 97).ToString(CultureInfo.InvariantCulture));
            record.Add("region", new Avro.Generic.GenericEnum((Avro.EnumSchema)schema["region"].Schema, i % 3 == 0 ? "eu" : "us"));
            record.Add("amount", (i % 500) + 0.25);
            record.Add("paid", i % 2 == 0);
            record.Add("note", "order number " + i.ToString(CultureInfo.InvariantCulture) + " of the benchmark");
            using var datum = new MemoryStream();
            writer.Write(record, new Avro.IO.BinaryEncoder(datum));
            avroOpen.Append(i, datum.ToArray());
        }

        avroSegment = avroOpen.Seal();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        segment.Delete();
        avroSegment.Delete();
        buffer.Dispose();
        output.Dispose();
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

    [Benchmark]
    public long AvroSnappy() => Write(avroSnappy);

    [Benchmark]
    public long AvroZstd() => Write(avroZstd);

    /// <summary>Avro values with their writer schema: the datums are copied into the file's blocks.</summary>
    [Benchmark]
    public long AvroWriterSchemaDeflate() => Write(avro, avroSegment, AvroSchemaJson);

    /// <summary>Avro values decoded with their writer schema into typed Parquet columns.</summary>
    [Benchmark]
    public long ParquetWriterSchemaSnappy() => Write(parquet, avroSegment, AvroSchemaJson);

    /// <summary>Writes into a reused in-memory stream (Parquet appends row groups, so it needs a seekable one).</summary>
    private long Write(IObjectFormat format, ISealedSegment? source = null, string? schema = null)
    {
        output.SetLength(0);
        format.Write(source ?? segment, schema, output);
        return output.Length;
    }
}
