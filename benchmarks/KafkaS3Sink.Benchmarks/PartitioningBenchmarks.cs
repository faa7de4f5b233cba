using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Converters;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// Composite field + hourly time partitioning of a ~1 KB JSON record whose fields are nested
/// (<c>order.customer.region</c>, <c>order.createdAt</c>). Records cycle through 4 regions and 24 hours,
/// so the composite's same-path shortcut rarely applies.
/// </summary>
[MemoryDiagnoser]
public class PartitioningBenchmarks
{
    private const int Count = 96;
    private readonly SinkRecord[] records = new SinkRecord[Count];
    private readonly KafkaRecord[] raw = new KafkaRecord[Count];
    private readonly JsonRecordConverter converter = new();
    private readonly JsonRecordConverter eagerConverter = new() { ParseEagerly = true };
    private IS3Partitioner composite = null!;
    private IS3Partitioner capturedComposite = null!;
    private JsonRecordConverter capturingConverter = null!;
    private IS3Partitioner kafkaPartition = null!;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        var regions = new[] { "eu", "us", "apac", "sa" };
        for (var i = 0; i < Count; i++)
        {
            var time = new DateTimeOffset(2026, 11, 27, 0, 0, 0, TimeSpan.Zero).AddHours(i % 24).AddMinutes(i);
            var json = string.Create(CultureInfo.InvariantCulture,
                $"{{\"id\":{i},\"order\":{{\"id\":\"o-{i}\",\"createdAt\":\"{time:O}\",\"customer\":{{\"id\":\"c-{i}\",\"name\":\"Customer {i}\",\"region\":\"{regions[i / 24]}\"}},\"lines\":[");
            var sb = new StringBuilder(json);
            for (var l = 0; sb.Length < 960; l++)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{(l > 0 ? "," : string.Empty)}{{\"sku\":\"sku-{l:D4}\",\"qty\":{l + 1},\"price\":{l}.99}}");
            }

            sb.Append("]}}");
            raw[i] = new KafkaRecord("orders", 0, i, time, null, Encoding.UTF8.GetBytes(sb.ToString()));
            records[i] = converter.Convert(raw[i]);
        }

        var builder = new S3PartitionerBuilder()
            .Field("order.customer.region")
            .Hourly(t =>
            {
                t.TimestampSource = TimestampSource.RecordField;
                t.TimestampField = "order.createdAt";
            });
        composite = builder.Build(TimeProvider.System);
        capturedComposite = builder.Build(TimeProvider.System);
        capturingConverter = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(capturedComposite)!) };
        kafkaPartition = new S3PartitionerBuilder().KafkaPartition().Build(TimeProvider.System);
    }

    private int Next() => next = (next + 1) % Count;

    [Benchmark(Baseline = true)]
    public string KafkaPartition() => kafkaPartition.GetPartitionPath(records[Next()]);

    [Benchmark]
    public string FieldPlusHourly() => composite.GetPartitionPath(records[Next()]);

    [Benchmark]
    public string ConvertJsonThenKafkaPartition() => kafkaPartition.GetPartitionPath(converter.Convert(raw[Next()]));

    [Benchmark]
    public string ConvertJsonThenFieldPlusHourly() => composite.GetPartitionPath(eagerConverter.Convert(raw[Next()]));

    [Benchmark]
    public string ConvertJsonCapturingFieldsThenFieldPlusHourly() => capturedComposite.GetPartitionPath(capturingConverter.Convert(raw[Next()]));
}
