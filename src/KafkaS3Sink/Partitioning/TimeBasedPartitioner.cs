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
    private CapturedField captured;
    private readonly string? fieldName;
    private readonly TimeProvider time;
    private readonly EpochUnit unit;

    // Records arrive in time order most of the time: remember the last bucket's path.
    private long lastBucketStartUtcMs = long.MinValue;
    private long lastBucketEndUtcMs = long.MinValue;
    private string lastPath = string.Empty;

    private const long MinMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    private const long MaxMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    // Formatted paths by bucket start (UTC): records that alternate between buckets allocate nothing.
    private readonly Dictionary<long, string> pathCache = [];

    public TimeBasedPartitioner(TimeBasedPartitionerOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid time-based partitioner settings: " + string.Join(" ", errors), nameof(options));
        }

        durationMs = (long)options.PartitionDuration.TotalMilliseconds;
        zone = TimeZones.Find(options.TimeZone);
        format = PathFormat.Parse(TrimTrailingDelimiter(options.PathFormat), options.Locale, options.JavaLocale, zone);
        source = options.TimestampSource;
        fieldName = options.TimestampField;
        fieldPath = options.TimestampField?.Split('.');
        captured = new CapturedField(fieldPath ?? []);
        unit = options.TimestampUnit;
        this.time = time;
    }

    internal static List<string> Validate(TimeBasedPartitionerOptions options)
    {
        var errors = new List<string>();
        try
        {
            if (options.PathFormat is { } pattern && (pattern.StartsWith('/') || pattern.Contains("//", StringComparison.Ordinal)))
            {
                throw new FormatException($"'{pattern}' must not start with '/' or hold an empty segment ('//'); a path starts after '<topics.dir>/<topic>/'.");
            }

            _ = PathFormat.Parse(TrimTrailingDelimiter(options.PathFormat), null, javaLocale: true, TimeZoneInfo.Utc);
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
            _ = TimeZones.Find(options.TimeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            errors.Add($"TimeZone: '{options.TimeZone}' is not a known IANA time zone.");
        }

        try
        {
            if (!options.JavaLocale && !string.IsNullOrWhiteSpace(options.Locale))
            {
                _ = CultureInfo.GetCultureInfo(options.Locale.Replace('_', '-'));
            }
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

    public IReadOnlyList<string[]>? ValueFields => source == TimestampSource.RecordField ? [fieldPath!] : [];

    /// <summary>As Confluent's <c>configure()</c>: one trailing delimiter is dropped (<c>'hour'=HH/</c> is a common form).</summary>
    private static string TrimTrailingDelimiter(string? pattern) => pattern is { Length: > 1 } p && p[^1] == '/' ? p[..^1] : pattern ?? string.Empty;

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

        if (utcMs is < MinMs or > MaxMs)
        {
            throw new RecordPartitioningException(record.Source, string.Create(CultureInfo.InvariantCulture, $"its timestamp ({utcMs} ms since 1970) is outside years 1-9999, which a path cannot hold."));
        }

        // Confluent's getPartition(): the local time (convertUTCToLocal), floored with Java's truncating division
        // (so before 1970 it rounds towards 1970), mapped back to UTC as Joda's convertLocalToUTC(local, false)
        // does (a floored time in a DST gap moves forward by the gap); the path prints that instant in the zone.
        var offsetMs = OffsetAt(utcMs);
        var localMs = utcMs + offsetMs;
        if (localMs is < MinMs or > MaxMs)
        {
            throw new RecordPartitioningException(record.Source, string.Create(CultureInfo.InvariantCulture, $"its timestamp ({utcMs} ms since 1970) is outside years 1-9999 in time zone {zone.Id}, which a path cannot hold."));
        }

        var partitionedLocalMs = localMs / durationMs * durationMs;
        var bucketUtcMs = LocalToUtc(partitionedLocalMs);
        if (!pathCache.TryGetValue(bucketUtcMs, out var path))
        {
            if (pathCache.Count >= 4096)
            {
                pathCache.Clear();
            }

            var bucketLocalMs = bucketUtcMs + OffsetAt(bucketUtcMs);
            path = format.Format(new DateTime(DateTime.UnixEpoch.Ticks + (bucketLocalMs * TimeSpan.TicksPerMillisecond), DateTimeKind.Unspecified), bucketLocalMs - bucketUtcMs);
            pathCache[bucketUtcMs] = path;
        }

        // The instants whose local time floors to the same value: [partitioned, +duration) at this offset, as long
        // as the offset is this one over the whole window (checked at its start, middle and end; not across a
        // DST change). Before 1970 truncation makes the window end-inclusive, and within two days of year 9999's end
        // the local time may leave the calendar: neither is cached.
        var startUtc = partitionedLocalMs - offsetMs;
        var endUtc = startUtc + durationMs;
        if (localMs >= 0 && endUtc < MaxMs - (2 * 86_400_000) && OffsetAt(startUtc) == offsetMs && OffsetAt(startUtc + (durationMs / 2)) == offsetMs && OffsetAt(endUtc - 1) == offsetMs)
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

    /// <summary>The zone's offset at a UTC instant (clamped into the calendar's range, where offsets are constant).</summary>
    private long OffsetAt(long utcMs)
        => (long)zone.GetUtcOffset(DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(utcMs, MinMs + 86_400_000, MaxMs - 86_400_000))).TotalMilliseconds;

    /// <summary>Joda-Time's <c>DateTimeZone.convertLocalToUTC(local, strict: false)</c>.</summary>
    private long LocalToUtc(long localMs)
    {
        var offsetLocal = OffsetAt(localMs);
        var offset = OffsetAt(localMs - offsetLocal);
        if (offsetLocal != offset && offsetLocal < 0
            && zone.IsInvalidTime(new DateTime(DateTime.UnixEpoch.Ticks + (Math.Clamp(localMs, MinMs, MaxMs) * TimeSpan.TicksPerMillisecond), DateTimeKind.Unspecified)))
        {
            // West of UTC, a local time in a DST gap keeps the offset before the gap (Joda), so it too moves forward.
            offset = offsetLocal;
        }

        return localMs - offset;
    }

    private long ReadField(SinkRecord record)
    {
        // The JSON converter found the field in its validating pass: parsed from its bytes, no document.
        var kind = captured.Find(record, out var fields, out var at, out _);
        if (kind == JsonTokenType.Number)
        {
            var number = new Utf8JsonReader(fields.Token(at));
            if (number.Read() && number.TryGetDecimal(out var epoch))
            {
                return FromEpoch(epoch);
            }
        }

        if (kind == JsonTokenType.String && TryParseRaw(fields.Token(at), out var fromCapture))
        {
            return fromCapture;
        }

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
            case JsonValueKind.String when TryParseRaw(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element), out var fast):
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

    /// <summary>Parses ISO-8601 or epoch digits straight from a JSON string token (with its quotes), without allocating.</summary>
    private bool TryParseRaw(ReadOnlySpan<byte> raw, out long utcMs)
    {
        utcMs = 0;
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

        // The reader parses dates as JsonElement does (ISO 8601-1:2019's extended profile).
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        var hasOffset = inner[^1] is (byte)'Z' or (byte)'z' || inner[t..].IndexOfAny((byte)'+', (byte)'-') >= 0;
        if (hasOffset && reader.TryGetDateTimeOffset(out var dto))
        {
            utcMs = dto.ToUnixTimeMilliseconds();
            return true;
        }

        if (!hasOffset && reader.TryGetDateTime(out var local))
        {
            utcMs = new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
            return true;
        }

        return false;
    }

    private long FromEpoch(decimal value) => unit == EpochUnit.Seconds ? (long)decimal.Floor(value * 1000m) : (long)decimal.Floor(value);
}
