using System.Globalization;
using System.Text.RegularExpressions;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Time zone ids as the sink reads them: IANA ids from the system's tz data, and fixed offsets as Joda-Time
/// writes them (<c>+09:00</c>, <c>+09</c>, <c>+0900</c>). Kafka Connect configs are held to Joda's rules
/// (<see cref="JodaProblem"/>): case-sensitive IANA ids, no Windows ids.
/// </summary>
internal static partial class TimeZones
{
    /// <summary>Finds a zone by IANA id or fixed offset; false when there is none.</summary>
    public static bool TryFind(string? id, out TimeZoneInfo zone)
    {
        if (string.IsNullOrEmpty(id))
        {
            zone = TimeZoneInfo.Utc;
            return false;
        }

        if (TryParseOffset(id, out var offset, out var normalized))
        {
            zone = TimeZoneInfo.CreateCustomTimeZone(normalized, offset, normalized, normalized);
            return true;
        }

        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone!);
    }

    /// <summary>Finds a zone; throws <see cref="TimeZoneNotFoundException"/> naming it otherwise.</summary>
    public static TimeZoneInfo Find(string id)
        => TryFind(id, out var zone) ? zone : throw new TimeZoneNotFoundException($"'{id}' is not a known IANA time zone or offset.");

    /// <summary>Why Joda-Time's <c>DateTimeZone.forID</c> would reject the id (so Confluent's connector would not start); null when it accepts it.</summary>
    public static string? JodaProblem(string id)
    {
        if (TryParseOffset(id, out _, out _))
        {
            return null;
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
        {
            return $"'{id}' is not a time zone id (IANA ids such as Asia/Seoul or UTC, or offsets such as +09:00).";
        }

        if (!zone.HasIanaId || !string.Equals(zone.Id, id, StringComparison.Ordinal))
        {
            return $"'{id}' is not an IANA time zone id as Joda-Time (Kafka Connect) reads them: ids are case-sensitive and Windows ids are not accepted{(zone.HasIanaId ? $" (did you mean {zone.Id}?)" : TimeZoneInfo.TryConvertWindowsIdToIanaId(id, out var iana) ? $" (did you mean {iana}?)" : string.Empty)}.";
        }

        return null;
    }

    private static bool TryParseOffset(string id, out TimeSpan offset, out string normalized)
    {
        offset = default;
        normalized = string.Empty;
        var match = OffsetPattern().Match(id);
        if (!match.Success)
        {
            return false;
        }

        var hours = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        var minutes = match.Groups[3].Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
        var seconds = match.Groups[4].Success ? int.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture) : 0;
        if (hours > 23 || minutes > 59 || seconds > 59)
        {
            return false;
        }

        var sign = match.Groups[1].Value == "-" ? -1 : 1;
        offset = sign * new TimeSpan(hours, minutes, seconds);

        // Joda's id of a fixed zone: +HH:mm, with :ss when there are seconds; zero is UTC.
        normalized = offset == TimeSpan.Zero ? "UTC"
            : string.Create(CultureInfo.InvariantCulture, $"{(sign < 0 ? '-' : '+')}{hours:00}:{minutes:00}{(seconds != 0 ? $":{seconds:00}" : string.Empty)}");
        return true;
    }

    [GeneratedRegex(@"^([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex OffsetPattern();
}
