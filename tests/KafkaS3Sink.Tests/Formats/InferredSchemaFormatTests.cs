using System.Globalization;
using System.Text;
using System.Text.Json;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;
using Parquet;
using Parquet.Schema;

namespace KafkaS3Sink.Tests.Formats;

/// <summary>
/// Parquet and Avro with columns inferred from JSON records: every value read back from the file is what the rules
/// of <see cref="JsonSchemaInference"/> give, computed here from a <see cref="JsonDocument"/> of the record.
/// </summary>
public sealed class InferredSchemaFormatTests
{
    /// <summary>Every shape the rules name, over two and a half row groups (so a row group's values are cleared for the next).</summary>
    private static string Record(int i) => (i % 1_000) switch
    {
        7 => "[1, {\"x\" : 2}]",
        507 => "\"a string record\"",
        707 => "42",
        907 => "null",
        _ => string.Create(CultureInfo.InvariantCulture, $$"""
            {"id":{{i}},"n":{{(i % 7 == 0 ? $"{i}" : $"{i}.5")}},"s":"q\"uote\u00e9 {{i}}","nested":{ "a" : [1, {{i}}] },{{Mixed(i)}}"nul":null,
             "b":{{(i % 5 == 0 ? "null" : i % 2 == 0 ? "true" : "false")}},"\u0065sc":{{i % 3}},"dup":1,"dup":{{i}}{{(i % 4 == 0 ? "" : ",\"sometimes\":\"here\"")}}}
            """),
    };

    private static string Mixed(int i) => (i % 3) switch
    {
        0 => "\"mixed\":\"text\",",
        1 => "\"mixed\":5,",
        _ => i % 11 == 0 ? string.Empty : "\"mixed\":true,",
    };

    [Fact]
    public async Task InferredColumns_EveryValueAsTheRulesSay_AcrossRowGroups()
    {
        const int Records = 25_000;
        using var file = Write(new ParquetFormat(OutputCompression.Snappy), Records);
        await using var reader = await ParquetReader.CreateAsync(file);
        var fields = reader.Schema.GetDataFields();
        fields.Select(f => $"{f.Name}:{TypeOf(f)}").Should().Equal(
            "id:long", "n:double", "s:text", "nested:text", "mixed:text", "nul:text", "b:bool", "esc:long", "dup:long", "sometimes:text", "_value:text");
        var actual = fields.ToDictionary(f => f.Name, _ => new List<string>());
        reader.RowGroupCount.Should().Be(3, "row groups of at most 10,000 rows");
        for (var g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            foreach (var field in fields)
            {
                actual[field.Name].AddRange(await ReadAsync(group, field));
            }
        }

        foreach (var field in fields)
        {
            var expected = Enumerable.Range(0, Records).Select(i => Expected(Record(i), field.Name, TypeOf(field)));
            actual[field.Name].Should().Equal(expected, $"column '{field.Name}' holds every record's value");
        }
    }

    /// <summary>Avro with the schema inferred by the same rules: each record's fields, read back with Apache.Avro.</summary>
    [Fact]
    public void InferredAvro_EveryValueAsTheRulesSay()
    {
        const int Records = 3_000;
        using var file = Write(new AvroFormat(OutputCompression.None), Records);
        using var reader = Avro.File.DataFileReader<Avro.Generic.GenericRecord>.OpenReader(file);
        var schema = (Avro.RecordSchema)reader.GetSchema();
        var types = schema.Fields.ToDictionary(f => f.Name, f => ((Avro.UnionSchema)f.Schema).Schemas[1].Tag switch
        {
            Avro.Schema.Type.Boolean => "bool",
            Avro.Schema.Type.Long => "long",
            Avro.Schema.Type.Double => "double",
            _ => "text",
        });
        types.Select(t => $"{t.Key}:{t.Value}").Should().Equal(
            "id:long", "n:double", "s:text", "nested:text", "mixed:text", "nul:text", "b:bool", "esc:long", "dup:long", "sometimes:text", "_value:text");
        var read = 0;
        while (reader.HasNext())
        {
            var record = reader.Next();
            var json = Record(read++);
            foreach (var (name, type) in types)
            {
                var value = record[name] switch
                {
                    null => "NULL",
                    bool b => Render(b),
                    long l => Render(l),
                    double d => Render(d),
                    var other => (string)other,
                };
                value.Should().Be(Expected(json, name, type), $"field '{name}' of record {read - 1} ({json})");
            }
        }

        read.Should().Be(Records);
    }

    /// <summary>The first <paramref name="records"/> records of <see cref="Record"/>, staged and written in <paramref name="format"/>.</summary>
    private static MemoryStream Write(IObjectFormat format, int records)
    {
        using var buffer = new MemorySegmentBuffer();
        var open = buffer.Open(new SegmentDescriptor("t", 0, "p", 0));
        for (var i = 0; i < records; i++)
        {
            open.Append(i, Encoding.UTF8.GetBytes(Record(i)));
        }

        var segment = open.Seal();
        var file = new MemoryStream();
        format.Write(segment, null, file);
        segment.Delete();
        file.Position = 0;
        return file;
    }

    /// <summary>The rules, on a parsed record: absent or null is null; a string column holds a string unquoted and anything else as its JSON text.</summary>
    private static string Expected(string record, string name, string type)
    {
        using var document = JsonDocument.Parse(record);
        var root = document.RootElement;
        JsonElement? value = root.ValueKind != JsonValueKind.Object
            ? (name == JsonSchemaInference.ValueColumn ? root : null)
            : root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
        if (value is not { } e)
        {
            return "NULL";
        }

        return type == "bool" ? Render(e.GetBoolean())
            : type == "long" ? Render(e.GetInt64())
            : type == "double" ? Render(e.GetDouble())
            : e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
    }

    private static async Task<IEnumerable<string>> ReadAsync(ParquetRowGroupReader group, DataField field)
    {
        var rows = (int)group.RowCount;
        if (field.ClrType == typeof(bool))
        {
            var values = new bool?[rows];
            await group.ReadAsync<bool>(field, values.AsMemory());
            return values.Select(v => v is { } b ? Render(b) : "NULL");
        }

        if (field.ClrType == typeof(long))
        {
            var values = new long?[rows];
            await group.ReadAsync<long>(field, values.AsMemory());
            return values.Select(v => v is { } l ? Render(l) : "NULL");
        }

        if (field.ClrType == typeof(double))
        {
            var values = new double?[rows];
            await group.ReadAsync<double>(field, values.AsMemory());
            return values.Select(v => v is { } d ? Render(d) : "NULL");
        }

        var strings = new string?[rows];
        await group.ReadAsync(field, strings.AsMemory());
        return strings.Select(s => s ?? "NULL");
    }

    /// <summary>What the column holds (Parquet.Net reads strings as <c>ReadOnlyMemory&lt;char&gt;</c> fields).</summary>
    private static string TypeOf(DataField field) =>
        field.ClrType == typeof(bool) ? "bool" : field.ClrType == typeof(long) ? "long" : field.ClrType == typeof(double) ? "double" : "text";

    private static string Render(bool value) => value ? "true" : "false";

    private static string Render(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Render(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
