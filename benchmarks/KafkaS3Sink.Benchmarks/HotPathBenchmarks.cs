using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using BenchmarkDotNet.Attributes;
using KafkaS3Sink.Converters;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Benchmarks;

/// <summary>
/// The sink's per-record conversion and partitioning for a 200 B JSON record, as the sink wires them
/// (KafkaS3SinkBuilder): validate only for the default partitioner; find the fields in the validating pass
/// for field + hourly; one reused <see cref="SinkRecord"/> for both (built-in partitioners keep nothing of a
/// record); and, for comparison, the eager parse a custom partitioner gets. Records cycle through 4 field values
/// and 3 hours. The last two rows compare the validation alone: the reader (before) and the lean pass (now).
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const int Count = 96;
    private readonly KafkaRecord[] raw = new KafkaRecord[Count];
    private readonly JsonRecordConverter validating = new() { ReuseRecords = true };
    private readonly JsonRecordConverter eager = new() { ParseEagerly = true };
    private JsonRecordConverter capturing = null!;
    private IS3Partitioner fieldHourly = null!;
    private IS3Partitioner fieldHourlyEager = null!;
    private IS3Partitioner defaultPartitioner = null!;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Count; i++)
        {
            var time = new DateTimeOffset(2026, 12, 3, i % 3, 0, 0, TimeSpan.Zero).AddSeconds(i);
            var head = string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{i},\"shard\":\"s{i % 4}\",\"pad\":\"");
            var json = head + new string('x', 200 - head.Length - 2) + "\"}";
            raw[i] = new KafkaRecord("load", i % 8, i, time, null, Encoding.UTF8.GetBytes(json));
        }

        fieldHourly = new S3PartitionerBuilder().Field("shard").Hourly().Build(TimeProvider.System);
        fieldHourlyEager = new S3PartitionerBuilder().Field("shard").Hourly().Build(TimeProvider.System);
        capturing = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(fieldHourly)!), ReuseRecords = true };
        defaultPartitioner = new DefaultPartitioner();
    }

    private KafkaRecord Next() => raw[next = (next + 1) % Count];

    [Benchmark(Baseline = true)]
    public string ValidateThenDefaultPartitioner() => defaultPartitioner.GetPartitionPath(validating.Convert(Next()));

    [Benchmark]
    public string CaptureThenFieldPlusHourly() => fieldHourly.GetPartitionPath(capturing.Convert(Next()));

    [Benchmark]
    public string ParseThenFieldPlusHourly() => fieldHourlyEager.GetPartitionPath(eager.Convert(Next()));

    /// <summary>Validation alone, as the converter did it before the lean pass: UTF-8, the reader over every token, a line-break search.</summary>
    [Benchmark]
    public bool ValidateWithTheReader()
    {
        var value = Next().Value!.Value.Span;
        if (!Utf8.IsValid(value))
        {
            return false;
        }

        var reader = new Utf8JsonReader(value, new JsonReaderOptions { MaxDepth = 256 });
        reader.Read();
        reader.Skip();
        return !reader.Read() && value.IndexOfAny((byte)'\n', (byte)'\r') < 0;
    }

    /// <summary>Validation alone, as the converter does it now for the records it only validates (<see cref="JsonSyntax"/>).</summary>
    [Benchmark]
    public bool ValidateWithTheLeanPass()
    {
        var value = Next().Value!.Value.Span;
        return Utf8.IsValid(value) && JsonSyntax.IsDocument(value, out var lineBreak) && !lineBreak;
    }
}
