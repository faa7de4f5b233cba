using System.Globalization;
using Avro;
using Avro.Generic;
using Avro.IO;
using DuckDB.NET.Data;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;

namespace KafkaS3Sink.Tests.Formats;

/// <summary>The Avro types that have no direct Parquet column come out as JSON text; DuckDB reads the file.</summary>
public sealed class AvroParquetTests : IDisposable
{
    private const string SchemaJson = """
        {"type":"record","name":"Edge","fields":[
          {"name":"id","type":"int"},
          {"name":"either","type":["null","string","long"]},
          {"name":"grid","type":{"type":"array","items":{"type":"array","items":"int"}}},
          {"name":"people","type":{"type":"map","values":{"type":"record","name":"P","fields":[{"name":"age","type":"int"}]}}},
          {"name":"maybeTags","type":["null",{"type":"array","items":["null","string"]}]},
          {"name":"hash","type":{"type":"fixed","name":"H","size":2}},
          {"name":"ref","type":{"type":"string","logicalType":"uuid"}},
          {"name":"at","type":{"type":"int","logicalType":"time-millis"}},
          {"name":"nested","type":["null",{"type":"record","name":"N","fields":[{"name":"label","type":["null","string"]}]}]}
        ]}
        """;

    private readonly string file = Path.Combine(Path.GetTempPath(), "kafkas3sink-avroparquet-" + Guid.NewGuid().ToString("N") + ".parquet");

    [Fact]
    public void WriterSchema_TypesWithoutAParquetColumn_AreJsonText_OthersTyped()
    {
        var schema = (RecordSchema)Schema.Parse(SchemaJson);
        using var buffer = new MemorySegmentBuffer();
        var open = buffer.Open(new SegmentDescriptor("t", 0, "p", 0));
        var writer = new GenericDatumWriter<GenericRecord>(schema);
        for (var i = 0; i < 3; i++)
        {
            var n = new GenericRecord((RecordSchema)((UnionSchema)schema["nested"].Schema).Schemas[1]);
            n.Add("label", i == 1 ? null : $"l{i}");
            var p = new GenericRecord((RecordSchema)((MapSchema)schema["people"].Schema).ValueSchema);
            p.Add("age", 30 + i);
            var r = new GenericRecord(schema);
            r.Add("id", i);
            r.Add("either", i switch { 0 => "text", 1 => 42L, _ => null });
            r.Add("grid", new object[] { new object[] { i, 1 }, new object[] { 2 } });
            r.Add("people", new Dictionary<string, object> { ["ann"] = p });
            r.Add("maybeTags", i == 2 ? null : new object?[] { "x", null });
            r.Add("hash", new GenericFixed((FixedSchema)schema["hash"].Schema, [0xAB, (byte)i]));
            r.Add("ref", Guid.Parse($"00000000-0000-0000-0000-00000000000{i}"));
            r.Add("at", TimeSpan.FromMilliseconds(1000 + i));
            r.Add("nested", i == 2 ? null : n);
            using var datum = new MemoryStream();
            writer.Write(r, new BinaryEncoder(datum));
            open.Append(i, datum.ToArray());
        }

        var segment = open.Seal();
        using (var output = new FileStream(file, FileMode.Create, FileAccess.ReadWrite))
        {
            new ParquetFormat(OutputCompression.Zstd).Write(segment, SchemaJson, output);
        }

        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{file}'))";
        var types = new Dictionary<string, string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }

        types.Should().Equal(new Dictionary<string, string>
        {
            ["id"] = "INTEGER",
            ["either"] = "VARCHAR",
            ["grid"] = "VARCHAR[]",
            ["people"] = "MAP(VARCHAR, VARCHAR)",
            ["maybeTags"] = "VARCHAR[]",
            ["hash"] = "BLOB",
            ["ref"] = "VARCHAR",
            ["at"] = "VARCHAR",
            ["nested"] = "STRUCT(\"label\" VARCHAR)",
        });

        command.CommandText = $"SELECT id, either, CAST(grid AS VARCHAR), people['ann'], CAST(maybeTags AS VARCHAR), hex(hash), \"ref\", \"at\", nested.\"label\" FROM read_parquet('{file}') ORDER BY id";
        var rows = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(c => reader.IsDBNull(c) ? "NULL" : Convert.ToString(reader.GetValue(c), CultureInfo.InvariantCulture))));
            }
        }

        rows.Should().Equal(
            "0 | text | ['[0,1]', '[2]'] | {\"age\":30} | [x, NULL] | AB00 | 00000000-0000-0000-0000-000000000000 | 00:00:01 | l0",
            "1 | 42 | ['[1,1]', '[2]'] | {\"age\":31} | [x, NULL] | AB01 | 00000000-0000-0000-0000-000000000001 | 00:00:01.0010000 | NULL",
            "2 | NULL | ['[2,1]', '[2]'] | {\"age\":32} | NULL | AB02 | 00000000-0000-0000-0000-000000000002 | 00:00:01.0020000 | NULL");
    }

    public void Dispose() => File.Delete(file);
}
