using System.Globalization;
using System.Numerics;
using Avro;
using Avro.Generic;
using Avro.IO;
using DuckDB.NET.Data;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;
using Parquet;

namespace KafkaS3Sink.Tests.Formats;

/// <summary>
/// Parquet from Avro datums of a flat record schema goes through <see cref="AvroColumns"/> (typed columns, no
/// generic records): DuckDB reads the same columns and values as from the generic path, and the values produced.
/// </summary>
public sealed class AvroColumnsTests : IDisposable
{
    private const int Rows = 25_001; // two full row groups and one of a single row

    /// <summary>Every flat type, required and nullable (the null branch first or second), with logical types.</summary>
    private const string SchemaJson = """
        {"type":"record","name":"Flat","fields":[
          {"name":"id","type":"long"},
          {"name":"b","type":"boolean"}, {"name":"nb","type":["null","boolean"]},
          {"name":"i","type":"int"}, {"name":"ni","type":["int","null"]},
          {"name":"f","type":"float"}, {"name":"nf","type":["null","float"]},
          {"name":"d","type":"double"}, {"name":"nd","type":["double","null"]},
          {"name":"s","type":"string"}, {"name":"ns","type":["null","string"]},
          {"name":"by","type":"bytes"}, {"name":"nby","type":["null","bytes"]},
          {"name":"e","type":{"type":"enum","name":"E","symbols":["RED","GREEN","BLUE"]}}, {"name":"ne","type":["null","E"]},
          {"name":"fx","type":{"type":"fixed","name":"F","size":3}}, {"name":"nfx","type":["null","F"]},
          {"name":"day","type":{"type":"int","logicalType":"date"}}, {"name":"nday","type":["null",{"type":"int","logicalType":"date"}]},
          {"name":"tms","type":{"type":"long","logicalType":"timestamp-millis"}}, {"name":"ntus","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
          {"name":"lms","type":{"type":"long","logicalType":"local-timestamp-millis"}}, {"name":"nlus","type":["null",{"type":"long","logicalType":"local-timestamp-micros"}]},
          {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
          {"name":"ndec","type":["null",{"type":"fixed","name":"G","size":8,"logicalType":"decimal","precision":18,"scale":4}]},
          {"name":"u","type":{"type":"string","logicalType":"uuid"}}, {"name":"nu","type":["null",{"type":"string","logicalType":"uuid"}]}
        ]}
        """;

    private readonly string flatFile = Temp("flat");
    private readonly string genericFile = Temp("generic");

    [Fact]
    public async Task FlatSchema_TypedColumns_ReadBackAsTheGenericPathWritesThem_AndAsProduced()
    {
        var schema = Schema.Parse(SchemaJson);
        using var buffer = new MemorySegmentBuffer();
        var segment = Datums(buffer);
        using (var probe = AvroColumns.TryCreate(schema, 10, AvroParquet.FieldFor))
        {
            probe.Should().NotBeNull("every field of this schema is flat");
        }

        using (var output = new FileStream(flatFile, FileMode.Create, FileAccess.ReadWrite))
        {
            new ParquetFormat(OutputCompression.Snappy).Write(segment, SchemaJson, output);
        }

        await using (var output = new FileStream(genericFile, FileMode.Create, FileAccess.ReadWrite))
        {
            await AvroParquet.WriteGenericAsync(segment, schema, output, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy });
        }

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        Query(duck, "SET TimeZone = 'UTC'; SELECT 'ok'");
        Query(duck, $"SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet('{flatFile}'))")
            .Should().Equal(Query(duck, $"SELECT column_name || ' ' || column_type FROM (DESCRIBE SELECT * FROM read_parquet('{genericFile}'))"));
        // The generic path writes a null binary value as an empty one (Parquet.Net's untyped serializer): compared
        // as null there; the check against the produced values below tells null from empty on the flat path.
        const string columns = "* REPLACE (nullif(nby, ''::BLOB) AS nby, nullif(nfx, ''::BLOB) AS nfx)";
        var flat = Query(duck, $"SELECT concat_ws(' | ', *COLUMNS({columns})) FROM (SELECT {columns} FROM read_parquet('{flatFile}')) ORDER BY id");
        var generic = Query(duck, $"SELECT concat_ws(' | ', *COLUMNS(*)) FROM (SELECT {columns} FROM read_parquet('{genericFile}')) ORDER BY id");
        flat.Should().HaveCount(Rows);
        flat.Should().Equal(generic, "the flat path writes what the generic path writes, row for row");

