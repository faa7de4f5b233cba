using System.Buffers;
using System.Text;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Encodes values taken from record content so that they stay inside one key segment.
/// </summary>
/// <remarks>
/// Letters, digits and <c>- _ . ~</c> are kept (as in RFC 3986's unreserved set, plus non-ASCII
/// letters and digits); every other character, including <c>/</c>, <c>=</c>, <c>%</c>, spaces and control
/// characters, is written as <c>%XX</c> per UTF-8 byte, the way Hive escapes partition values. The values
/// <c>.</c> and <c>..</c> and the empty string are written as <c>%2E</c>, <c>%2E%2E</c> and
/// <c>__EMPTY__</c> so that no segment can be a relative path.
/// </remarks>
public static class S3KeyEncoding
{
    /// <summary>The segment written for an empty value.</summary>
    public const string EmptyValue = "__EMPTY__";

    /// <summary>Encodes one value for use as a key segment (or the value part of <c>name=value</c>).</summary>
    /// <param name="value">The raw value.</param>
    /// <returns>The encoded value.</returns>
    public static string EncodeSegment(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return EmptyValue;
        }

        if (value is "." or "..")
        {
            return value.Length == 1 ? "%2E" : "%2E%2E";
        }

        if (!NeedsEncoding(value))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsSafe(c))
            {
                sb.Append(c);
                continue;
            }

            int count;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                if (char.IsLetterOrDigit(value, i))
                {
                    sb.Append(c).Append(value[i + 1]);
                    i++;
                    continue;
                }

                count = Encoding.UTF8.GetBytes(value.AsSpan(i, 2), utf8);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                count = Encoding.UTF8.GetBytes("\uFFFD", utf8);
            }
            else
            {
                count = Encoding.UTF8.GetBytes(new ReadOnlySpan<char>(in c), utf8);
            }

            for (var b = 0; b < count; b++)
            {
                sb.Append('%').Append(HexUpper[utf8[b] >> 4]).Append(HexUpper[utf8[b] & 0xF]);
            }
        }

        return sb.ToString();
    }

    private const string HexUpper = "0123456789ABCDEF";

    private static readonly SearchValues<char> SafeAscii =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~");

    private static bool IsSafe(char c) => c < 128 ? SafeAscii.Contains(c) : (char.IsLetterOrDigit(c) && !char.IsSurrogate(c));

    private static bool NeedsEncoding(string value)
    {
        foreach (var c in value)
        {
            if (!IsSafe(c))
            {
                return true;
            }
        }

        return false;
    }
}
