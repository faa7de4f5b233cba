using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using Avro;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using KafkaS3Sink.SchemaRegistry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Avro values in the Schema Registry wire format, with a small registry endpoint serving a fixed schema.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Formats")]
public sealed partial class SchemaRegistryTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int SchemaId = 42;
    private const string SchemaJson = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"long"},
          {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"region","type":"string"}]}},
          {"name":"amount","type":["null","double"],"default":null},
          {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"blob","type":"bytes"}
        ]}
        """;

    /// <summary>Version 2: more fields, with the types a Parquet or Avro reader must keep (int, float, logical types, map).</summary>
    private const int SchemaV2Id = 43;
    private const string SchemaV2Json = """
        {"type":"record","name":"Order","namespace":"shop","fields":[
          {"name":"id","type":"long"},
          {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"region","type":"string"}]}},
          {"name":"amount","type":["null","double"],"default":null},
          {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID"]}},
          {"name":"tags","type":{"type":"array","items":"string"}},
          {"name":"blob","type":"bytes"},
          {"name":"qty","type":"int","default":0},
          {"name":"discount","type":["null","float"],"default":null},
          {"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
          {"name":"day","type":{"type":"int","logicalType":"date"},"default":0},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2},"default":"\u0000"},
          {"name":"attrs","type":{"type":"map","values":"int"},"default":{}}
        ]}
        """;

    private static readonly DateTime Epoch = new(2026, 11, 27, 8, 0, 0, DateTimeKind.Utc);

    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-sr-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task AvroWireFormat_SchemaFromRegistry_WrittenAsJsonAndPartitionedByNestedField()
    {
        var requests = new ConcurrentQueue<string>();
        await using var registry = await StartRegistryAsync(requests);
        var registryUrl = registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var schema = (RecordSchema)Schema.Parse(SchemaJson);
        const int count = 400;
        var bucket = await ProduceAndSinkAsync(
            "avro", 2, count, i => new Message<byte[]?, byte[]> { Value = Encode(schema, i) }, registryUrl, o => o.FlushSize = 100, byRegion: true);

        requests.Should().Contain(r => r.Contains($"/schemas/ids/{SchemaId}", StringComparison.Ordinal), "the writer schema comes from the registry");
        var records = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines.Select(l => (o.Key, Json: SinkTestKit.Json(l)))).ToList();
        records.Should().HaveCount(count);
        foreach (var (key, json) in records)
        {
            var i = (int)json.GetProperty("id").GetInt64();
            var region = i % 3 == 0 ? "eu" : "apac";
            json.GetProperty("customer").GetProperty("region").GetString().Should().Be(region);
            key.Should().Contain($"/region={region}/");
            if (i % 4 == 0)
            {
                json.GetProperty("amount").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
            }
            else
            {
                json.GetProperty("amount").GetDouble().Should().Be(i + 0.25);
            }

            json.GetProperty("status").GetString().Should().Be(i % 2 == 0 ? "NEW" : "PAID");
            json.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).Should().Equal("t", $"n{i}");
            json.GetProperty("blob").GetBytesFromBase64().Should().Equal((byte)i, 0xFF);
        }

        records.Select(r => r.Json.GetProperty("id").GetInt64()).Order().Should().Equal(Enumerable.Range(0, count).Select(i => (long)i));
    }

    /// <summary>
    /// Avro output keeps the registry's writer schema: each file's schema is the schema its records were
    /// written with (a schema change mid-partition starts a new file), and Apache.Avro's reader gets back
    /// every value with its Avro type (int, float, enum, decimal, timestamp, date, map, nested record).
    /// </summary>
    [Theory]
    [InlineData(OutputCompression.None, "null")]
    [InlineData(OutputCompression.Snappy, "snappy")]
    public async Task AvroOutput_KeepsTheWriterSchemaOfEachRecord_ValuesRoundTrip(OutputCompression compression, string codec)
    {
        TestAvroCodecs.Register();
        var (bucket, v1, v2) = await ProduceVersionedAndSinkAsync(OutputFormat.Avro, compression);

        using var client = servers.S3.CreateClient();
        var seen = new List<long>();
        var schemasSeen = new HashSet<int>();
        foreach (var key in await ListDataKeysAsync(client, bucket))
        {
            key.Should().EndWith(".avro");
            using var response = await client.GetObjectAsync(bucket, key);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory);
            memory.Position = 0;
            using var reader = Avro.File.DataFileReader<GenericRecord>.OpenReader(memory);
            reader.GetMetaString("avro.codec").Should().Be(codec);
            var fileSchema = reader.GetSchema();
            var version = fileSchema.ToString() == v2.ToString() ? 2 : 1;
            fileSchema.ToString().Should().Be((version == 2 ? v2 : v1).ToString(), "the file has the registry's schema, not an inferred one");
            schemasSeen.Add(version);
            foreach (var record in reader.NextEntries)
            {
                var i = (int)(long)record["id"];
                (i >= 150).Should().Be(version == 2, "record {0} is in a file of its own schema version", i);
                ((GenericRecord)record["customer"])["region"].Should().Be(i % 3 == 0 ? "eu" : "apac");
                key.Should().Contain($"/region={(i % 3 == 0 ? "eu" : "apac")}/");
                record["amount"].Should().Be(i % 4 == 0 ? null : i + 0.25);
                ((GenericEnum)record["status"]).Value.Should().Be(i % 2 == 0 ? "NEW" : "PAID");
                ((object[])record["tags"]).Should().Equal("t", $"n{i}");
                ((byte[])record["blob"]).Should().Equal((byte)i, 0xFF);
                if (version == 2)
                {
                    record["qty"].Should().Be(i * 3);
                    record["discount"].Should().Be(i % 5 == 0 ? null : i / 8f);
                    record["placed"].Should().Be(Epoch.AddMilliseconds(i * 1001L));
                    record["day"].Should().Be(Epoch.Date.AddDays(i));
                    ((decimal)(AvroDecimal)record["price"]).Should().Be(i + 0.99m);
                    ((IDictionary<string, object>)record["attrs"]).Should().Equal(new Dictionary<string, object> { ["n"] = i, ["m"] = -i });
                }

                seen.Add(i);
            }
        }

        schemasSeen.Should().BeEquivalentTo([1, 2]);
        seen.Order().Should().Equal(Enumerable.Range(0, 400).Select(i => (long)i), "every record once");
    }

    /// <summary>
    /// Parquet output takes its columns from the registry's schema: DuckDB sees INTEGER, FLOAT, DECIMAL,
    /// TIMESTAMP WITH TIME ZONE, DATE, STRUCT, LIST and MAP columns, and every value.
    /// </summary>
    [Fact]
    public async Task ParquetOutput_ColumnsTypedFromTheWriterSchema_DuckDbReadsEveryValue()
    {
        var (bucket, _, _) = await ProduceVersionedAndSinkAsync(OutputFormat.Parquet, OutputCompression.Snappy);
        var root = Path.Combine(staging, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().OnlyContain(k => k.EndsWith(".snappy.parquet", StringComparison.Ordinal));

        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        var v2Files = new List<string>();
        var total = 0L;
        foreach (var key in keys)
        {
            var file = Path.Combine(root, key);
            command.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{file}'))";
            var columns = new Dictionary<string, string>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    columns[reader.GetString(0)] = reader.GetString(1);
                }
            }

            columns.Should().Contain(new Dictionary<string, string>
            {
                ["id"] = "BIGINT",
                ["customer"] = "STRUCT(region VARCHAR)",
                ["amount"] = "DOUBLE",
                ["status"] = "VARCHAR",
                ["tags"] = "VARCHAR[]",
                ["blob"] = "BLOB",
            });
            if (columns.ContainsKey("qty"))
            {
                columns.Should().Contain(new Dictionary<string, string>
                {
                    ["qty"] = "INTEGER",
                    ["discount"] = "FLOAT",
                    ["placed"] = "TIMESTAMP WITH TIME ZONE",
                    ["day"] = "DATE",
                    ["price"] = "DECIMAL(10,2)",
                    ["attrs"] = "MAP(VARCHAR, INTEGER)",
                });
                v2Files.Add(file);
            }

            command.CommandText = $"SELECT count(*) FROM read_parquet('{file}')";
            total += Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        total.Should().Be(400);
        v2Files.Should().NotBeEmpty();
        command.CommandText = "SET TimeZone = 'UTC'";
        command.ExecuteNonQuery();
        command.CommandText = $"""
            SELECT id, customer.region, amount, status, tags[2], hex(blob), qty, discount, epoch_ms(placed), day, CAST(price AS VARCHAR), attrs['n'], attrs['m']
            FROM read_parquet([{string.Join(",", v2Files.Select(f => $"'{f}'"))}]) ORDER BY id
            """;
        var ids = new List<long>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var i = (int)reader.GetInt64(0);
                ids.Add(i);
                reader.GetString(1).Should().Be(i % 3 == 0 ? "eu" : "apac");
                (reader.IsDBNull(2) ? (double?)null : reader.GetDouble(2)).Should().Be(i % 4 == 0 ? null : i + 0.25);
                reader.GetString(3).Should().Be(i % 2 == 0 ? "NEW" : "PAID");
                reader.GetString(4).Should().Be($"n{i}");
                reader.GetString(5).Should().Be($"{(byte)i:X2}FF");
                reader.GetInt32(6).Should().Be(i * 3);
                (reader.IsDBNull(7) ? (float?)null : reader.GetFloat(7)).Should().Be(i % 5 == 0 ? null : i / 8f);
                reader.GetInt64(8).Should().Be(new DateTimeOffset(Epoch.AddMilliseconds(i * 1001L)).ToUnixTimeMilliseconds());
                reader.GetDateTime(9).Should().Be(Epoch.Date.AddDays(i));
                reader.GetString(10).Should().Be((i + 0.99m).ToString(CultureInfo.InvariantCulture));
                reader.GetInt32(11).Should().Be(i);
                reader.GetInt32(12).Should().Be(-i);
            }
        }

        ids.Should().Equal(Enumerable.Range(150, 250).Select(i => (long)i));
    }

    /// <summary>
    /// With <c>WriteEnvelope</c> the Avro converter's values go into the envelope as JSON (any format infers
    /// from it): keys (null, UTF-8, binary), headers and values come back from DuckDB and Apache.Avro.
    /// </summary>
    [Theory]
    [InlineData("json")]
    [InlineData("parquet")]
    [InlineData("avro")]
    public async Task AvroConverter_WithEnvelope_ValuesKeysAndHeadersRoundTrip(string format)
    {
        await using var registry = await StartRegistryAsync(new ConcurrentQueue<string>());
        var registryUrl = registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var schema = (RecordSchema)Schema.Parse(SchemaJson);
        const int count = 40;
        var bucket = await ProduceAndSinkAsync(
            "avroenv",
            1,
            count,
            i => new Message<byte[]?, byte[]>
            {
                Key = (i % 3) switch { 0 => null, 1 => System.Text.Encoding.UTF8.GetBytes($"k{i}"), _ => [0xFE, (byte)i] },
                Value = Encode(schema, i),
                Headers = new Headers { { "trace", System.Text.Encoding.UTF8.GetBytes($"t{i}") } },
            },
            registryUrl,
            o =>
            {
                o.FlushSize = 20;
                o.WriteEnvelope = true;
                o.Format = format switch { "parquet" => OutputFormat.Parquet, "avro" => OutputFormat.Avro, _ => OutputFormat.JsonLines };
            },
            byRegion: false);

        var root = Path.Combine(staging, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().HaveCount(2);
        var rows = format == "avro" ? RoundTrip.ReadAvro(root, keys) : RoundTrip.ReadWithDuckDb(root, format);
        rows.Select(r => r.Offset).Should().Equal(Enumerable.Range(0, count).Select(i => (long)i));
        foreach (var row in rows)
        {
            var i = (int)row.Offset;
            var amount = i % 4 == 0 ? "null" : (i + 0.25).ToString(CultureInfo.InvariantCulture);
            RoundTrip.AssertSame(row.Value, SinkTestKit.Json(
                $"{{\"id\":{i},\"customer\":{{\"region\":\"{(i % 3 == 0 ? "eu" : "apac")}\"}},\"amount\":{amount},\"status\":\"{(i % 2 == 0 ? "NEW" : "PAID")}\",\"tags\":[\"t\",\"n{i}\"],\"blob\":\"{Convert.ToBase64String([(byte)i, 0xFF])}\"}}"),
                $"value {i}");
            RoundTrip.AssertSame(row.Key, SinkTestKit.Json((i % 3) switch { 0 => "null", 1 => $"\"k{i}\"", _ => $"{{\"base64\":\"{Convert.ToBase64String([0xFE, (byte)i])}\"}}" }), $"key {i}");
            RoundTrip.AssertSame(row.Headers, SinkTestKit.Json($"[{{\"name\":\"trace\",\"value\":\"t{i}\"}}]"), $"headers {i}");
        }
    }

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>Records 0..149 with schema 42, 150..399 with schema 43: 75 then 125 per partition, so with FlushSize 125 the first rotation is cut by the schema change.</summary>
    private async Task<(string Bucket, RecordSchema V1, RecordSchema V2)> ProduceVersionedAndSinkAsync(OutputFormat format, OutputCompression compression)
    {
        var requests = new ConcurrentQueue<string>();
        await using var registry = await StartRegistryAsync(requests);
        var registryUrl = registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var v1 = (RecordSchema)Schema.Parse(SchemaJson);
        var v2 = (RecordSchema)Schema.Parse(SchemaV2Json);
        var bucket = await ProduceAndSinkAsync(
            "avro",
            2,
            400,
            i => new Message<byte[]?, byte[]> { Value = EncodeVersioned(v1, v2, i) },
            registryUrl,
            o =>
            {
                o.FlushSize = 125;
                o.Format = format;
                o.Compression = compression;
            },
            byRegion: true);

        requests.Should().Contain(r => r.Contains($"/schemas/ids/{SchemaV2Id}", StringComparison.Ordinal));
        return (bucket, v1, v2);
    }

    /// <summary>Produces <paramref name="count"/> messages round-robin over the partitions, then runs the Avro converter's sink to the end.</summary>
    /// <returns>The bucket.</returns>
    private async Task<string> ProduceAndSinkAsync(
        string prefix, int partitions, int count, Func<int, Message<byte[]?, byte[]>> message, string registryUrl, Action<KafkaS3SinkOptions> configure, bool byRegion)
    {
        var topic = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, partitions);
        var bucket = await servers.S3.CreateBucketAsync(prefix);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < count; i++)
            {
                producer.Produce(new TopicPartition(topic, i % partitions), message(i));
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        using var converter = new SchemaRegistryAvroConverter(registryUrl);
        var builder = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = topic + "-sink";
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-sink";
                o.Topics.Add(topic);
                o.Staging.Directory = staging;
                servers.S3.Configure(o.S3, bucket);
                configure(o);
            })
            .UseConverter(converter)
            .UseLoggerFactory(loggerFactory);
        if (byRegion)
        {
            builder.UsePartitioner(p => p.Field("customer.region"));
        }

        using var sink = builder.Build();
        await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-sink", topic, partitions, TimeSpan.FromMinutes(2));
        return bucket;
    }

    private static async Task<List<string>> ListDataKeysAsync(Amazon.S3.IAmazonS3 client, string bucket) =>
        [.. ((await client.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket })).S3Objects ?? []).Select(o => o.Key).Where(SinkTestKit.IsDataKey)];

    private static byte[] EncodeVersioned(RecordSchema v1, RecordSchema v2, int i) => i < 150 ? Encode(v1, i) : Encode(v2, i, SchemaV2Id);

    private static byte[] Encode(RecordSchema schema, int i, int schemaId = SchemaId) => WireFormat(schemaId, stream =>
    {
        var customer = new GenericRecord((RecordSchema)schema["customer"].Schema);
        customer.Add("region", i % 3 == 0 ? "eu" : "apac");
        var order = new GenericRecord(schema);
        order.Add("id", (long)i);
        order.Add("customer", customer);
        order.Add("amount", i % 4 == 0 ? null : i + 0.25);
        order.Add("status", new GenericEnum((EnumSchema)schema["status"].Schema, i % 2 == 0 ? "NEW" : "PAID"));
        order.Add("tags", new object[] { "t", $"n{i}" });
        order.Add("blob", new byte[] { (byte)i, 0xFF });
        if (schemaId == SchemaV2Id)
        {
            order.Add("qty", i * 3);
            order.Add("discount", i % 5 == 0 ? null : i / 8f);
            order.Add("placed", Epoch.AddMilliseconds(i * 1001L));
            order.Add("day", Epoch.Date.AddDays(i));
            order.Add("price", new AvroDecimal(i + 0.99m));
            order.Add("attrs", new Dictionary<string, object> { ["n"] = i, ["m"] = -i });
        }

        new GenericDatumWriter<GenericRecord>(schema).Write(order, new BinaryEncoder(stream));
    });

    /// <summary>A value in the registry's wire format: magic byte 0, the schema id (big-endian), then the Avro datum.</summary>
    private static byte[] WireFormat(int schemaId, Action<MemoryStream> datum)
    {
        using var stream = new MemoryStream();
        stream.WriteByte(0);
        Span<byte> id = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(id, schemaId);
        stream.Write(id);
        datum(stream);
        return stream.ToArray();
    }

    /// <summary>The registry routes the Confluent client calls to read a schema by id, serving one fixed schema.</summary>
    private static async Task<WebApplication> StartRegistryAsync(ConcurrentQueue<string> requests)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            requests.Enqueue(context.Request.Method + " " + context.Request.Path + context.Request.QueryString);
            await next(context);
        });
        app.MapGet("/schemas/ids/{id:int}", (int id) => id switch
        {
            SchemaId => Results.Json(new { schema = SchemaJson, schemaType = "AVRO" }),
            SchemaV2Id => Results.Json(new { schema = SchemaV2Json, schemaType = "AVRO" }),
            FlatSchemaId => Results.Json(new { schema = FlatSchemaJson, schemaType = "AVRO" }),
            _ => Results.Json(new { error_code = 40403, message = "Schema not found" }, statusCode: 404),
        });
        await app.StartAsync();
        return app;
    }
}
