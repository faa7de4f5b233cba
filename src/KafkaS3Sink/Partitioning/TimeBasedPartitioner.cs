using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Confluent's TimeBasedPartitioner: floors the record's time to <see cref="TimeBasedPartitionerOptions.PartitionDuration"/>
/// in the configured time zone and formats it with <see cref="TimeBasedPartitionerOptions.PathFormat"/>.
/// </summary>
internal sealed class TimeBasedPartitioner : IS3Partitioner, IValueReadingPartitioner
{
    private readonly PathFormat format;
    private readonly long durationMs;
    private readonly TimeZoneInfo zone;
    private readonly TimestampSource source;
    private readonly string[]? fieldPath;
    private readonly string? fieldName;
    private readonly TimeProvider time;
    private readonly EpochUnit unit;

    // Records arrive in time order most of the time: remember the last bucket's path.
    private long lastBucketStartUtcMs = long.MinValue;
    private long lastBucketEndUtcMs = long.MinValue;
    private string lastPath = string.Empty;

    // Formatted paths by floored local time: records that alternate between buckets allocate nothing.
    private readonly Dictionary<long, string> pathCache = [];

    public TimeBasedPartitioner(TimeBasedPartitionerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid time-based partitioner settings: " + string.Join(" ", errors), nameof(options));
        }

        format = PathFormat.Parse(options.PathFormat, ResolveCulture(options.Locale));
        durationMs = (long)options.PartitionDuration.TotalMilliseconds;
        zone = TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone);
        source = options.TimestampSource;
        fieldName = options.TimestampField;
        fieldPath = options.TimestampField?.Split('.');
        unit = options.TimestampUnit;
        this.time = time;
    }

    internal static List<string> Validate(TimeBasedPartitionerOptions options)
    {
        var errors = new List<string>();
        try
        {
            _ = PathFormat.Parse(options.PathFormat, CultureInfo.InvariantCulture);
        }
        catch (FormatException ex)
        {
            errors.Add($"PathFormat: {ex.Message}");
        }

        if (options.PartitionDuration < TimeSpan.FromMilliseconds(1))
        {
            errors.Add($"PartitionDuration: must be positive (was {options.PartitionDuration}).");
        }

        try
        {
            _ = TimeZoneInfo.FindSystemTimeZoneById(options.TimeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            errors.Add($"TimeZone: '{options.TimeZone}' is not a known IANA time zone.");
        }

        try
        {
            _ = ResolveCulture(options.Locale);
        }
        catch (CultureNotFoundException)
        {
            errors.Add($"Locale: '{options.Locale}' is not a known locale.");
        }

        if (options.TimestampSource == TimestampSource.RecordField && string.IsNullOrWhiteSpace(options.TimestampField))
        {
            errors.Add("TimestampField: required when TimestampSource is RecordField.");
        }

        return errors;
    }

    public bool ReadsValue => source == TimestampSource.RecordField;

    public string GetPartitionPath(SinkRecord record)
    {
        var utcMs = source switch
        {
            TimestampSource.Record => record.Source.Timestamp.ToUnixTimeMilliseconds(),
            TimestampSource.Wallclock => time.GetUtcNow().ToUnixTimeMilliseconds(),
            _ => ReadField(record),
        };

        if (utcMs >= lastBucketStartUtcMs && utcMs < lastBucketEndUtcMs)
        {
            return lastPath;
        }

        var utc = DateTimeOffset.FromUnixTimeMilliseconds(utcMs);
        var offsetMs = (long)zone.GetUtcOffset(utc).TotalMilliseconds;
        var localMs = utcMs + offsetMs;
        var flooredLocalMs = localMs - Mod(localMs, durationMs);
        if (!pathCache.TryGetValue(flooredLocalMs, out var path))
        {
            if (pathCache.Count >= 4096)
            {
                pathCache.Clear();
            }

            path = format.Format(new DateTime(DateTime.UnixEpoch.Ticks + (flooredLocalMs * TimeSpan.TicksPerMillisecond), DateTimeKind.Unspecified));
            pathCache[flooredLocalMs] = path;
        }

        // Cache only when the zone offset is the same over the whole bucket (not across a DST change).
        var startUtc = flooredLocalMs - offsetMs;
        var endUtc = startUtc + durationMs;
        if ((long)zone.GetUtcOffset(DateTimeOffset.FromUnixTimeMilliseconds(endUtc - 1)).TotalMilliseconds == offsetMs)
        {
            lastBucketStartUtcMs = startUtc;
            lastBucketEndUtcMs = endUtc;
            lastPath = path;
        }
        else
        {
            lastBucketStartUtcMs = lastBucketEndUtcMs = long.MinValue;
        }

        return path;
    }

    private static long Mod(long a, long b)
    {
        var m = a % b;
        return m < 0 ? m + b : m;
    }

    private long ReadField(SinkRecord record)
    {
        if (record.Value is not JsonElement element)
        {
            throw new RecordPartitioningException(record.Source, $"timestamp field '{fieldName}' needs a structured (JSON) value.");
        }

        foreach (var name in fieldPath!)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                throw new RecordPartitioningException(record.Source, $"timestamp field '{fieldName}' is missing.");
            }
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetDecimal(out var number):
                return FromEpoch(number);
            case JsonValueKind.String when TryParseRaw(element, out var fast):
                return fast;
            case JsonValueKind.String:
                var text = element.GetString()!;
                if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var numberText))
                {
                    return FromEpoch(numberText);
                }

                if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
                {
                    return parsed.ToUnixTimeMilliseconds();
                }

                throw new RecordPartitioningException(record.Source, $"timestamp field '{fieldName}' holds '{text}', which is neither ISO-8601 nor epoch {unit.ToString().ToLowerInvariant()}.");
            default:
                throw new RecordPartitioningException(record.Source, $"timestamp field '{fieldName}' is a JSON {element.ValueKind}, not a timestamp.");
        }
    }

    /// <summary>Parses ISO-8601 or epoch digits straight from the UTF-8 value, without allocating.</summary>
    private bool TryParseRaw(JsonElement element, out long utcMs)
    {
        utcMs = 0;
        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        if (raw.Length < 3 || raw.IndexOf((byte)'\\') >= 0)
        {
            return false;
        }

        var inner = raw[1..^1];
        var t = inner.IndexOf((byte)'T');
        if (t < 0)
        {
            if (System.Buffers.Text.Utf8Parser.TryParse(inner, out decimal number, out var consumed) && consumed == inner.Length)
            {
                utcMs = FromEpoch(number);
                return true;
            }

            return false;
        }

        var hasOffset = inner[^1] is (byte)'Z' or (byte)'z' || inner[t..].IndexOfAny((byte)'+', (byte)'-') >= 0;
        if (hasOffset && element.TryGetDateTimeOffset(out var dto))
        {
            utcMs = dto.ToUnixTimeMilliseconds();
            return true;
        }

        if (!hasOffset && element.TryGetDateTime(out var local))
        {
            utcMs = new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
            return true;
        }

        return false;
    }

    private long FromEpoch(decimal value) => unit == EpochUnit.Seconds ? (long)decimal.Floor(value * 1000m) : (long)decimal.Floor(value);

    private static CultureInfo ResolveCulture(string? locale)
        => string.IsNullOrWhiteSpace(locale) ? CultureInfo.InvariantCulture : CultureInfo.GetCultureInfo(locale.Replace('_', '-'));
}

