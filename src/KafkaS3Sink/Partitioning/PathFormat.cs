using System.Globalization;
using System.Text;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// A Joda-Time date pattern as Confluent's <c>path.format</c> uses it (<c>DateTimeFormat.forPattern</c>), printed
/// the way Joda prints it: numbers, texts from the locale, zone names, offsets and zone ids. Quoted literals and
/// every other character are copied. With a Kafka Connect <c>locale</c> the texts and zone names are the JDK's
/// (<see cref="JdkNames"/>); with a .NET culture the texts are .NET's. <c>zzzz</c> (long zone names) is not
/// supported.
/// </summary>
internal sealed class PathFormat
{
    private const string Letters = "GCYyxwedDMHhkKmsSaEZz";

    private readonly List<(char Field, int Width, string? Literal)> parts;
    private readonly LocaleTexts texts;
    private readonly string? zoneNameLanguage;
    private readonly TimeZoneInfo zone;
    private readonly TimeZoneInfo.AdjustmentRule[]? rules;

    private PathFormat(List<(char, int, string?)> parts, LocaleTexts texts, string? zoneNameLanguage, TimeZoneInfo zone)
    {
        this.parts = parts;
        this.texts = texts;
        this.zoneNameLanguage = zoneNameLanguage;
        this.zone = zone;
        var adjustments = parts.Any(p => p.Item1 == 'z') ? zone.GetAdjustmentRules() : [];
        rules = adjustments.Any(r => r.DaylightDelta < TimeSpan.Zero) ? adjustments : null;
    }

    /// <summary>Parses a pattern; <paramref name="javaLocale"/> reads <paramref name="locale"/> as Java's <c>new Locale(locale)</c> does (Kafka Connect configs).</summary>
    public static PathFormat Parse(string pattern, string? locale, bool javaLocale, TimeZoneInfo zone)
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

                if (Letters.IndexOf(c, StringComparison.Ordinal) < 0)
                {
                    throw new FormatException($"field '{c}' in '{pattern}' is not a Joda-Time pattern letter (supported: {string.Join(' ', Letters.ToCharArray())}, and quoted literals).");
                }

                if (c == 'z' && i - start >= 4)
                {
                    throw new FormatException($"field 'zzzz' (long time zone name) in '{pattern}' is not supported; use z (short name such as CET), Z (offset) or ZZZ (zone id).");
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

        if (javaLocale)
        {
            return new PathFormat(parts, JdkNames.TextsOf(locale), locale ?? string.Empty, zone);
        }

        var culture = string.IsNullOrWhiteSpace(locale) ? null : CultureInfo.GetCultureInfo(locale.Replace('_', '-'));
        return new PathFormat(parts, TextsOf(culture), culture?.TwoLetterISOLanguageName is { Length: > 0 } and not "iv" ? culture.TwoLetterISOLanguageName : "en", zone);
    }

