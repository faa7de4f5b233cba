using System.Globalization;
using System.Text.Json;
using DuckDB.NET.Data;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Independent readers for objects written with <c>WriteEnvelope</c>, and the comparison of what they read.</summary>
public static class RoundTrip
{
    /// <summary>
    /// Compares a value read back with what is expected. JSON lines give JSON text; Parquet and Avro give a
    /// string column holding strings unquoted and objects or arrays as JSON text (docs/formats.md).
    /// </summary>
    public static void AssertSame(object? actual, JsonElement expected, string what)
    {
        JsonElement read = actual switch
        {
            null or DBNull => SinkTestKit.Json("null"),
            string s when s.Length > 0 && s[0] is '{' or '[' or '"' || s == "null" => SinkTestKit.Json(s),
            string s => SinkTestKit.Json(JsonSerializer.Serialize(s)),
            _ => throw new InvalidOperationException($"{what}: unexpected {actual.GetType()}"),
        };
        JsonElement.DeepEquals(read, expected).Should().BeTrue($"{what}: read {read.GetRawText()}, expected {expected.GetRawText()}");
    }

    /// <summary>Offset, key, headers and value of every record of the downloaded JSON lines (<c>json</c>, <c>json.gz</c>) or Parquet objects, by DuckDB.</summary>
    public static List<(long Offset, object? Key, object? Headers, object? Value)> ReadWithDuckDb(string root, string format)
    {
        using var duck = new DuckDBConnection("Data Source=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = format == "parquet"
            ? $"SELECT \"offset\", key, headers, value FROM read_parquet('{root}/**/*.parquet') ORDER BY \"offset\""
            : $"SELECT \"offset\", CAST(key AS VARCHAR), CAST(headers AS VARCHAR), CAST(value AS VARCHAR) FROM read_json('{root}/**/*.{format}', format = 'newline_delimited', columns = {{\"offset\": 'BIGINT', key: 'JSON', headers: 'JSON', value: 'JSON'}}) ORDER BY \"offset\"";
        var rows = new List<(long, object?, object?, object?)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetValue(1), reader.GetValue(2), reader.GetValue(3)));
        }

        return rows;
    }

    public static List<(long Offset, object? Key, object? Headers, object? Value)> ReadAvro(string root, List<string> keys)
    {
        var rows = new List<(long, object?, object?, object?)>();
        foreach (var key in keys)
        {
            using var reader = Avro.File.DataFileReader<Avro.Generic.GenericRecord>.OpenReader(Path.Combine(root, key));
            foreach (var record in reader.NextEntries)
            {
                record.TryGetValue("key", out var k);
                rows.Add((Convert.ToInt64(record["offset"], CultureInfo.InvariantCulture), k, record["headers"], record["value"]));
            }
        }

        return [.. rows.OrderBy(r => r.Item1)];
    }
}