/// <summary>A parsed Joda-style date pattern (the subset Confluent's path.format uses).</summary>
internal sealed class PathFormat
{
    private readonly List<(char Field, int Width, string? Literal)> parts;
    private readonly CultureInfo culture;

    private PathFormat(List<(char, int, string?)> parts, CultureInfo culture)
    {
        this.parts = parts;
        this.culture = culture;
    }

    public static PathFormat Parse(string pattern, CultureInfo culture)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            throw new FormatException("the pattern is empty.");
        }

        var parts = new List<(char, int, string?)>();
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (c == '\'')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= pattern.Length)
                    {
                        throw new FormatException($"unterminated quote in '{pattern}'.");
                    }

                    if (pattern[i] == '\'')
                    {
                        if (i + 1 < pattern.Length && pattern[i + 1] == '\'')
                        {
                            sb.Append('\'');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(pattern[i++]);
                }

                parts.Add(('\0', 0, sb.Length == 0 ? "'" : sb.ToString()));
            }
            else if (char.IsAsciiLetter(c))
            {
                var start = i;
                while (i < pattern.Length && pattern[i] == c)
                {
                    i++;
                }

                if ("YyMdHmsDE".IndexOf(c, StringComparison.Ordinal) < 0)
                {
                    throw new FormatException($"field '{c}' in '{pattern}' is not supported (use YYYY, MM, dd, HH, mm, ss, DDD, E or quoted literals).");
                }

                parts.Add((c, i - start, null));
            }
            else
            {
                if (c == '\\' || char.IsControl(c))
                {
                    throw new FormatException($"character U+{(int)c:X4} is not allowed in '{pattern}'.");
                }

                parts.Add(('\0', 0, c.ToString()));
                i++;
            }
        }

        return new PathFormat(parts, culture);
    }

    public string Format(DateTime local)
    {
        var sb = new StringBuilder(48);
        foreach (var (field, width, literal) in parts)
        {
            if (literal is not null)
            {
                sb.Append(literal);
                continue;
            }

            switch (field)
            {
                case 'Y' or 'y':
                    AppendNumber(sb, width == 2 ? local.Year % 100 : local.Year, width);
                    break;
                case 'M' when width >= 4:
                    sb.Append(S3KeyEncoding.EncodeSegment(culture.DateTimeFormat.GetMonthName(local.Month)));
                    break;
                case 'M' when width == 3:
                    sb.Append(S3KeyEncoding.EncodeSegment(culture.DateTimeFormat.GetAbbreviatedMonthName(local.Month)));
                    break;
                case 'M':
                    AppendNumber(sb, local.Month, width);
                    break;
                case 'd':
                    AppendNumber(sb, local.Day, width);
                    break;
                case 'H':
                    AppendNumber(sb, local.Hour, width);
                    break;
                case 'm':
                    AppendNumber(sb, local.Minute, width);
                    break;
                case 's':
                    AppendNumber(sb, local.Second, width);
                    break;
                case 'D':
                    AppendNumber(sb, local.DayOfYear, width);
                    break;
                case 'E':
                    var name = width >= 4 ? culture.DateTimeFormat.GetDayName(local.DayOfWeek) : culture.DateTimeFormat.GetAbbreviatedDayName(local.DayOfWeek);
                    sb.Append(S3KeyEncoding.EncodeSegment(name));
                    break;
            }
        }

        return sb.ToString();
    }

    private static void AppendNumber(StringBuilder sb, int value, int width)
        => sb.Append(value.ToString(new string('0', Math.Max(width, 1)), CultureInfo.InvariantCulture));
}
