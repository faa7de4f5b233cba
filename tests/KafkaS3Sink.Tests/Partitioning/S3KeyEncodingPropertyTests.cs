using System.Text;
using DuckDB.NET.Data;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Partitioning;

/// <summary>
/// The key encoding is one-to-one and readable: over random strings from every Unicode plane, with control
/// characters, '%', '/', '=', the markers and the words Hive readers take for NULL, no two distinct values share
/// a segment, and DuckDB (hive_partitioning) reads each value back as it was.
/// </summary>
[Trait("Category", "Partitioning")]
public sealed class S3KeyEncodingPropertyTests
{
    private const string Marker = "__HIVE_DEFAULT_PARTITION__";

    private static readonly string[] Special =
    [
        string.Empty, "__EMPTY__", "%5F_EMPTY__", Marker, "null", "NULL", "Null", ".", "..", "%", "%25", "/", "=", "a=b", "a/b", "\uFFFD",
        "\u0000", "\t", "\n", "~", "-", "_", " ", "+", "%2E", "ü", "😀", "\U0001F600x", "\U00010000", "\U0010FFFD", "日本", "a%2Fb",
    ];

    [Fact]
    public void EncodedValues_AreOneToOne_OverRandomStrings()
    {
        var random = new Random(20261202);
        var values = new HashSet<string>(Special, StringComparer.Ordinal);
        while (values.Count < 50_000)
        {
            values.Add(RandomString(random, random.Next(0, 12)));
        }

        var segments = new Dictionary<string, string>(StringComparer.Ordinal);
        var values2 = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            var segment = S3KeyEncoding.EncodeSegment(value);
            segments.TryAdd(segment, value).Should().BeTrue($"'{Escape(value)}' and '{Escape(segments.GetValueOrDefault(segment) ?? string.Empty)}' both give segment '{segment}'");
            segment.Should().NotContain("/").And.NotBe(".").And.NotBe("..").And.NotBeEmpty();
            segment.Any(char.IsControl).Should().BeFalse();

            S3KeyEncoding.TryEncodeValue(value, Marker, out var encoded).Should().BeTrue();
            values2.TryAdd(encoded, value).Should().BeTrue($"'{Escape(value)}' and '{Escape(values2.GetValueOrDefault(encoded) ?? string.Empty)}' both give value '{encoded}'");
            encoded.Should().NotBe(S3KeyEncoding.EncodeNullMarker(Marker), "only a null is written as the null marker");
        }
    }

    [Theory]
    [InlineData("", 0xD800, "")]
    [InlineData("a", 0xDC00, "b")]
    [InlineData("", 0xDBFF, "x")]
    public void LoneSurrogates_AreRefused_NotReplaced(string before, int surrogate, string after)
    {
        var value = before + (char)surrogate + after;
        var act = () => S3KeyEncoding.EncodeSegment(value);
        act.Should().Throw<ArgumentException>().WithMessage("*lone UTF-16 surrogate*");
        S3KeyEncoding.TryEncodeValue(value, null, out _).Should().BeFalse();
    }

    [Fact]
    public void DuckDbHivePartitioning_ReadsEachValueBack_AndTheNullMarkerAsNull()
    {
        var random = new Random(20261203);
        var values = new List<string?>(Special) { null };
        while (values.Count < 400)
        {
            values.Add(RandomString(random, random.Next(0, 10)));
        }

        var root = Path.Combine(Path.GetTempPath(), "kafkas3sink-hive-" + Guid.NewGuid().ToString("N"));
        try
        {
            for (var i = 0; i < values.Count; i++)
            {
                var segment = values[i] is { } v ? (S3KeyEncoding.TryEncodeValue(v, Marker, out var e) ? e : throw new InvalidOperationException()) : S3KeyEncoding.EncodeNullMarker(Marker);
                var directory = Path.Combine(root, $"i={i}", "v=" + segment);
                Directory.CreateDirectory(directory);
                File.WriteAllText(Path.Combine(directory, "part.json"), "{\"x\":1}\n");
            }

            using var duck = new DuckDBConnection("Data Source=:memory:");
            duck.Open();
            using var query = duck.CreateCommand();
            query.CommandText = $"SELECT i, v FROM read_json_auto('{root}/*/*/part.json', hive_partitioning = true, hive_types_autocast = false)";
            var read = new Dictionary<int, string?>();
            using (var reader = query.ExecuteReader())
            {
                while (reader.Read())
                {
                    read[int.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture)] = reader.IsDBNull(1) ? null : reader.GetString(1);
                }
            }

            read.Should().HaveCount(values.Count);
            for (var i = 0; i < values.Count; i++)
            {
                read[i].Should().Be(values[i], $"value {i} ('{Escape(values[i] ?? "(null)")}') is read back as it was");
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Code points from every plane (no lone surrogates), with the characters keys care about mixed in.</summary>
    private static string RandomString(Random random, int length)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    const string Punctuation = "%/=._-~ +\\\t\n\u0001\u007F\uFFFD";
                    sb.Append(Punctuation[random.Next(Punctuation.Length)]);
                    break;
                case 1:
                    sb.Append((char)random.Next(0x20, 0x7F));
                    break;
                case 2:
                    sb.Append(Special[random.Next(Special.Length)]);
                    break;
                default:
                    int codePoint;
                    do
                    {
                        codePoint = random.Next(4) switch
                        {
                            0 => random.Next(0x80, 0x800),
                            1 => random.Next(0x800, 0x10000),
                            2 => random.Next(0x10000, 0x20000),
                            _ => random.Next(0x20000, 0x110000),
                        };
                    }
                    while (codePoint is >= 0xD800 and <= 0xDFFF);

                    sb.Append(char.ConvertFromUtf32(codePoint));
                    break;
            }
        }

        return sb.ToString();
    }

    private static string Escape(string value) => string.Concat(value.Select(c => c < 0x20 || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c.ToString()));
}
