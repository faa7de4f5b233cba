using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Avro;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Parquet from a flat writer schema: the typed-column path (no generic records), end to end.</summary>
public sealed partial class SchemaRegistryTests
{
    private const int FlatSchemaId = 44;

    /// <summary>A record of flat fields only (what most registry schemas are), with nulls, logical types and a uuid.</summary>
    private const string FlatSchemaJson = """
        {"type":"record","name":"Reading","namespace":"iot","fields":[
          {"name":"id","type":"long"},
          {"name":"device","type":"string"},
          {"name":"level","type":{"type":"enum","name":"Level","symbols":["LOW","HIGH"]}},
          {"name":"value","type":["null","double"]},
          {"name":"raw","type":["null","bytes"]},
          {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},
          {"name":"local","type":{"type":"long","logicalType":"local-timestamp-millis"}},
          {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":3}},
          {"name":"ref","type":["null",{"type":"string","logicalType":"uuid"}]}
        ]}
        """;

    /// <summary>
    /// Through Kafka and S3: DuckDB reads every record once, with typed columns (BIGINT, DOUBLE, BLOB, TIMESTAMP WITH
    /// TIME ZONE, TIMESTAMP, DECIMAL) and every value, a null <c>bytes</c> value told from an empty one.
    /// </summary>
    [Fact]
    public async Task ParquetOutput_FlatWriterSchema_TypedColumns_DuckDbReadsEveryValue()
    {
        const int count = 300;
        await using var registry = await StartRegistryAsync(new ConcurrentQueue<string>());
        var registryUrl = registry.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        // The datums are written from base-type values (the same bytes as the logical values), so that what is
        // expected below is computed from numbers, not from Apache.Avro's conversions.
        var raw = (RecordSchema)Schema.Parse(FlatSchemaJson.Replace("\"logicalType\"", "\"rawLogicalType\"", StringComparison.Ordinal));
        var bucket = await ProduceAndSinkAsync(
            "flat",
            2,
            count,
            i => new Message<byte[]?, byte[]> { Value = EncodeFlat(raw, i) },
            registryUrl,
            o =>
            {
                o.FlushSize = 50;
                o.Format = OutputFormat.Parquet;
                o.Compression = OutputCompression.Snappy;
            },
            byRegion: false);

        var root = Path.Combine(staging, "download");
        var keys = await SinkTestKit.DownloadAllAsync(servers.S3, bucket, root);
        keys.Should().HaveCount(count / 50).And.OnlyContain(k => k.EndsWith(".snappy.parquet", StringComparison.Ordinal));
        var files = string.Join(",", keys.Select(k => $"'{Path.Combine(root, k)}'"));

        using var duck = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM read_parquet([{files}], hive_partitioning = false))";
        command.ExecuteScalar().Should().Be(
            "id BIGINT, device VARCHAR, level VARCHAR, value DOUBLE, raw BLOB, at TIMESTAMP WITH TIME ZONE, local TIMESTAMP, price DECIMAL(9,3), ref VARCHAR");

        command.CommandText = $"""
            SELECT id, device, level, "value", "raw" IS NULL, hex("raw"), epoch_ms("at"), epoch_ms("local"), CAST(price AS VARCHAR), "ref"
            FROM read_parquet([{files}], hive_partitioning = false) ORDER BY id
            """;
        var ids = new List<long>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var i = (int)reader.GetInt64(0);
                ids.Add(i);
                reader.GetString(1).Should().Be($"d{i % 7}");
                reader.GetString(2).Should().Be(i % 2 == 0 ? "LOW" : "HIGH");
                (reader.IsDBNull(3) ? (double?)null : reader.GetDouble(3)).Should().Be(i % 4 == 0 ? null : i * 0.5);
                reader.GetBoolean(4).Should().Be(i % 3 == 0, "record {0}'s raw is null only where it was produced null", i);
                if (i % 3 != 0)
                {
                    reader.GetString(5).Should().Be(i % 3 == 1 ? string.Empty : $"{(byte)i:X2}AB");
                }

                reader.GetInt64(6).Should().Be(FlatMillis + (i * 1001L));
                reader.GetInt64(7).Should().Be(FlatMillis + (i * 1000L), "a local timestamp keeps its wall-clock value");
                reader.GetString(8).Should().Be(((decimal)((i * 1001) - 5000) / 1000m).ToString("F3", CultureInfo.InvariantCulture));
                (reader.IsDBNull(9) ? null : reader.GetString(9)).Should().Be(i % 5 == 0 ? null : FlatUuid(i).ToLowerInvariant());
            }
        }

        ids.Should().Equal(Enumerable.Range(0, count).Select(i => (long)i), "every record once");
    }

    private const long FlatMillis = 1_764_230_400_000L;

    private static string FlatUuid(int i) => $"0000ABCD-0000-0000-0000-{i:D12}";

    private static byte[] EncodeFlat(RecordSchema raw, int i) => WireFormat(FlatSchemaId, stream =>
    {
        var r = new GenericRecord(raw);
        r.Add("id", (long)i);
        r.Add("device", $"d{i % 7}");
        r.Add("level", new GenericEnum((EnumSchema)raw["level"].Schema, i % 2 == 0 ? "LOW" : "HIGH"));
        r.Add("value", i % 4 == 0 ? null : i * 0.5);
        r.Add("raw", (i % 3) switch { 0 => null, 1 => Array.Empty<byte>(), _ => new byte[] { (byte)i, 0xAB } });
        r.Add("at", FlatMillis + (i * 1001L));
        r.Add("local", FlatMillis + (i * 1000L));
        r.Add("price", new BigInteger((i * 1001) - 5000).ToByteArray(isUnsigned: false, isBigEndian: true));
        r.Add("ref", i % 5 == 0 ? null : FlatUuid(i));
        new GenericDatumWriter<GenericRecord>(raw).Write(r, new BinaryEncoder(stream));
    });
}
