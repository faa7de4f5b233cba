using System.Diagnostics;
using System.Globalization;
using System.Text;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Partitioning;

/// <summary>
/// The time partitioner against Confluent's arithmetic on real Joda-Time (Debian's libjoda-time-java and the
/// JDK, installed by eng/install-prereqs.sh): zones with half-hour and 45-minute offsets, 30-minute DST and DST
/// at midnight, timestamps around every transition of 2025–2027, before 1970 and near the ends of years
/// 1–9999, durations that do and do not divide a day; each configuration's records fed in shuffled order
/// through one partitioner (its bucket cache must not depend on the order).
/// </summary>
[Trait("Category", "Partitioning")]
public sealed class JodaDifferentialTests
{
    private const string JodaJar = "/usr/share/java/joda-time.jar";

    private static readonly string[] Zones =
    [
        "UTC", "Europe/Berlin", "America/New_York", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kolkata",
        "Asia/Kathmandu", "America/Havana", "Asia/Beirut", "America/Santiago", "America/Sao_Paulo", "Pacific/Chatham",
        "Asia/Seoul", "Europe/London",
    ];

    private static readonly long[] Durations =
    [
        TimeSpan.FromHours(1).Ticks / TimeSpan.TicksPerMillisecond,
        TimeSpan.FromDays(1).Ticks / TimeSpan.TicksPerMillisecond,
        7 * 60_000, // 7 minutes: does not divide an hour's offsets evenly
        30 * 60_000,
        5 * 3_600_000, // does not divide a day
        7 * 86_400_000L,
    ];

    private static readonly string[] Patterns =
    [
        "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
        "YYYY-MM-dd'T'HH-mm-ss/DDD/z",
        "'dt'=YYYY-MM-dd",
    ];

