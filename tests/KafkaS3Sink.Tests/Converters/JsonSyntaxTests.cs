using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using KafkaS3Sink.Converters;

namespace KafkaS3Sink.Tests.Converters;

/// <summary>
/// The lean validity pass against <see cref="Utf8JsonReader"/> (the oracle, with the converter's options): whatever the
/// pass accepts, the reader must accept; what it rejects goes to the reader anyway, so a rejection only costs time,
/// and the typical documents must be accepted by the pass itself (or it saves nothing).
/// </summary>
public sealed class JsonSyntaxTests
{
    private static readonly JsonReaderOptions Options = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 256 };

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData(" { \"a\" : [ 1 , -2.5e+3 , 0 , -0.0E7 , true , false , null , \"x\" ] , \"b\" : { } }\t ")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("-0")]
    [InlineData("null")]
    [InlineData("{\"esc\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u0000\"}")]
    [InlineData("{\"id\":17,\"shard\":\"s3\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}")]
    [InlineData("{\"nested\":[[[[{\"deep\":[{}]}]]]],\"ünïcödé\":\"日本語\"}")]
    public void IsDocument_ValidJson_DecidedByThePassItself(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        JsonSyntax.IsDocument(bytes, out var lineBreak).Should().BeTrue();
        lineBreak.Should().BeFalse();
        ReaderAccepts(bytes).Should().BeTrue("the oracle agrees that this is JSON");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{")]
    [InlineData("{\"a\":1")]
    [InlineData("{\"a\" 1}")]
    [InlineData("{\"a\":}")]
    [InlineData("{a:1}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,]")]
    [InlineData("[,1]")]
    [InlineData("[1 2]")]
    [InlineData("{\"a\":1]")]
    [InlineData("[1}")]
    [InlineData("{} {}")]
    [InlineData("1 2")]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("+1")]
    [InlineData("-")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("tru")]
    [InlineData("truex")]
    [InlineData("nul")]
    [InlineData("\"unterminated")]
    [InlineData("\"bad escape \\x\"")]
    [InlineData("\"short unicode \\u12\"")]
    [InlineData("\"not hex \\u12G4\"")]
    [InlineData("\"signed \\u+123\"")]
    [InlineData("\"spaced \\u 123\"")]
    [InlineData("\"prefixed \\u0x12\"")]
    [InlineData("\"raw\ttab\"")]
    [InlineData("\"raw\nnewline\"")]
    [InlineData("{\"a\":1}/* comment */")]
    [InlineData("[1,2]]")]
    [InlineData("NaN")]
    public void IsDocument_InvalidJson_Rejected(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        JsonSyntax.IsDocument(bytes, out _).Should().BeFalse();
        ReaderAccepts(bytes).Should().BeFalse("the oracle rejects it too");
    }

    [Theory]
    [InlineData("{\"a\":\"\\ud83d\\ude00\"}")] // an escaped surrogate pair: valid, left to the reader
    [InlineData("\uFEFF{}")] // a byte-order mark
    public void IsDocument_CasesLeftToTheReader_NotAccepted(string json)
        => JsonSyntax.IsDocument(Encoding.UTF8.GetBytes(json), out _).Should().BeFalse();

    [Fact]
    public void IsDocument_NestingBeyondItsLimit_LeftToTheReader()
    {
        var deep = Encoding.UTF8.GetBytes(new string('[', 65) + new string(']', 65));
        var shallow = Encoding.UTF8.GetBytes(new string('[', 64) + new string(']', 64));

        JsonSyntax.IsDocument(deep, out _).Should().BeFalse();
        JsonSyntax.IsDocument(shallow, out _).Should().BeTrue();
        ReaderAccepts(deep).Should().BeTrue();
    }

    [Fact]
    public void IsDocument_LineBreaksBetweenTokens_Reported()
    {
        JsonSyntax.IsDocument("{\n  \"a\": 1\r\n}"u8, out var lineBreak).Should().BeTrue();
        lineBreak.Should().BeTrue();
    }

    /// <summary>
    /// Random documents with random whitespace, then one to three byte mutations each (deleted, inserted or replaced
    /// by JSON's structural characters, digits, letters, escapes and a non-ASCII byte): wherever the pass says
    /// "document", the reader must too; every unmutated document must be accepted by the pass.
    /// </summary>
    [Fact]
    public void IsDocument_RandomDocumentsAndMutations_NeverAcceptsWhatTheReaderRejects()
    {
        var random = new Random(20261205);
        var alphabet = "{}[]\":,.-+eE0123456789 \t\n\\utrfnalsx/"u8.ToArray().Append((byte)0xC3).Append((byte)0x01).ToArray();
        int accepted = 0, rejectedByBoth = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var text = new StringBuilder();
            WriteValue(text, random, depth: 0);
            var document = Encoding.UTF8.GetBytes(text.ToString());
            var isDocument = JsonSyntax.IsDocument(document, out var lineBreak);
            isDocument.Should().BeTrue($"a generated document: {text}");
            lineBreak.Should().Be(document.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') >= 0);
            ReaderAccepts(document).Should().BeTrue();

            var mutated = document.ToList();
            for (var m = random.Next(1, 4); m > 0; m--)
            {
                var at = random.Next(mutated.Count + 1);
                switch (random.Next(3))
                {
                    case 0 when at < mutated.Count:
                        mutated.RemoveAt(at);
                        break;
                    case 1 when at < mutated.Count:
                        mutated[at] = alphabet[random.Next(alphabet.Length)];
                        break;
                    default:
                        mutated.Insert(at, alphabet[random.Next(alphabet.Length)]);
                        break;
                }
            }

            var bytes = mutated.ToArray();
            var utf8 = Utf8.IsValid(bytes); // the converter checks UTF-8 before the pass
            if (utf8 && JsonSyntax.IsDocument(bytes, out _))
            {
                ReaderAccepts(bytes).Should().BeTrue($"the pass accepted {Encoding.UTF8.GetString(bytes)}");
                accepted++;
            }
            else if (!ReaderAccepts(bytes))
            {
                rejectedByBoth++;
            }
        }

        // The mutations exercise both sides: some still documents, most not.
        accepted.Should().BeGreaterThan(500);
        rejectedByBoth.Should().BeGreaterThan(10_000);
    }

    private static bool ReaderAccepts(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json, Options);
            reader.Read();
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static void WriteValue(StringBuilder text, Random random, int depth)
    {
        Whitespace(text, random);
        var kind = random.Next(depth > 5 ? 5 : 8);
        switch (kind)
        {
            case 0:
                text.Append(random.Next(3) switch { 0 => "true", 1 => "false", _ => "null" });
                break;
            case 1 or 2:
                text.Append(random.Next(4) switch
                {
                    0 => random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    1 => (random.NextDouble() * 1e6 - 5e5).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    2 => random.Next(1, 9) + "e" + (random.Next(2) == 0 ? "-" : "+") + random.Next(1, 300),
                    _ => "0." + random.Next(0, 100000),
                });
                break;
            case 3 or 4:
                WriteString(text, random);
                break;
            default:
                var isObject = kind < 7; // 5 or 6: an object, 7: an array
                text.Append(isObject ? '{' : '[');
                for (var n = random.Next(4); n > 0; n--)
                {
                    if (isObject)
                    {
                        Whitespace(text, random);
                        WriteString(text, random);
                        Whitespace(text, random);
                        text.Append(':');
                    }

                    WriteValue(text, random, depth + 1);
                    Whitespace(text, random);
                    text.Append(n > 1 ? "," : string.Empty);
                }

                Whitespace(text, random);
                text.Append(isObject ? '}' : ']');
                break;
        }

        Whitespace(text, random);
    }

    private static void WriteString(StringBuilder text, Random random)
    {
        text.Append('"');
        for (var n = random.Next(12); n > 0; n--)
        {
            text.Append(random.Next(10) switch
            {
                0 => "\\n",
                1 => "\\\"",
                2 => "\\u00" + random.Next(16, 255).ToString("x2", System.Globalization.CultureInfo.InvariantCulture),
                3 => "é",
                4 => "\\\\",
                _ => ((char)random.Next('a', 'z' + 1)).ToString(),
            });
        }

        text.Append('"');
    }

    private static void Whitespace(StringBuilder text, Random random)
    {
        switch (random.Next(8))
        {
            case 0:
                text.Append(' ');
                break;
            case 1:
                text.Append("\n\t");
                break;
            case 2:
                text.Append("\r\n ");
                break;
        }
    }
}
