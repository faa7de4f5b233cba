using System.Buffers;
using System.Text;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Encodes values taken from record content so that they stay inside one key segment, one-to-one: two
/// different values never share a segment, and Hive-style readers (Athena, Trino, DuckDB with
/// <c>hive_partitioning</c>) decode each back to the original.
/// </summary>
/// <remarks>
/// Letters, digits and <c>- _ . ~</c> are kept (as in RFC 3986's unreserved set, plus non-ASCII
/// letters and digits); every other character, including <c>/</c>, <c>=</c>, <c>%</c>, spaces and control
/// characters, is written as <c>%XX</c> per UTF-8 byte, the way Hive escapes partition values. The values
/// <c>.</c> and <c>..</c> are written as <c>%2E</c> and <c>%2E%2E</c> and the empty string as <c>__EMPTY__</c>
/// so that no segment can be a relative path; a value that is itself <c>__EMPTY__</c> has its first character
/// escaped (<c>%5F_EMPTY__</c>). A string with a lone UTF-16 surrogate has no UTF-8 form and is refused.
/// </remarks>
public static class S3KeyEncoding
{
    /// <summary>The segment written for an empty value.</summary>
    public const string EmptyValue = "__EMPTY__";

    /// <summary>What Hive readers read as NULL (a partition value of this, or of <c>null</c> in any case).</summary>
    internal const string HiveNull = "__HIVE_DEFAULT_PARTITION__";

    /// <summary>Encodes one value for use as a whole key segment.</summary>
    /// <param name="value">The raw value.</param>
    /// <returns>The encoded value.</returns>
    /// <exception cref="ArgumentException">The value holds a lone UTF-16 surrogate.</exception>
    public static string EncodeSegment(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return EmptyValue;
        }

        return TryEncode(value, escapeFirst: value == EmptyValue, out var encoded)
            ? encoded
            : throw new ArgumentException("The value holds a lone UTF-16 surrogate, which has no UTF-8 form for a key.", nameof(value));
    }

    /// <summary>
    /// Encodes the value part of <c>name=value</c>: the empty string stays empty (readers read <c>""</c>); a
    /// value a reader would take for NULL or for the part's null marker gets its first character escaped. False
    /// for a lone surrogate.
    /// </summary>
    internal static bool TryEncodeValue(string value, string? nullMarker, out string encoded)
    {
        if (value.Length == 0)
        {
            encoded = string.Empty;
            return true;
        }

        var reserved = value == HiveNull || value == EmptyValue || value.Equals("null", StringComparison.OrdinalIgnoreCase) || value == nullMarker;
        return TryEncode(value, reserved, out encoded);
    }

    /// <summary>The segment value of a part's null marker (e.g. <c>__HIVE_DEFAULT_PARTITION__</c>, read as NULL), encoded but not escaped.</summary>
    internal static string EncodeNullMarker(string marker)
        => marker.Length > 0 && TryEncode(marker, escapeFirst: false, out var encoded) ? encoded : throw new ArgumentException("A null marker must be a non-empty string without lone surrogates.", nameof(marker));

    private static bool TryEncode(string value, bool escapeFirst, out string encoded)
    {
        if (value is "." or "..")
        {
            encoded = value.Length == 1 ? "%2E" : "%2E%2E";
            return true;
        }

        if (!escapeFirst && !NeedsEncoding(value))
        {
            encoded = value;
            return true;
        }

        var sb = new StringBuilder(value.Length + 16);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = escapeFirst && i == 0;
            if (!escape && IsSafe(c))
            {
                sb.Append(c);
                continue;
            }

            int count;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                if (!escape && char.IsLetterOrDigit(value, i))
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
                // A lone surrogate: any replacement would collide with a real character.
                encoded = string.Empty;
                return false;
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

        encoded = sb.ToString();
        return true;
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
