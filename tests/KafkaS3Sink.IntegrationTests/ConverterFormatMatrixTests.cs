using System.Formats.Cbor;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Every built-in converter × every output format, through Kafka and S3, read back by an independent
/// reader (DuckDB for JSON lines, gzip JSON lines and Parquet; Apache.Avro for Avro; the raw bytes for
/// Bytes): the value, key and headers of every record equal what was produced. The Avro (Schema
/// Registry) converter has its own tests (SchemaRegistryTests).
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Formats")]
public sealed class ConverterFormatMatrixTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Count = 60;
    private readonly string work = Path.Combine(Path.GetTempPath(), "kafkas3sink-matrix-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Warning));

    public static TheoryData<ValueConverter, string> EnvelopeCases()
    {
        var data = new TheoryData<ValueConverter, string>();
        foreach (var converter in Enum.GetValues<ValueConverter>())
        {
            foreach (var format in new[] { "json", "json.gz", "parquet", "avro" })
            {
                data.Add(converter, format);
            }
        }

        return data;
    }

    /// <summary>With <c>WriteEnvelope</c>: value, key (null, UTF-8, binary) and headers of every record come back.</summary>
    [Theory]
    [MemberData(nameof(EnvelopeCases))]
    public async Task Converter_Format_ValuesKeysAndHeadersRoundTrip(ValueConverter converter, string format)
    {
        var topic = $"mx-{converter.ToString().ToLowerInvariant()[..4]}-{Guid.NewGuid():N}"[..20];
        var bucket = await ProduceAndSinkAsync(topic, converter, o =>
        {
            o.WriteEnvelope = true;
            (o.Format, o.Compression) = format switch
            {
                "json.gz" => (OutputFormat.JsonLines, OutputCompression.Gzip),
                "parquet" => (OutputFormat.Parquet, OutputCompression.Snappy),
                "avro" => (OutputFormat.Avro, OutputCompression.Gzip),
                _ => (OutputFormat.JsonLines, OutputCompression.None),
            };
        });

        var root = Path.Combine(work, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().HaveCount(2, "60 records, 30 per object").And.OnlyContain(k => k.EndsWith("." + (format == "parquet" ? "snappy.parquet" : format), StringComparison.Ordinal));
        var rows = format == "avro" ? RoundTrip.ReadAvro(root, keys) : RoundTrip.ReadWithDuckDb(root, format);

        rows.Select(r => r.Offset).Should().Equal(Enumerable.Range(0, Count).Select(i => (long)i), "every record once");
        foreach (var row in rows)
        {
            var i = (int)row.Offset;
            RoundTrip.AssertSame(row.Value, ExpectedValue(converter, i), $"value of record {i}");
            RoundTrip.AssertSame(row.Key, ExpectedKey(i), $"key of record {i}");
            RoundTrip.AssertSame(row.Headers, ExpectedHeaders(i), $"headers of record {i}");
        }
    }

    /// <summary>Bytes output writes the raw value whatever the converter (which still validates it).</summary>
    [Theory]
    [InlineData(ValueConverter.Json)]
    [InlineData(ValueConverter.JsonWithSchemaEnvelope)]
    [InlineData(ValueConverter.Utf8String)]
    [InlineData(ValueConverter.ByteArray)]
    [InlineData(ValueConverter.Cbor)]
    public async Task Converter_BytesFormat_ValuesByteForByte(ValueConverter converter)
    {
        const string separator = "\u0001|\u0002";
        var topic = $"mxb-{converter.ToString().ToLowerInvariant()[..4]}-{Guid.NewGuid():N}"[..20];
        var bucket = await ProduceAndSinkAsync(topic, converter, o =>
        {
            o.Format = OutputFormat.Bytes;
            o.BytesSeparator = separator;
        });

        var root = Path.Combine(work, "bytes");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().HaveCount(2).And.OnlyContain(k => k.EndsWith(".bin", StringComparison.Ordinal));
        var values = new List<byte[]>();
        foreach (var key in keys.Order(StringComparer.Ordinal))
        {
            var body = await File.ReadAllBytesAsync(Path.Combine(root, key));
            var sep = Encoding.UTF8.GetBytes(separator);
            var start = 0;
            while (body.AsSpan(start).IndexOf(sep) is var at and >= 0)
            {
                values.Add(body[start..(start + at)]);
                start += at + sep.Length;
            }

            start.Should().Be(body.Length, "every value is followed by the separator");
        }

        values.Should().HaveCount(Count);
        for (var i = 0; i < Count; i++)
        {
            values[i].Should().Equal(Value(converter, i), "value {0} byte for byte", i);
        }
    }

    /// <summary>
    /// A key converter (Connect's <c>key.converter</c>): JSON keys land in the envelope as JSON (DuckDB reads
    /// <c>key.customer</c>); a key the converter cannot read fails the sink naming the record.
    /// </summary>
    [Fact]
    public async Task KeyConverter_JsonKeysWrittenAsJson_AnUnreadableKeyFailsNamingTheRecord()
    {
        var topic = "mxk-" + Guid.NewGuid().ToString("N")[..10];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("mxk");
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                var key = i % 4 == 0 ? null : Encoding.UTF8.GetBytes($"{{\"customer\":\"c-{i}\",\"n\":{i}}}");
                producer.Produce(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Key = key, Value = Value(ValueConverter.Json, i) });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        using var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = topic;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic;
                o.Topics.Add(topic);
                o.FlushSize = Count / 2;
                o.WriteEnvelope = true;
                o.KeyConverter = ValueConverter.Json;
                o.Staging.Directory = Path.Combine(work, "staging");
                servers.S3.Configure(o.S3, bucket);
            })
            .UseLoggerFactory(loggerFactory)
            .Build();

        var run = sink.RunAsync(CancellationToken.None);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [Count], TimeSpan.FromMinutes(1), run);
        SinkTestKit.Produce(servers.Kafka, topic, [(0, "not json", "{\"id\":-1}")]);
        var act = () => run.WaitAsync(TimeSpan.FromMinutes(1));

        (await act.Should().ThrowAsync<RecordConversionException>()).Which.Message.Should()
            .StartWith($"Cannot convert record {topic}[0]@{Count}").And.Contain("the key cannot be read by the key converter");
        var root = Path.Combine(work, "keys");
        await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        var rows = RoundTrip.ReadWithDuckDb(root, "json");
        rows.Select(r => r.Offset).Should().Equal(Enumerable.Range(0, Count).Select(i => (long)i), "the two rotations before the bad key were written");
        foreach (var row in rows)
        {
            var i = (int)row.Offset;
            RoundTrip.AssertSame(row.Key, Json(i % 4 == 0 ? "null" : $"{{\"customer\":\"c-{i}\",\"n\":{i}}}"), $"key {i}");
        }
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The value as produced, in the converter's wire format.</summary>
    private static byte[] Value(ValueConverter converter, int i)
    {
        var json = $"{{\"id\":{i},\"name\":\"n-{i} ü\",\"nested\":{{\"x\":{i * 2},\"ok\":{(i % 2 == 0 ? "true" : "false")}}},\"tags\":[\"a\",\"b{i}\"]}}";
        switch (converter)
        {
            case ValueConverter.Json:
                return Encoding.UTF8.GetBytes(json);
            case ValueConverter.JsonWithSchemaEnvelope:
                return Encoding.UTF8.GetBytes($"{{\"schema\":{{\"type\":\"struct\",\"optional\":false}},\"payload\":{json}}}");
            case ValueConverter.Utf8String:
                return Encoding.UTF8.GetBytes($"text {i} — ünïcode");
            case ValueConverter.ByteArray:
                return [(byte)i, 0xFF, 0x00, 0x0A];
            default:
                var cbor = new CborWriter();
                cbor.WriteStartMap(4);
                cbor.WriteTextString("id");
                cbor.WriteInt32(i);
                cbor.WriteTextString("name");
                cbor.WriteTextString($"n-{i} ü");
                cbor.WriteTextString("nested");
                cbor.WriteStartMap(2);
                cbor.WriteTextString("x");
                cbor.WriteInt32(i * 2);
                cbor.WriteTextString("ok");
                cbor.WriteBoolean(i % 2 == 0);
                cbor.WriteEndMap();
                cbor.WriteTextString("tags");
                cbor.WriteStartArray(2);
                cbor.WriteTextString("a");
                cbor.WriteTextString($"b{i}");
                cbor.WriteEndArray();
                cbor.WriteEndMap();
                return cbor.Encode();
        }
    }

    /// <summary>What the envelope's value must read back as (JSON).</summary>
    private static JsonElement ExpectedValue(ValueConverter converter, int i) => converter switch
    {
        ValueConverter.Utf8String => Json(JsonSerializer.Serialize($"text {i} — ünïcode")),
        ValueConverter.ByteArray => Json(JsonSerializer.Serialize(Convert.ToBase64String(Value(converter, i)))),
        _ => Json($"{{\"id\":{i},\"name\":\"n-{i} ü\",\"nested\":{{\"x\":{i * 2},\"ok\":{(i % 2 == 0 ? "true" : "false")}}},\"tags\":[\"a\",\"b{i}\"]}}"),
    };

    private static byte[]? Key(int i) => (i % 3) switch
    {
        0 => null,
        1 => Encoding.UTF8.GetBytes($"key-{i}"),
        _ => [0xFE, (byte)i],
    };

    private static JsonElement ExpectedKey(int i) => (i % 3) switch
    {
        0 => Json("null"),
        1 => Json($"\"key-{i}\""),
        _ => Json($"{{\"base64\":\"{Convert.ToBase64String(Key(i)!)}\"}}"),
    };

    private static Headers Headers(int i) => new() { { "trace", Encoding.UTF8.GetBytes($"t-{i}") }, { "bin", [0xC3, 0x28, (byte)i] } };

    private static JsonElement ExpectedHeaders(int i) => Json(
        $"[{{\"name\":\"trace\",\"value\":\"t-{i}\"}},{{\"name\":\"bin\",\"value\":{{\"base64\":\"{Convert.ToBase64String([0xC3, 0x28, (byte)i])}\"}}}}]");

    private static JsonElement Json(string text) => SinkTestKit.Json(text);

    private async Task<string> ProduceAndSinkAsync(string topic, ValueConverter converter, Action<KafkaS3SinkOptions> configure)
    {
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("mx");
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                producer.Produce(new TopicPartition(topic, 0), new Message<byte[]?, byte[]> { Key = Key(i), Value = Value(converter, i), Headers = Headers(i) });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        using var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = topic;
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-sink";
                o.Topics.Add(topic);
                o.FlushSize = Count / 2;
                o.ValueConverter = converter;
                o.Staging.Directory = Path.Combine(work, "staging");
                servers.S3.Configure(o.S3, bucket);
                configure(o);
            })
            .UseLoggerFactory(loggerFactory)
            .Build();
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-sink", topic, 1, TimeSpan.FromMinutes(1));
        return bucket;
    }
}
