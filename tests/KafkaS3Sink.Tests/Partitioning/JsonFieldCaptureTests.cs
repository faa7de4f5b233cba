using System.Globalization;
using System.Text;
using FluentAssertions;
using KafkaS3Sink.Converters;
using KafkaS3Sink.Partitioning;
using Xunit;

namespace KafkaS3Sink.Tests.Partitioning;

/// <summary>
/// The built-in partitioners read fields from the JSON converter's validating pass (<see cref="JsonFieldCapture"/>)
/// instead of a parsed document: the paths (and errors) must be exactly those of the parsed document.
/// </summary>
public class JsonFieldCaptureTests
{
    private static readonly string[] Names = ["a", "b", "c", "t", "x", "é", "a.b"];

    public static TheoryData<string> Partitioners() => ["a", "a.b", "a.b.c", "é", "t-hourly", "a+t-hourly", "b+a.b"];

    [Theory]
    [MemberData(nameof(Partitioners))]
    public void CapturedFields_GiveTheSamePathOrError_AsTheParsedDocument(string spec)
    {
        var random = new Random(20261203);
        var captured = Build(spec);
        var parsed = Build(spec);
        var capturing = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(captured)!) };
        var eager = new JsonRecordConverter { ParseEagerly = true };
        var compared = 0;
        var errors = 0;
        for (var i = 0; i < 5_000; i++)
        {
            var json = Document(random, depth: 0);
            var kafka = TestRecords.Kafka(json, offset: i, timestamp: DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_000 + (i * 600_000L)));
            var expected = Outcome(parsed, eager.Convert(kafka));
            var actual = Outcome(captured, capturing.Convert(kafka));
            actual.Should().Be(expected, $"record {json}");
            compared++;
            errors += expected.StartsWith("error", StringComparison.Ordinal) ? 1 : 0;
        }

        compared.Should().Be(5_000);
        errors.Should().BeInRange(1, 4_999, "the documents must exercise both paths and errors");
    }

    [Fact]
    public void CapturedFields_OnDuplicateNames_TheLastWins_AlsoForAnObjectOnThePath()
    {
        var partitioner = Build("a.b");
        var converter = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(partitioner)!) };
        partitioner.GetPartitionPath(converter.Convert(TestRecords.Kafka("""{"a":{"b":"first"}}"""))).Should().Be("b=first", "this puts 'first' in the segment cache");
        partitioner.GetPartitionPath(converter.Convert(TestRecords.Kafka("""{"a":{"b":"first"},"a":{"b":"second"}}"""))).Should().Be("b=second");
        var act = () => partitioner.GetPartitionPath(converter.Convert(TestRecords.Kafka("""{"a":{"b":"first"},"a":{"c":1}}""")));
        act.Should().Throw<RecordPartitioningException>().WithMessage("*field 'a.b' is missing*");
        partitioner.GetPartitionPath(converter.Convert(TestRecords.Kafka("""{"a":{"b":"x\u0041"}}"""))).Should().Be("b=xA");
    }

    [Fact]
    public void ARecordConvertedEarlier_IsPartitionedFromItsOwnValue_NotFromTheNewerCapture()
    {
        var partitioner = Build("a");
        var converter = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(partitioner)!) };
        var first = converter.Convert(TestRecords.Kafka("""{"a":"one"}"""));
        var second = converter.Convert(TestRecords.Kafka("""{"a":"two"}"""));
        partitioner.GetPartitionPath(first).Should().Be("a=one");
        partitioner.GetPartitionPath(second).Should().Be("a=two");
    }

    [Fact]
    public void ReusedRecords_AreEachPartitionedAndParsedFromTheirOwnValue()
    {
        var partitioner = Build("a");
        var converter = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(partitioner)!), ReuseRecords = true };
        var first = converter.Convert(TestRecords.Kafka("""{"a":"one"}""", offset: 1));
        partitioner.GetPartitionPath(first).Should().Be("a=one");
        ((System.Text.Json.JsonElement)first.Value!).GetProperty("a").GetString().Should().Be("one");

        var second = converter.Convert(TestRecords.Kafka("""{"a":"two"}""", offset: 2));

        second.Should().BeSameAs(first, "one record object serves every conversion");
        second.Source.Offset.Should().Be(2);
        Encoding.UTF8.GetString(second.Payload.Span).Should().Be("""{"a":"two"}""");
        partitioner.GetPartitionPath(second).Should().Be("a=two");
        ((System.Text.Json.JsonElement)second.Value!).GetProperty("a").GetString().Should().Be("two", "the value read for the previous record is not kept");
    }

    [Theory]
    [InlineData("a+t-hourly")]
    [InlineData("t-hourly")]
    public void ConvertAndFieldPlusHourly_AsTheSinkWiresThem_AllocateNothingPerRecordInTheSteadyState(string spec)
    {
        var partitioner = Build(spec);
        var converter = new JsonRecordConverter { Fields = new JsonFieldCapture(ValueReading.Fields(partitioner)!), ReuseRecords = true };
        var records = Enumerable.Range(0, 64).Select(i => TestRecords.Kafka(
            string.Create(CultureInfo.InvariantCulture, $$"""{"id":{{i}},"a":"region-{{i % 4}}","t":"2026-12-03T0{{i % 3}}:15:00Z","pad":"xxxxxxxxxxxxxxxx"}"""))).ToList();

        // Each record is partitioned right after its conversion, as the sink does; the first round fills the caches.
        var paths = new string[records.Count];
        var allocated = 0L;
        for (var round = 0; round < 2; round++)
        {
            var start = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < records.Count; i++)
            {
                paths[i] = partitioner.GetPartitionPath(converter.Convert(records[i]));
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - start;
        }

        allocated.Should().Be(0, "the record object is reused and a known field value and hour are looked up from their bytes");
        paths[5].Should().EndWith("year=2026/month=12/day=03/hour=02");
        if (spec.StartsWith('a'))
        {
            paths[5].Should().StartWith("a=region-1/");
        }
    }

    private static IS3Partitioner Build(string spec)
    {
        var builder = new S3PartitionerBuilder();
        foreach (var part in spec.Split('+'))
        {
            if (part == "t-hourly")
            {
                builder.Hourly(t =>
                {
                    t.TimestampSource = TimestampSource.RecordField;
                    t.TimestampField = "t";
                });
            }
            else
            {
                builder.Field(part);
            }
        }

        return builder.Build(TimeProvider.System);
    }

    private static string Outcome(IS3Partitioner partitioner, SinkRecord record)
    {
        try
        {
            return "path " + partitioner.GetPartitionPath(record);
        }
        catch (RecordPartitioningException ex)
        {
            return "error " + ex.Message;
        }
    }

    /// <summary>Objects of a few names (some repeated), nested, with scalars of every kind, escapes and timestamps.</summary>
    private static string Document(Random random, int depth)
    {
        var text = new StringBuilder("{");
        var fields = random.Next(0, 5);
        for (var f = 0; f < fields; f++)
        {
            var name = Names[random.Next(Names.Length)];
            text.Append(f > 0 ? "," : string.Empty).Append('"').Append(random.Next(8) == 0 ? Escape(name) : name).Append("\":");
            text.Append((random.Next(10), depth < 3) switch
            {
                (< 3, true) => Document(random, depth + 1),
                (3, _) => "null",
                (4, _) => random.Next(2) == 0 ? "true" : "false",
                (5, _) => random.Next(-5, 1_000_000).ToString(CultureInfo.InvariantCulture) + (random.Next(4) == 0 ? ".5" : string.Empty),
                (6, _) => "[1,{\"a\":2}]",
                (7, _) => "\"2026-12-0" + random.Next(1, 4).ToString(CultureInfo.InvariantCulture) + "T1" + random.Next(10).ToString(CultureInfo.InvariantCulture) + ":00:00" + (random.Next(2) == 0 ? "Z" : "+05:30") + "\"",
                (8, _) => "\"1764" + random.Next(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture) + "\"",
                _ => "\"v" + random.Next(5).ToString(CultureInfo.InvariantCulture) + (random.Next(6) == 0 ? "\\u00e9\\n" : string.Empty) + "\"",
            });
        }

        return text.Append('}').ToString();
    }

    private static string Escape(string name) => string.Concat(name.Select(c => "\\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture)));
}
