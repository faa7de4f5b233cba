using System.Globalization;
using System.Text;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// A Joda-Time date pattern as Confluent's <c>path.format</c> uses it (<c>DateTimeFormat.forPattern</c>), printed
/// the way Joda prints it: numbers, texts from the locale, offsets and zone ids. Quoted literals and every
/// other character are copied. <c>z</c> (time zone names) is not supported: Joda takes them from the JDK's
/// name tables, which have no .NET counterpart.
/// </summary>
internal sealed class PathFormat
{
    private const string Letters = "GCYyxwedDMHhkKmsSaEZ";

    private readonly List<(char Field, int Width, string? Literal)> parts;
    private readonly Texts texts;
    private readonly TimeZoneInfo zone;

    private PathFormat(List<(char, int, string?)> parts, Texts texts, TimeZoneInfo zone)
    {
        this.parts = parts;
        this.texts = texts;
        this.zone = zone;
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
                    throw new FormatException(c == 'z'
                        ? $"field 'z' (time zone name) in '{pattern}' is not supported; use Z (offset) or ZZZ (zone id)."
                        : $"field '{c}' in '{pattern}' is not a Joda-Time pattern letter (supported: {string.Join(' ', Letters.ToCharArray())}, and quoted literals).");
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

        return new PathFormat(parts, Texts.For(locale, javaLocale), zone);
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
                    sb.Append(zone.Id);
                    break;
                case 'Z':
                    Offset(sb, offsetMs, colon: width == 2);
                    break;
            }
        }

        return sb.ToString();
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

    /// <summary>The texts of a locale: month, day, half-day and era names, as the JDK gives them to Joda-Time.</summary>
    private sealed record Texts(string[] Months, string[] ShortMonths, string[] Days, string[] ShortDays, string Am, string Pm, string Era)
    {
        public static Texts For(string? locale, bool javaLocale)
        {
            CultureInfo? culture;
            if (javaLocale)
            {
                // Java's new Locale(s) takes the whole string as the language: "ko_KR" or "en_US" name no language
                // with data, so the JDK falls back to its root locale (English names, era "CE").
                var language = (locale ?? string.Empty).ToLowerInvariant();
                culture = language.Length is 2 or 3 && language.All(char.IsAsciiLetterLower) && Known(language) ? CultureInfo.GetCultureInfo(language) : null;
            }
            else
            {
                culture = string.IsNullOrWhiteSpace(locale) ? null : CultureInfo.GetCultureInfo(locale.Replace('_', '-'));
            }

            if (culture is null)
            {
                // The JDK's root locale has only the short names (MMMM prints "Mar", EEEE "Sun") and the era "CE".
                var root = CultureInfo.InvariantCulture.DateTimeFormat;
                return javaLocale
                    ? new Texts(root.AbbreviatedMonthNames[..12], root.AbbreviatedMonthNames[..12], root.AbbreviatedDayNames, root.AbbreviatedDayNames, "AM", "PM", "CE")
                    : new Texts(root.MonthNames[..12], root.AbbreviatedMonthNames[..12], root.DayNames, root.AbbreviatedDayNames, "AM", "PM", "AD");
            }

            var f = culture.DateTimeFormat;
            return new Texts(
                f.MonthGenitiveNames[..12],
                f.AbbreviatedMonthGenitiveNames[..12],
                f.DayNames,
                f.AbbreviatedDayNames,
                f.AMDesignator.Length > 0 ? f.AMDesignator : "AM",
                f.PMDesignator.Length > 0 ? f.PMDesignator : "PM",
                f.GetEraName(1));
        }

        private static bool Known(string language)
        {
            try
            {
                var culture = CultureInfo.GetCultureInfo(language, predefinedOnly: true);
                return culture.EnglishName != language;
            }
            catch (CultureNotFoundException)
            {
                return false;
            }
        }
    }
}