    [Fact]
    public void TimeBasedPartitioner_MatchesConfluentOnJodaTime_OverGeneratedCases()
    {
        var random = new Random(20261202);
        var cases = new List<(string Zone, long Duration, string Pattern, long Utc)>();
        foreach (var zone in Zones)
        {
            var stamps = Timestamps(TimeZones.Find(zone), random);
            foreach (var duration in Durations)
            {
                foreach (var pattern in Patterns)
                {
                    cases.AddRange(stamps.Select(t => (zone, duration, pattern, t)));
                }
            }
        }

        cases.Count.Should().BeGreaterThan(10_000);
        var expected = RunJoda(cases);

        var differences = new List<string>();
        var dataDiffer = new List<long>();
        var dataZones = new SortedSet<string>(StringComparer.Ordinal);
        var outside = 0;
        foreach (var group in cases.Select((c, i) => (Case: c, Expected: expected[i])).GroupBy(x => (x.Case.Zone, x.Case.Duration, x.Case.Pattern)))
        {
            var tz = TimeZones.Find(group.Key.Zone);
            var partitioner = new TimeBasedPartitioner(
                new TimeBasedPartitionerOptions { TimeZone = group.Key.Zone, PartitionDuration = TimeSpan.FromMilliseconds(group.Key.Duration), PathFormat = group.Key.Pattern },
                TimeProvider.System);
            foreach (var (c, line) in group.OrderBy(_ => random.Next()))
            {
                var fields = line.Split('\t');
                var want = fields[0];
                var record = new KafkaRecord("t", 0, 0, DateTimeOffset.FromUnixTimeMilliseconds(c.Utc), null, "{}"u8.ToArray());
                string got;
                try
                {
                    got = partitioner.GetPartitionPath(new SinkRecord(record, "{}"u8.ToArray(), null));
                }
                catch (RecordPartitioningException ex)
                {
                    got = "ERR " + ex.Message;
                }

                if (OutsideTheCalendar(c.Zone, c.Utc))
                {
                    outside++;
                    // Documented divergence: Joda prints such years (even year 0 as 0001); the sink reports a
                    // partitioning error naming the record, which the error policy handles.
                    if (!got.StartsWith("ERR ", StringComparison.Ordinal) || !got.Contains("is outside years 1-9999", StringComparison.Ordinal))
                    {
                        differences.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Zone} {DateTimeOffset.FromUnixTimeMilliseconds(c.Utc):O}: outside years 1-9999 locally, but the sink gave '{got}'"));
                    }
                }
                else if (got.StartsWith("ERR ", StringComparison.Ordinal))
                {
                    differences.Add($"{c.Zone} {c.Utc}: the sink failed: {got}");
                }
                else if (fields.Length == 4 && !SameOffsets(tz, c.Utc, fields))
                {
                    // Joda's compiled tz data and the system's disagree about this zone at this time (local mean
                    // time before a zone adopted standard time): not an arithmetic difference.
                    dataDiffer.Add(c.Utc);
                    dataZones.Add($"{c.Zone}@{DateTimeOffset.FromUnixTimeMilliseconds(c.Utc).Year}");
                }
                else if (got != want)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Zone} {c.Duration} ms '{c.Pattern}' {DateTimeOffset.FromUnixTimeMilliseconds(c.Utc):O}: Joda '{want}', sink '{got}'"));
                }
            }
        }

        dataDiffer.Should().OnlyContain(t => t < 0, "the tz data of both sides agree from 1970 on");
        (cases.Count - dataDiffer.Count - outside).Should().BeGreaterThan(10_000, $"at least 10,000 cases are compared ({dataDiffer.Count} left out where the tz data differ: {string.Join(", ", dataZones)})");
        differences.Should().BeEmpty($"{differences.Count} of {cases.Count} cases differ (tz data differ: {string.Join(", ", dataZones)}); the first: {string.Join(Environment.NewLine, differences.Take(15))}");
    }

    [Fact]
    public void PatternLettersAndLocales_MatchConfluentOnJodaTime_WithKafkaConnectLocaleStrings()
    {
        string[] zones =
        [
            "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "America/St_Johns", "+05:30", "-03", "+0945",
            "US/Eastern", "Asia/Calcutta", "Etc/GMT+5", "Etc/UTC", "GMT", "Europe/Dublin", "Africa/Casablanca", "Europe/Prague", "Asia/Kathmandu", "America/Sao_Paulo",
        ];
        string[] patterns =
        [
            "xxxx-'W'ww-e/G/CC/YY/yy/xx",
            "hh-a/kk/KK/HH-mm-ss.SSS/S/SSSSSS/h/k",
            "Z/ZZ/ZZZ/z/zz/zzz",
            "MMM/MMMM/EEE/EEEE/a/G/M/E",
        ];
        // Kafka Connect's locale strings as new Locale(s) reads them: whole strings as languages (ko_KR, de_DE have
        // no data), upper case, the JDK's old codes (iw, in), and languages with their own texts and zone names.
        string[] locales = ["en", "", "ko_KR", "en_US", "de_DE", "ko", "fr", "ja", "es", "zh", "de", "DE", "iw", "he", "in", "ar", "th", "ru", "pt", "hi", "fa", "fi", "el", "sw", "xx"];
        long[] durations = [420_000, 3_600_000, 86_400_000];
        var random = new Random(20261203);
        var cases = new List<(string Zone, long Duration, string Pattern, long Utc, string Locale)>();
        foreach (var zone in zones)
        {
            var stamps = Timestamps(TimeZones.Find(zone), random).Where(t => t > 0 && !OutsideTheCalendar(zone, t)).ToList();
            foreach (var (pattern, locale, duration) in patterns.SelectMany(p => locales.SelectMany(l => durations.Select(d => (p, l, d)))))
            {
                cases.AddRange(stamps.Where(_ => random.Next(10) == 0).Select(t => (zone, duration, pattern, t, locale)));
            }
        }

        cases.Count.Should().BeGreaterThan(10_000);
        var expected = RunJoda(cases);
        var differences = new List<string>();
        var index = 0;
        foreach (var group in cases.Select(c => (Case: c, Expected: expected[index++])).GroupBy(x => (x.Case.Zone, x.Case.Duration, x.Case.Pattern, x.Case.Locale)))
        {
            var partitioner = new TimeBasedPartitioner(
                new TimeBasedPartitionerOptions
                {
                    TimeZone = group.Key.Zone,
                    PartitionDuration = TimeSpan.FromMilliseconds(group.Key.Duration),
                    PathFormat = group.Key.Pattern,
                    Locale = group.Key.Locale,
                    JavaLocale = true,
                },
                TimeProvider.System);
            foreach (var (c, line) in group.OrderBy(_ => random.Next()))
            {
                var want = line.Split('\t')[0];
                var got = partitioner.GetPartitionPath(new SinkRecord(new KafkaRecord("t", 0, 0, DateTimeOffset.FromUnixTimeMilliseconds(c.Utc), null, "{}"u8.ToArray()), "{}"u8.ToArray(), null));
                if (got != want)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Zone} {c.Duration} ms '{c.Pattern}' locale '{c.Locale}' {DateTimeOffset.FromUnixTimeMilliseconds(c.Utc):O}: Joda '{want}', sink '{got}'"));
                }
            }
        }

        differences.Should().BeEmpty($"{differences.Count} of {cases.Count} cases differ; the first: {string.Join(Environment.NewLine, differences.DistinctBy(d => d.Split(' ')[0] + d.Split('\'')[1] + d.Split('\'')[3]).Take(20))}");
    }

    /// <summary>Whether Joda's offsets at the record's time and at its bucket's start equal the system's.</summary>
    private static bool SameOffsets(TimeZoneInfo zone, long utcMs, string[] joda)
        => Offset(zone, utcMs) == long.Parse(joda[1], CultureInfo.InvariantCulture)
            && Offset(zone, long.Parse(joda[2], CultureInfo.InvariantCulture)) == long.Parse(joda[3], CultureInfo.InvariantCulture);

    /// <summary>Whether the record's time, in UTC or in the zone, is outside years 1-9999.</summary>
    private static bool OutsideTheCalendar(string zone, long utcMs)
    {
        var local = utcMs + Offset(TimeZones.Find(zone), utcMs);
        return utcMs < MinMs || utcMs > MaxMs || local < MinMs || local > MaxMs;
    }

    private static readonly long MinMs = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
    private static readonly long MaxMs = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>Around each offset change of 2025–2027, plus years before 1970 and near both ends of the calendar.</summary>
    private static List<long> Timestamps(TimeZoneInfo zone, Random random)
    {
        var result = new List<long>();
        var hour = 3_600_000L;
        var from = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var to = new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        long[] around = [-86_400_000, -3 * hour, -hour, -1_800_000, -420_000, -1, 0, 1, 1_800_000, hour, 3 * hour, 86_400_000];
        for (var t = from; t < to; t += hour)
        {
            if (Offset(zone, t) != Offset(zone, t + hour))
            {
                // The exact millisecond of the change.
                long lo = t, hi = t + hour;
                while (hi - lo > 1)
                {
                    var mid = lo + ((hi - lo) / 2);
                    (Offset(zone, mid) == Offset(zone, t) ? ref lo : ref hi) = mid;
                }

                result.AddRange(around.Select(d => hi + d));
                result.AddRange(Enumerable.Range(0, 12).Select(_ => hi + random.NextInt64(-2 * 86_400_000L, 2 * 86_400_000L)));
            }
        }

        // Before 1970 (negative epoch: truncating division), and near years 1 and 9999.
        result.AddRange(Enumerable.Range(0, 40).Select(_ => random.NextInt64(-2_208_988_800_000L, 0)));
        result.AddRange([-1, -3_600_001, -86_400_001]);
        var max = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
        var min = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
        result.AddRange(Enumerable.Range(0, 8).Select(_ => max - random.NextInt64(0, 3 * 86_400_000L)));
        result.AddRange(Enumerable.Range(0, 8).Select(_ => min + random.NextInt64(0, 3 * 86_400_000L)));
        result.AddRange(Enumerable.Range(0, 20).Select(_ => random.NextInt64(from, to)));
        return result;
    }

    private static long Offset(TimeZoneInfo zone, long utcMs) => (long)zone.GetUtcOffset(DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(utcMs, MinMs + 86_400_000, MaxMs - 86_400_000))).TotalMilliseconds;

    private static string[] RunJoda(List<(string Zone, long Duration, string Pattern, long Utc)> cases)
        => RunJoda([.. cases.Select(c => (c.Zone, c.Duration, c.Pattern, c.Utc, "en"))]);

    private static string[] RunJoda(List<(string Zone, long Duration, string Pattern, long Utc, string Locale)> cases)
    {
        File.Exists(JodaJar).Should().BeTrue($"{JodaJar} is installed by eng/install-prereqs.sh (Debian's libjoda-time-java)");
        var work = Path.Combine(Path.GetTempPath(), "kafkas3sink-joda-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var source = Path.Combine(AppContext.BaseDirectory, "Partitioning", "Joda", "ConfluentTimePartition.java");
            Run("javac", ["-cp", JodaJar, "-d", work, source], null);
            var input = new StringBuilder();
            foreach (var c in cases)
            {
                input.Append(CultureInfo.InvariantCulture, $"{c.Zone}\t{c.Duration}\t{c.Utc}\t{c.Pattern}\t{c.Locale}\n");
            }

            var output = Run("java", ["-Duser.timezone=UTC", "-Duser.language=en", "-Duser.country=US", "-cp", $"{JodaJar}:{work}", "ConfluentTimePartition"], input.ToString());
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            lines.Should().HaveCount(cases.Count);
            return lines;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string Run(string file, string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardInput = stdin is not null, RedirectStandardOutput = true, RedirectStandardError = true, StandardOutputEncoding = Encoding.UTF8 };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        process.WaitForExit();
        process.ExitCode.Should().Be(0, $"{file} failed: {stderr.Result}");
        return stdout.Result;
    }
}