    /// <summary>Prints the local time <paramref name="local"/> (at UTC offset <paramref name="offsetMs"/>) as Joda does.</summary>
    public string Format(DateTime local, long offsetMs)
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
                case 'G':
                    sb.Append(texts.Era);
                    break;
                case 'C':
                    Number(sb, local.Year / 100, width);
                    break;
                case 'Y' or 'y':
                    Number(sb, width == 2 ? local.Year % 100 : local.Year, width);
                    break;
                case 'x':
                    var weekYear = ISOWeek.GetYear(local);
                    Number(sb, width == 2 ? weekYear % 100 : weekYear, width);
                    break;
                case 'w':
                    Number(sb, ISOWeek.GetWeekOfYear(local), width);
                    break;
                case 'e':
                    Number(sb, local.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)local.DayOfWeek, width);
                    break;
                case 'E':
                    sb.Append(width >= 4 ? texts.Days[(int)local.DayOfWeek] : texts.ShortDays[(int)local.DayOfWeek]);
                    break;
                case 'D':
                    Number(sb, local.DayOfYear, width);
                    break;
                case 'M' when width >= 4:
                    sb.Append(texts.Months[local.Month - 1]);
                    break;
                case 'M' when width == 3:
                    sb.Append(texts.ShortMonths[local.Month - 1]);
                    break;
                case 'M':
                    Number(sb, local.Month, width);
                    break;
                case 'd':
                    Number(sb, local.Day, width);
                    break;
                case 'a':
                    sb.Append(local.Hour < 12 ? texts.Am : texts.Pm);
                    break;
                case 'h':
                    Number(sb, local.Hour % 12 == 0 ? 12 : local.Hour % 12, width);
                    break;
                case 'K':
                    Number(sb, local.Hour % 12, width);
                    break;
                case 'H':
                    Number(sb, local.Hour, width);
                    break;
                case 'k':
                    Number(sb, local.Hour == 0 ? 24 : local.Hour, width);
                    break;
                case 'm':
                    Number(sb, local.Minute, width);
                    break;
                case 's':
                    Number(sb, local.Second, width);
                    break;
                case 'S':
                    // Joda's fraction of second: the first `width` digits of the fraction (milliseconds, then zeros).
                    var fraction = local.Millisecond.ToString("000", CultureInfo.InvariantCulture).PadRight(width, '0');
                    sb.Append(fraction, 0, width);
                    break;
                case 'Z' when width >= 3:
                    sb.Append(JdkNames.CanonicalId(zone));
                    break;
                case 'z':
                    var instant = new DateTimeOffset(local.Ticks - (offsetMs * TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
                    sb.Append(JdkNames.ShortZoneName(zoneNameLanguage, zone, JodaStandardTime(instant, offsetMs), offsetMs));
                    break;
                case 'Z':
                    Offset(sb, offsetMs, colon: width == 2);
                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>
    /// Joda's <c>isStandardOffset</c>. Joda compiles the tz data's "rearguard" form, where daylight saving is never
    /// negative; the system's data may say Europe/Dublin's winter (GMT) is daylight time, one hour below a standard
    /// Irish Standard Time. There the standard offset is the base offset plus that negative saving.
    /// </summary>
    private bool JodaStandardTime(DateTimeOffset instant, long offsetMs)
    {
        if (rules is { Length: > 0 })
        {
            // The rule in effect, or the last one before (the system's data has no rule between Dublin's winters).
            var date = instant.UtcDateTime.Date;
            var rule = rules.LastOrDefault(r => r.DateStart <= date);
            if (rule is not null && rule.DaylightDelta < TimeSpan.Zero)
            {
                return offsetMs == (long)(zone.BaseUtcOffset + rule.BaseUtcOffsetDelta + rule.DaylightDelta).TotalMilliseconds;
            }
        }

        return !zone.IsDaylightSavingTime(instant);
    }

    private static void Number(StringBuilder sb, int value, int width)
        => sb.Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(Math.Max(width, 1), '0'));

    /// <summary>Joda's <c>appendTimeZoneOffset(null, …, 2, 2)</c>: sign, hours and minutes (seconds dropped), <c>+0000</c> for UTC.</summary>
    private static void Offset(StringBuilder sb, long offsetMs, bool colon)
    {
        sb.Append(offsetMs < 0 ? '-' : '+');
        var minutes = Math.Abs(offsetMs) / 60_000;
        sb.Append((minutes / 60).ToString("00", CultureInfo.InvariantCulture));
        if (colon)
        {
            sb.Append(':');
        }

        sb.Append((minutes % 60).ToString("00", CultureInfo.InvariantCulture));
    }

    /// <summary>The texts of a .NET culture (the native API's <c>Locale</c>); English names without one.</summary>
    private static LocaleTexts TextsOf(CultureInfo? culture)
    {
        if (culture is null)
        {
            var root = CultureInfo.InvariantCulture.DateTimeFormat;
            return new LocaleTexts(root.MonthNames[..12], root.AbbreviatedMonthNames[..12], root.DayNames, root.AbbreviatedDayNames, "AM", "PM", "AD");
        }

        var f = culture.DateTimeFormat;
        return new LocaleTexts(
            f.MonthGenitiveNames[..12],
            f.AbbreviatedMonthGenitiveNames[..12],
            f.DayNames,
            f.AbbreviatedDayNames,
            f.AMDesignator.Length > 0 ? f.AMDesignator : "AM",
            f.PMDesignator.Length > 0 ? f.PMDesignator : "PM",
            f.GetEraName(1));
    }
}
