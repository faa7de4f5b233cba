using System.Formats.Cbor;
using System.Text;
using System.Text.Json;
using KafkaS3Sink.Converters;

namespace KafkaS3Sink.Tests.Converters;

[Trait("Category", "Formats")]
public sealed class RecordConvertersTests
{
    private static KafkaRecord Record(byte[] value) => new("orders", 1, 9, DateTimeOffset.UnixEpoch, null, value);

    [Fact]
    public void Cbor_NestedMapArraysBytesTagsAndFloats_BecomeJson()
    {
        var writer = new CborWriter();
        writer.WriteStartMap(null); // indefinite length
        writer.WriteTextString("order");
        writer.WriteStartMap(3);
        writer.WriteTextString("region");
        writer.WriteTextString("서울");
        writer.WriteTextString("qty");
        writer.WriteInt64(-3);
        writer.WriteTextString("at");
        writer.WriteDateTimeOffset(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        writer.WriteEndMap();
        writer.WriteTextString("blob");
        writer.WriteByteString([1, 2, 3]);
        writer.WriteTextString("prices");
        writer.WriteStartArray(2);
        writer.WriteDouble(1.5);
        writer.WriteHalf((Half)2);
        writer.WriteEndArray();
        writer.WriteInt32(7); // integer key
        writer.WriteNull();
        writer.WriteEndMap();

        var converted = RecordConverters.Cbor().Convert(Record(writer.Encode()));

        var json = JsonDocument.Parse(converted.Payload).RootElement;
        json.GetProperty("order").GetProperty("region").GetString().Should().Be("서울");
        json.GetProperty("order").GetProperty("qty").GetInt64().Should().Be(-3);
        json.GetProperty("order").GetProperty("at").GetString().Should().Be("2026-11-27T09:00:00Z");
        json.GetProperty("blob").GetString().Should().Be("AQID");
        json.GetProperty("prices").EnumerateArray().Select(e => e.GetDouble()).Should().Equal(1.5, 2.0);
        json.GetProperty("7").ValueKind.Should().Be(JsonValueKind.Null);
        ((JsonElement)converted.Value!).GetProperty("order").GetProperty("region").GetString().Should().Be("서울", "partitioners read the structured value");
    }

    [Theory]
    [InlineData(new byte[] { 0xA1 }, "not valid CBOR")] // map with a missing pair
    [InlineData(new byte[] { 0x01, 0x02 }, "more than one CBOR item")]
    public void Cbor_Invalid_FailsNamingTheRecord(byte[] value, string reason)
    {
        var act = () => RecordConverters.Cbor().Convert(Record(value));

        act.Should().Throw<RecordConversionException>().Where(e => e.Message.Contains("orders[1]@9", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void JsonWithSchemaEnvelope_WritesThePayload()
    {
        var converted = RecordConverters.JsonWithSchemaEnvelope().Convert(Record(Encoding.UTF8.GetBytes(
            "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"field\":\"id\",\"type\":\"int32\"}]},\"payload\":{\"id\":42}}")));

        Encoding.UTF8.GetString(converted.Payload.Span).Should().Be("{\"id\":42}");
        ((JsonElement)converted.Value!).GetProperty("id").GetInt32().Should().Be(42);
        var act = () => RecordConverters.JsonWithSchemaEnvelope().Convert(Record(Encoding.UTF8.GetBytes("{\"id\":42}")));
        act.Should().Throw<RecordConversionException>().WithMessage("*schemas.enable=true*");
    }

    [Fact]
    public void StringAndBytes_WrittenAsJsonStrings()
    {
        var text = RecordConverters.Utf8String().Convert(Record(Encoding.UTF8.GetBytes("line \"1\"\nnext")));
        Encoding.UTF8.GetString(text.Payload.Span).Should().Be("\"line \\u00221\\u0022\\nnext\"");
        text.Value.Should().Be("line \"1\"\nnext");

        var bytes = RecordConverters.Bytes().Convert(Record([0, 255, 10]));
        Encoding.UTF8.GetString(bytes.Payload.Span).Should().Be("\"AP8K\"");

        var invalid = () => RecordConverters.Utf8String().Convert(Record([0xC3, 0x28]));
        invalid.Should().Throw<RecordConversionException>().WithMessage("*not valid UTF-8*");
    }
}
