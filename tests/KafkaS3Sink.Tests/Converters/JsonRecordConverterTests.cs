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
        var capturing = () => new JsonRecordConverter { Fields = new JsonFieldCapture([["a"], ["a", "b"]]) }.Convert(TestRecords.Kafka(json, partition: 4, offset: 99));

        eager.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains(reason, StringComparison.Ordinal));
        capturing.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains("orders[4]@99", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal));
        act.Should().Throw<RecordConversionException>()
            .Where(e => e.Message.Contains("orders[4]@99", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal))
            .Which.Record!.Partition.Should().Be(4);
    }
}

public sealed class JsonUtf8Tests
{
    public static TheoryData<string, byte[], int> InvalidUtf8 => new()
    {
        { "a lone continuation byte in a string", [.. "{\"a\":\""u8, 0x80, .. "\"}"u8], 6 },
        { "Latin-1 in a string", [.. "{\"name\":\"M"u8, 0xFC, .. "ller\"}"u8], 10 },
        { "an overlong encoding of '/'", [.. "{\"a\":\""u8, 0xC0, 0xAF, .. "\"}"u8], 6 },
        { "an encoded surrogate (CESU-8)", [.. "{\"a\":\""u8, 0xED, 0xA0, 0x80, .. "\"}"u8], 6 },
        { "a truncated sequence at the end of a property name", [.. "{\"a"u8, 0xE2, 0x82, .. "\":1}"u8], 3 },
    };

    [Theory]
    [MemberData(nameof(InvalidUtf8))]
    public void Convert_InvalidUtf8InsideJson_IsRejectedNamingTheRecordAndByte(string what, byte[] value, int at)
    {
        _ = what;
        var record = new KafkaRecord("orders", 2, 41, DateTimeOffset.UnixEpoch, null, value);

        var lazy = () => new JsonRecordConverter().Convert(record);
        var eager = () => new JsonRecordConverter { ParseEagerly = true }.Convert(record);

        lazy.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains("orders[2]@41", StringComparison.Ordinal) && e.Message.Contains($"not valid UTF-8 (at byte {at})", StringComparison.Ordinal));
        eager.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains("not valid UTF-8", StringComparison.Ordinal));
    }

    [Fact]
    public void Convert_MultiByteUtf8_IsStagedAsProduced()
    {
        var value = "{\"city\":\"München\",\"emoji\":\"🦀\",\"escaped\":\"\\ud83e\\udd80\"}"u8.ToArray();

        var converted = new JsonRecordConverter().Convert(new KafkaRecord("orders", 0, 0, DateTimeOffset.UnixEpoch, null, value));

        converted.Payload.ToArray().Should().Equal(value);
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
