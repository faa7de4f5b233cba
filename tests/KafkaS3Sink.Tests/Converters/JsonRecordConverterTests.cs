using System.Text;
using System.Text.Json;
using KafkaS3Sink.Converters;

namespace KafkaS3Sink.Tests.Converters;

public sealed class JsonRecordConverterTests
{
    private readonly JsonRecordConverter converter = new();

    [Fact]
    public void Convert_CompactJson_StagedAsProducedWithStructuredValue()
    {
        var record = TestRecords.Kafka("{\"a\":{\"b\":[1,2]}}");

        var converted = converter.Convert(record);

        Encoding.UTF8.GetString(converted.Payload.Span).Should().Be("{\"a\":{\"b\":[1,2]}}");
        converted.Value.Should().BeOfType<JsonElement>().Which.GetProperty("a").GetProperty("b")[1].GetInt32().Should().Be(2);
    }

    [Fact]
    public void Convert_Eagerly_SameResultInOnePass()
    {
        var converted = new JsonRecordConverter { ParseEagerly = true }.Convert(TestRecords.Kafka("{\"a\":{\"b\":[1,2]}}"));

        Encoding.UTF8.GetString(converted.Payload.Span).Should().Be("{\"a\":{\"b\":[1,2]}}");
        converted.Value.Should().BeOfType<JsonElement>().Which.GetProperty("a").GetProperty("b")[0].GetInt32().Should().Be(1);
    }

    [Fact]
    public void Convert_PrettyPrintedJson_CompactedToOneLine()
    {
        var converted = converter.Convert(TestRecords.Kafka("{\n  \"a\": \"x\\ny\"\r\n}"));

        var payload = Encoding.UTF8.GetString(converted.Payload.Span);
        payload.Should().NotContain("\n").And.NotContain("\r");
        JsonDocument.Parse(payload).RootElement.GetProperty("a").GetString().Should().Be("x\ny");
    }

    [Theory]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("[1,2", "not valid JSON")]
    [InlineData("{} {}", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    [InlineData(null, "tombstone")]
    public void Convert_BadValue_ThrowsNamingTopicPartitionOffset(string? json, string reason)
    {
        var act = () => converter.Convert(TestRecords.Kafka(json, partition: 4, offset: 99));
        var eager = () => new JsonRecordConverter { ParseEagerly = true }.Convert(TestRecords.Kafka(json, partition: 4, offset: 99));

        eager.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains(reason, StringComparison.Ordinal));
        act.Should().Throw<RecordConversionException>()
            .Where(e => e.Message.Contains("orders[4]@99", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal))
            .Which.Record!.Partition.Should().Be(4);
    }
}

public sealed class SinkRecordTests
{
    [Fact]
    public void WithLazyValue_FactoryRunsOnceAndOnlyWhenRead()
    {
        var calls = 0;
        var record = SinkRecord.WithLazyValue(TestRecords.Kafka("{}"), "{}"u8.ToArray(), () => ++calls);

        calls.Should().Be(0, "nothing read the value yet");
        record.Value.Should().Be(1);
        record.Value.Should().Be(1);
        calls.Should().Be(1);
    }
}