        // And what was produced, independently of either path (concat_ws leaves nulls out).
        var sql = $"""
            SELECT concat_ws(' | ', id, b, nb, i, ni, f, nf, d, nd, s, ns, hex("by"), hex(nby), e, ne, hex(fx), hex(nfx), "day", nday,
              tms, ntus, lms, nlus, "dec", ndec, u, nu)
            FROM read_parquet('{flatFile}') WHERE id IN (0, 1, 12346) ORDER BY id
            """;
        Query(duck, sql).Should().Equal(Expected(0), Expected(1), Expected(12_346));
    }

    /// <summary>A field the generic path writes as JSON text (a decimal of 30 digits) sends the whole schema there.</summary>
    [Fact]
    public void ADecimalWiderThan28Digits_TakesTheGenericPath_AsText()
    {
        const string schema = """
            {"type":"record","name":"W","fields":[{"name":"id","type":"long"},
              {"name":"big","type":{"type":"bytes","logicalType":"decimal","precision":30,"scale":2}}]}
            """;
        using (var columns = AvroColumns.TryCreate(Schema.Parse(schema), 10, AvroParquet.FieldFor))
        {
            columns.Should().BeNull("the generic path writes this decimal as a string");
        }

        using var buffer = new MemorySegmentBuffer();
        var open = buffer.Open(new SegmentDescriptor("t", 0, "p", 0));
        var raw = (RecordSchema)Schema.Parse(schema.Replace("\"logicalType\"", "\"rawLogicalType\"", StringComparison.Ordinal));
        var r = new GenericRecord(raw);
        r.Add("id", 7L);
        r.Add("big", BigInteger.Parse("123456789012345678901234567890", CultureInfo.InvariantCulture).ToByteArray(isUnsigned: false, isBigEndian: true));
        using var datum = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(raw).Write(r, new BinaryEncoder(datum));
        open.Append(0, datum.ToArray());
        var segment = open.Seal();
        using (var output = new FileStream(flatFile, FileMode.Create, FileAccess.ReadWrite))
        {
            new ParquetFormat(OutputCompression.None).Write(segment, schema, output);
        }

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        Query(duck, $"SELECT id || ' ' || big FROM read_parquet('{flatFile}')").Should().Equal("7 1234567890123456789012345678.90");
    }

    [Fact]
    public void ATruncatedDatum_FailsNamingWhatIsWrong()
    {
        using var buffer = new MemorySegmentBuffer();
        var open = buffer.Open(new SegmentDescriptor("t", 0, "p", 0));
        open.Append(0, [0x02, 0x06, (byte)'a']); // id 1, then a 3-byte string with 1 byte
        var segment = open.Seal();
        const string schema = """{"type":"record","name":"R","fields":[{"name":"id","type":"long"},{"name":"s","type":"string"}]}""";

        var write = () => new ParquetFormat(OutputCompression.None).Write(segment, schema, new MemoryStream());

        write.Should().Throw<InvalidDataException>().WithMessage("*Avro datum*ends early*");
    }

    public void Dispose()
    {
        File.Delete(flatFile);
        File.Delete(genericFile);
    }

    private static string Temp(string name) =>
        Path.Combine(Path.GetTempPath(), $"kafkas3sink-avrocolumns-{name}-{Guid.NewGuid():N}.parquet");

    /// <summary>The datums, written with the same layout minus the logical types, from raw values chosen here.</summary>
    private static ISealedSegment Datums(MemorySegmentBuffer buffer)
    {
        var raw = (RecordSchema)Schema.Parse(SchemaJson.Replace("\"logicalType\"", "\"rawLogicalType\"", StringComparison.Ordinal));
        var writer = new GenericDatumWriter<GenericRecord>(raw);
        var open = buffer.Open(new SegmentDescriptor("t", 0, "p", 0));
        var stream = new MemoryStream();
        for (var n = 0; n < Rows; n++)
        {
            var r = new GenericRecord(raw);
            var v = Values(n);
            foreach (var field in raw.Fields)
            {
                var value = v[field.Name];
                r.Add(field.Name, field.Name switch
                {
                    "e" or "ne" when value is string symbol => new GenericEnum((EnumSchema)Branch(field.Schema), symbol),
                    "fx" or "nfx" or "ndec" when value is byte[] fixedBytes => new GenericFixed((FixedSchema)Branch(field.Schema), fixedBytes),
                    _ => value,
                });
            }

            stream.SetLength(0);
            writer.Write(r, new BinaryEncoder(stream));
            open.Append(n, stream.ToArray());
        }

        return open.Seal();
    }

    private static Schema Branch(Schema schema) =>
        schema is UnionSchema u ? u.Schemas.First(s => s.Tag != Schema.Type.Null) : schema;

    /// <summary>The raw (base type) value of every field in row <paramref name="n"/>; every nullable field is null in some rows.</summary>
    private static Dictionary<string, object?> Values(int n)
    {
        bool Null(int k) => n % 7 == k;
        return new Dictionary<string, object?>
        {
            ["id"] = (long)n,
            ["b"] = n % 2 == 0,
            ["nb"] = Null(1) ? null : n % 3 == 0,
            ["i"] = n * (n % 2 == 0 ? 1 : -1),
            ["ni"] = Null(2) ? null : int.MaxValue - n,
            ["f"] = n / 4f,
            ["nf"] = Null(3) ? null : -n / 8f,
            ["d"] = n * 1.5,
            ["nd"] = Null(4) ? null : n / 3.0,
            ["s"] = $"text {n} — ünïcode ✓",
            ["ns"] = Null(5) ? null : new string('x', n % 50),
            ["by"] = new[] { (byte)n, (byte)(n >> 8) },
            ["nby"] = Null(6) ? null : Array.Empty<byte>(),
            ["e"] = new[] { "RED", "GREEN", "BLUE" }[n % 3],
            ["ne"] = Null(0) ? null : "BLUE",
            ["fx"] = new byte[] { 1, 2, (byte)n },
            ["nfx"] = Null(1) ? null : new byte[] { 9, 9, 9 },
            ["day"] = 20_000 + (n % 1000),
            ["nday"] = Null(2) ? null : -n,
            ["tms"] = 1_764_230_400_123L + n,
            ["ntus"] = Null(3) ? null : 1_764_230_400_123_456L - n,
            ["lms"] = 1_764_230_400_000L + (n * 1000L),
            ["nlus"] = Null(4) ? null : 86_400_000_001L + n,
            ["dec"] = new BigInteger(n % 2 == 0 ? n * 101 : -n * 101).ToByteArray(isUnsigned: false, isBigEndian: true),
            ["ndec"] = Null(5) ? null : Fixed8(new BigInteger(-123_456_789_012L + n)),
            ["u"] = n % 2 == 0 ? $"{{0000ABCD-0000-0000-0000-{n:D12}}}" : $"0000abcd-0000-0000-0000-{n:D12}",
            ["nu"] = Null(6) ? null : Guid.Empty.ToString(),
        };
    }

    /// <summary>A two's-complement big-endian value sign-extended to 8 bytes (a decimal's fixed of size 8).</summary>
    private static byte[] Fixed8(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: false, isBigEndian: true);
        var result = Enumerable.Repeat(value.Sign < 0 ? (byte)0xFF : (byte)0, 8 - bytes.Length).Concat(bytes).ToArray();
        return result;
    }

    /// <summary>Row <paramref name="n"/> as DuckDB prints it, computed from the raw values.</summary>
    private static string Expected(int n)
    {
        var v = Values(n);
        var epoch = new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        string? Hex(object? b) => b is byte[] bytes ? Convert.ToHexString(bytes) : null;
        string Time(DateTime t) => t.ToString(t.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture);
        string? Decimal(BigInteger? unscaled, int scale) =>
            unscaled is { } u ? ((decimal)u / (decimal)Math.Pow(10, scale)).ToString("F" + scale, CultureInfo.InvariantCulture) : null;
        string Real(string shortest) => shortest.Contains('.', StringComparison.Ordinal) ? shortest : shortest + ".0"; // DuckDB prints 3.0
        string? Text(object? x) => x switch
        {
            null => null,
            bool flag => flag ? "true" : "false",
            float single => Real(single.ToString(CultureInfo.InvariantCulture)),
            double number => Real(number.ToString(CultureInfo.InvariantCulture)),
            _ => Convert.ToString(x, CultureInfo.InvariantCulture),
        };
        var parts = new[]
        {
            Text(v["id"]), Text(v["b"]), Text(v["nb"]), Text(v["i"]), Text(v["ni"]), Text(v["f"]), Text(v["nf"]), Text(v["d"]), Text(v["nd"]),
            Text(v["s"]), Text(v["ns"]), Hex(v["by"]), Hex(v["nby"]), Text(v["e"]), Text(v["ne"]), Hex(v["fx"]), Hex(v["nfx"]),
            epoch.AddDays((int)v["day"]!).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            v["nday"] is int nday ? epoch.AddDays(nday).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : null,
            Time(epoch.AddTicks((long)v["tms"]! * TimeSpan.TicksPerMillisecond)) + "+00",
            v["ntus"] is long ntus ? Time(epoch.AddTicks(ntus * TimeSpan.TicksPerMicrosecond)) + "+00" : null,
            Time(epoch.AddTicks((long)v["lms"]! * TimeSpan.TicksPerMillisecond)),
            v["nlus"] is long nlus ? Time(epoch.AddTicks(nlus * TimeSpan.TicksPerMicrosecond)) : null,
            Decimal(new BigInteger((byte[])v["dec"]!, isUnsigned: false, isBigEndian: true), 2),
            v["ndec"] is byte[] ndec ? Decimal(new BigInteger(ndec, isUnsigned: false, isBigEndian: true), 4) : null,
            Guid.Parse((string)v["u"]!).ToString(),
            v["nu"] is string nu ? Guid.Parse(nu).ToString() : null,
        };
        return string.Join(" | ", parts.Where(p => p is not null));
    }

    private static List<string> Query(DuckDBConnection duck, string sql)
    {
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        var rows = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
