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
public sealed class SchemaRegistryTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
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

    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-sr-" + Guid.NewGuid().ToString("N"));
    private readonly ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.AddProvider(new XunitLoggerProvider(output)).SetMinimumLevel(LogLevel.Information));

    [Fact]
    public async Task AvroWireFormat_SchemaFromRegistry_WrittenAsJsonAndPartitionedByNestedField()
    {
        var requests = new ConcurrentQueue<string>();
        await using var registry = await StartRegistryAsync(requests);
        var registryUrl = registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        var topic = "avro-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("avro");
        var schema = (RecordSchema)Schema.Parse(SchemaJson);
        const int count = 400;
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = servers.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < count; i++)
            {
                producer.Produce(new TopicPartition(topic, i % 2), new Message<Null, byte[]> { Value = Encode(schema, i) });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        using var converter = new SchemaRegistryAvroConverter(registryUrl);
        using (var sink = new KafkaS3SinkBuilder()
            .Configure(o =>
            {
                o.Name = topic + "-sink";
                o.BootstrapServers = servers.Kafka.BootstrapServers;
                o.GroupId = topic + "-sink";
                o.Topics.Add(topic);
                o.FlushSize = 100;
                o.Staging.Directory = staging;
                servers.S3.Configure(o.S3, bucket);
            })
            .UseConverter(converter)
            .UsePartitioner(p => p.Field("customer.region"))
            .UseLoggerFactory(loggerFactory)
            .Build())
        {
            await SinkTestKit.RunToEndAsync(sink, servers.Kafka, topic + "-sink", topic, 2, TimeSpan.FromMinutes(2));
        }

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

    public void Dispose()
    {
        loggerFactory.Dispose();
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private static byte[] Encode(RecordSchema schema, int i)
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
        using var stream = new MemoryStream();
        stream.WriteByte(0);
        Span<byte> id = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(id, SchemaId);
        stream.Write(id);
        new GenericDatumWriter<GenericRecord>(schema).Write(order, new BinaryEncoder(stream));
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
        app.MapGet("/schemas/ids/{id:int}", (int id) => id == SchemaId
            ? Results.Json(new { schema = SchemaJson, schemaType = "AVRO" })
            : Results.Json(new { error_code = 40403, message = "Schema not found" }, statusCode: 404));
        await app.StartAsync();
        return app;
    }
}
