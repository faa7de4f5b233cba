using System.Globalization;
using System.Text;
using Amazon.S3.Model;
using Confluent.Kafka;
using DuckDB.NET.Data;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Compressed JSON lines and tombstones, read back by independent readers (DuckDB, zstd).</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Formats")]
public sealed class FormatsTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 2;
    private const int Count = 600;
    private readonly string work = Path.Combine(Path.GetTempPath(), "kafkas3sink-fmt-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task GzipJsonLines_TombstonesIgnored_DuckDbReadsEveryValueOnce()
    {
        var (topic, bucket) = await ProduceAsync("gz");
        await RunAsync(topic, bucket, o =>
        {
            o.Compression = OutputCompression.Gzip;
            o.NullValues = NullValueBehavior.Ignore;
        });

        var root = Path.Combine(work, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().NotBeEmpty().And.OnlyContain(k => k.EndsWith(".json.gz", StringComparison.Ordinal));

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT id, text FROM read_json_auto('{root}/**/*.json.gz') ORDER BY id";
        var rows = new List<(long Id, string Text)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }

        rows.Select(r => r.Id).Should().Equal(Enumerable.Range(0, Count).Where(i => !IsTombstone(i)).Select(i => (long)i), "every value once, no tombstone");
        rows.Should().OnlyContain(r => r.Text == Text((int)r.Id), "values equal what was produced");
    }

    [Fact]
    public async Task ZstdJsonLines_TombstonesWritten_AsNullLines()
    {
        var (topic, bucket) = await ProduceAsync("zst");
        await RunAsync(topic, bucket, o =>
        {
            o.Compression = OutputCompression.Zstd;
            o.NullValues = NullValueBehavior.Write;
        });

        using var client = servers.S3.CreateClient();
        var keys = (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects.Select(o => o.Key).Where(SinkTestKit.IsDataKey).ToList();
        keys.Should().OnlyContain(k => k.EndsWith(".json.zst", StringComparison.Ordinal));
        var lines = new List<string>();
        foreach (var key in keys)
        {
            using var response = await client.GetObjectAsync(bucket, key);
            using var zstd = new ZstdSharp.DecompressionStream(response.ResponseStream);
            using var reader = new StreamReader(zstd, Encoding.UTF8);
            lines.AddRange((await reader.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        lines.Count(l => l == "null").Should().Be(Enumerable.Range(0, Count).Count(IsTombstone));
        lines.Where(l => l != "null").Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order()
            .Should().Equal(Enumerable.Range(0, Count).Where(i => !IsTombstone(i)));
    }

    [Fact]
    public async Task Parquet_RecordsChangeShapeMidStream_NoFieldLostAndDuckDbReadsEveryValue()
    {
        var topic = "pq-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("pq");

        // Records 0-299 have {id, name}; from 300 on also price, tags (an array) and flag; every 50th later
        // record has a numeric name, a type conflict. Objects of 100 records per partition mix both shapes.
        static string Shape(int i) => i < 300
            ? $"{{\"id\":{i},\"name\":\"n{i}\"}}"
            : $"{{\"id\":{i},\"name\":{(i % 50 == 0 ? "12345" : $"\"n{i}\"")},\"price\":{i}.5,\"tags\":[\"a\",\"b{i}\"],\"flag\":{(i % 2 == 0 ? "true" : "false")}}}";
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, Count).Select(i => (i % Partitions, (string?)null, Shape(i))));

        await RunAsync(topic, bucket, o =>
        {
            o.Format = OutputFormat.Parquet;
            o.Compression = OutputCompression.Snappy;
        });

        var root = Path.Combine(work, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().NotBeEmpty().And.OnlyContain(k => k.EndsWith(".snappy.parquet", StringComparison.Ordinal));

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT id, name, price, tags, flag FROM read_parquet('{root}/**/*.parquet', union_by_name = true) ORDER BY id";
        var seen = 0;
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var id = (int)reader.GetInt64(0);
                id.Should().Be(seen++, "every record once, in order");
                reader.GetString(1).Should().Be(id >= 300 && id % 50 == 0 ? "12345" : $"n{id}", "a conflicting type is kept as text");
                if (id < 300)
                {
                    reader.IsDBNull(2).Should().BeTrue();
                    reader.IsDBNull(3).Should().BeTrue();
                    reader.IsDBNull(4).Should().BeTrue();
                }
                else
                {
                    reader.GetDouble(2).Should().Be(id + 0.5);
                    reader.GetString(3).Should().Be($"[\"a\",\"b{id}\"]", "arrays are kept as JSON text");
                    reader.GetBoolean(4).Should().Be(id % 2 == 0);
                }
            }
        }

        seen.Should().Be(Count);
    }

    [Fact]
    public async Task CborValues_PartitionedByNestedField_WrittenAsJsonLines()
    {
        var topic = "cbor-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("cbor");
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                var writer = new System.Formats.Cbor.CborWriter();
                writer.WriteStartMap(2);
                writer.WriteTextString("id");
                writer.WriteInt32(i);
                writer.WriteTextString("device");
                writer.WriteStartMap(1);
                writer.WriteTextString("site");
                writer.WriteTextString(i % 3 == 0 ? "seoul" : "busan");
                writer.WriteEndMap();
                writer.WriteEndMap();
                producer.Produce(new TopicPartition(topic, i % Partitions), new Message<Null, byte[]> { Value = writer.Encode() });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        using (var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = topic + "-sink";
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-sink";
                o.Topics.Add(topic);
                o.FlushSize = 100;
                o.ValueConverter = ValueConverter.Cbor;
                o.Staging.Directory = Path.Combine(work, "staging");
                servers.S3.Configure(o.S3, bucket);
            })
            .UsePartitioner(p => p.Field("device.site"))
            .UseLoggerFactory(loggerFactory)
            .Build())
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-sink", topic, Partitions, TimeSpan.FromMinutes(2));
        }

        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        var records = objects.SelectMany(o => o.Lines.Select(l => (o.Key, Json: SinkTestKit.Json(l)))).ToList();
        records.Select(r => r.Json.GetProperty("id").GetInt32()).Order().Should().Equal(Enumerable.Range(0, Count));
        records.Should().OnlyContain(r => r.Key.Contains($"/site={r.Json.GetProperty("device").GetProperty("site").GetString()}/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Envelope_KeysHeadersAndOffsets_ReadBackByDuckDb()
    {
        var topic = "env-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("env");
        using (var producer = new ProducerBuilder<byte[]?, string>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                var key = i % 10 == 0 ? null : i % 10 == 1 ? new byte[] { 0xFF, (byte)i } : Encoding.UTF8.GetBytes($"key-{i}");
                var headers = new Headers { { "trace", Encoding.UTF8.GetBytes($"t{i}") }, { "bin", [0xC3, 0x28] } };
                producer.Produce(new TopicPartition(topic, i % Partitions), new Message<byte[]?, string> { Key = key, Value = $"{{\"id\":{i}}}", Headers = headers });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        await RunAsync(topic, bucket, o => o.WriteEnvelope = true);

        var records = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(SinkTestKit.Json)
            .OrderBy(j => j.GetProperty("value").GetProperty("id").GetInt32()).ToList();
        records.Should().HaveCount(Count);
        for (var i = 0; i < Count; i++)
        {
            var r = records[i];
            r.GetProperty("value").GetProperty("id").GetInt32().Should().Be(i);
            r.GetProperty("topic").GetString().Should().Be(topic);
            r.GetProperty("partition").GetInt32().Should().Be(i % Partitions);
            r.GetProperty("offset").GetInt64().Should().Be(i / Partitions);
            var key = r.GetProperty("key");
            if (i % 10 == 0)
            {
                key.ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
            }
            else if (i % 10 == 1)
            {
                key.GetProperty("base64").GetBytesFromBase64().Should().Equal(0xFF, (byte)i);
            }
            else
            {
                key.GetString().Should().Be($"key-{i}");
            }

            var headers = r.GetProperty("headers").EnumerateArray().ToList();
            headers.Select(h => h.GetProperty("name").GetString()).Should().Equal("trace", "bin");
            headers[0].GetProperty("value").GetString().Should().Be($"t{i}");
            headers[1].GetProperty("value").GetProperty("base64").GetBytesFromBase64().Should().Equal(0xC3, 0x28);
            DateTimeOffset.Parse(r.GetProperty("timestamp").GetString()!, CultureInfo.InvariantCulture).Year.Should().BeGreaterThan(2000);
        }

        // An independent reader sees the same: DuckDB over the JSON lines.
        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        var root = Path.Combine(work, "env");
        await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);

        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT count(*), count(DISTINCT (partition, \"offset\")), count(*) FILTER (WHERE json_extract_string(key, '$') = 'key-2') FROM read_json('{root}/**/*.json', format = 'newline_delimited', columns = {{topic: 'VARCHAR', partition: 'INTEGER', \"offset\": 'BIGINT', key: 'JSON', value: 'JSON'}})";
        using var reader = command.ExecuteReader();
        reader.Read().Should().BeTrue();
        reader.GetInt64(0).Should().Be(Count);
        reader.GetInt64(1).Should().Be(Count);
        reader.GetInt64(2).Should().Be(1);
    }

    [Fact]
    public async Task RawBytes_WithSeparatorAndGzip_EveryValueBackByteForByte()
    {
        var topic = "bin-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("bin");
        static byte[] Value(int i) => [.. Encoding.ASCII.GetBytes($"v{i}:"), 0x00, 0xFF, (byte)(i % 100)]; // binary, never '|' (0x7C)
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < Count; i++)
            {
                producer.Produce(new TopicPartition(topic, i % Partitions), new Message<Null, byte[]> { Value = Value(i) });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        await RunAsync(topic, bucket, o =>
        {
            o.Format = OutputFormat.Bytes;
            o.ValueConverter = ValueConverter.ByteArray;
            o.BytesSeparator = "|";
            o.BytesExtension = "bin";
            o.Compression = OutputCompression.Gzip;
        });

        using var client = servers.S3.CreateClient();
        var values = new List<byte[]>();
        foreach (var obj in (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects.Where(o => SinkTestKit.IsDataKey(o.Key)))
        {
            obj.Key.Should().EndWith(".bin.gz");
            using var response = await client.GetObjectAsync(bucket, obj.Key);
            using var gzip = new System.IO.Compression.GZipStream(response.ResponseStream, System.IO.Compression.CompressionMode.Decompress);
            using var memory = new MemoryStream();
            await gzip.CopyToAsync(memory);
            var bytes = memory.ToArray();
            bytes[^1].Should().Be((byte)'|', "every value is followed by the separator");
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'|')
                {
                    values.Add(bytes[start..i]);
                    start = i + 1;
                }
            }
        }

        values.Should().HaveCount(Count);
        var byId = values.ToDictionary(v => int.Parse(Encoding.ASCII.GetString(v, 1, Array.IndexOf(v, (byte)':') - 1), CultureInfo.InvariantCulture));
        byId.Keys.Order().Should().Equal(Enumerable.Range(0, Count));
        foreach (var (id, value) in byId)
        {
            value.Should().Equal(Value(id), "value {0} comes back byte for byte", id);
        }
    }

    [Theory]
    [InlineData(OutputCompression.Gzip, "deflate")]
    [InlineData(OutputCompression.Snappy, "snappy")]
    [InlineData(OutputCompression.Zstd, "zstandard")]
    public async Task Avro_RecordsChangeShapeMidStream_ApacheAvroReaderSeesEveryValue(OutputCompression compression, string codec)
    {
        TestAvroCodecs.Register();
        var topic = "avc-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("avc");
        static string Shape(int i) => i < 300
            ? $"{{\"id\":{i},\"first name\":\"n{i}\"}}"
            : $"{{\"id\":{i},\"first name\":{(i % 50 == 0 ? "12345" : $"\"n{i}\"")},\"price\":{i}.5,\"tags\":[\"a\"],\"flag\":true}}";
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(0, Count).Select(i => (i % Partitions, (string?)null, Shape(i))));

        await RunAsync(topic, bucket, o =>
        {
            o.Format = OutputFormat.Avro;
            o.Compression = compression;
        });

        using var client = servers.S3.CreateClient();
        var seen = new HashSet<long>();
        foreach (var obj in (await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket })).S3Objects.Where(o => SinkTestKit.IsDataKey(o.Key)))
        {
            obj.Key.Should().EndWith(".avro");
            using var response = await client.GetObjectAsync(bucket, obj.Key);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory);
            memory.Position = 0;
            using var reader = Avro.File.DataFileReader<Avro.Generic.GenericRecord>.OpenReader(memory);
            reader.GetMetaString("avro.codec").Should().Be(codec);
            foreach (var record in reader.NextEntries)
            {
                var id = (long)record["id"];
                seen.Add(id).Should().BeTrue("no record twice");
                record["first_name"].Should().Be(id >= 300 && id % 50 == 0 ? "12345" : $"n{id}", "the JSON name 'first name' becomes first_name; a type conflict keeps the text");
                if (id < 300)
                {
                    record.TryGetValue("price", out var price);
                    price.Should().BeNull();
                }
                else
                {
                    record["price"].Should().Be(id + 0.5);
                    record["tags"].Should().Be("[\"a\"]");
                    record["flag"].Should().Be(true);
                }
            }
        }

        seen.Order().Should().Equal(Enumerable.Range(0, Count).Select(i => (long)i));
    }

    [Fact]
    public async Task Tombstone_DefaultPolicy_FailsTheSinkNamingTheRecord()
    {
        var (topic, bucket) = await ProduceAsync("fail");
        using var sink = Build(topic, bucket, _ => { });
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));

        var act = () => sink.RunAsync(stop.Token);

        (await act.Should().ThrowAsync<RecordConversionException>()).Which.Message.Should().Contain("tombstone").And.MatchRegex($"{topic}\\[[01]\\]@");
        sink.State.Should().Be(SinkState.Failed);
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Every 7th record is a tombstone, except the last of each partition (so a rotation commits past them).</summary>
    private static bool IsTombstone(int i) => i % 7 == 3 && i < Count - Partitions;

    private static string Text(int i) => $"order {i} — ünïcødé \"quoted\"";

    private async Task<(string Topic, string Bucket)> ProduceAsync(string name)
    {
        var topic = name + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync(name);
        using var producer = new ProducerBuilder<string, string?>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build();
        for (var i = 0; i < Count; i++)
        {
            var value = IsTombstone(i) ? null : System.Text.Json.JsonSerializer.Serialize(new { id = i, text = Text(i) });
            producer.Produce(new TopicPartition(topic, i % Partitions), new Message<string, string?> { Key = "k" + i, Value = value });
        }

        producer.Flush(TimeSpan.FromSeconds(30));
        return (topic, bucket);
    }

    private KafkaS3Sink Build(string topic, string bucket, Action<KafkaS3SinkOptions> configure) => new KafkaS3SinkBuilder()
        .Configure(o =>
        {
            o.Name = topic + "-sink";
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = topic + "-sink";
            o.Topics.Add(topic);
            o.FlushSize = 100;
            o.IdleRotateInterval = TimeSpan.FromMilliseconds(500);
            o.Staging.Directory = Path.Combine(work, "staging");
            servers.S3.Configure(o.S3, bucket);
            configure(o);
        })
        .UseLoggerFactory(loggerFactory)
        .Build();

    private async Task RunAsync(string topic, string bucket, Action<KafkaS3SinkOptions> configure)
    {
        using var sink = Build(topic, bucket, configure);
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-sink", topic, Partitions, TimeSpan.FromMinutes(2));
    }
}
