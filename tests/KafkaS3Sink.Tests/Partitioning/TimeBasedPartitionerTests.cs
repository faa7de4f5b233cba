using KafkaS3Sink.Partitioning;
using Microsoft.Extensions.Time.Testing;

namespace KafkaS3Sink.Tests.Partitioning;

[Trait("Category", "Partitioning")]
public sealed class TimeBasedPartitionerTests
{
    private static TimeBasedPartitioner Create(Action<TimeBasedPartitionerOptions>? configure = null, TimeProvider? time = null)
    {
        var options = new TimeBasedPartitionerOptions();
        configure?.Invoke(options);
        return new TimeBasedPartitioner(options, time ?? TimeProvider.System);
    }

    [Fact]
    public void GetPartitionPath_RecordTimestampUtcHourly_HiveStylePath()
    {
        var partitioner = Create();
        var record = TestRecords.Json("{}", timestamp: DateTimeOffset.Parse("2026-11-27T09:59:59.999Z", System.Globalization.CultureInfo.InvariantCulture));

        partitioner.GetPartitionPath(record).Should().Be("year=2026/month=11/day=27/hour=09");
    }

    [Fact]
    public void PathFormat_EndingInADelimiter_IsTrimmedAsConfluentDoes()
    {
        var partitioner = Create(o => o.PathFormat = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH/");
        var record = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));

        partitioner.GetPartitionPath(record).Should().Be("year=2026/month=11/day=27/hour=09");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/'year'=YYYY")]
    [InlineData("YYYY//MM")]
    public void PathFormat_LeadingDelimiterOrEmptySegment_IsAConfigurationError(string pattern)
    {
        TimeBasedPartitioner.Validate(new TimeBasedPartitionerOptions { PathFormat = pattern })
            .Should().ContainSingle().Which.Should().StartWith($"PathFormat: '{pattern}' must not start with '/'");
    }

    [Fact]
    public void SpringForwardDay_CachedBucketDoesNotCaptureThePreviousEvening_InAnyOrder()
    {
        // Berlin, 2026-03-29 (02:00 -> 03:00). A record on the DST day first, then one at 23:30 the evening before.
        var partitioner = Create(o =>
        {
            o.TimeZone = "Europe/Berlin";
            o.PartitionDuration = TimeSpan.FromDays(1);
            o.PathFormat = "'day'=YYYY-MM-dd";
        });
        var dstDay = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 3, 29, 10, 0, 0, TimeSpan.FromHours(2)));
        var eveningBefore = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 3, 28, 23, 30, 0, TimeSpan.FromHours(1)));

        partitioner.GetPartitionPath(dstDay).Should().Be("day=2026-03-29");
        partitioner.GetPartitionPath(eveningBefore).Should().Be("day=2026-03-28");
    }

    [Fact]
    public void TimestampOutsideTheCalendarLocally_IsAPartitioningErrorNamingTheRecord()
    {
        var partitioner = Create(o => o.TimeZone = "Asia/Seoul");
        var record = TestRecords.Json("{}", partition: 1, offset: 77, timestamp: DateTimeOffset.MaxValue.AddHours(-2));

        var act = () => partitioner.GetPartitionPath(record);

        act.Should().Throw<RecordPartitioningException>().WithMessage("Cannot partition record orders[1]@77: its timestamp (* ms since 1970) is outside years 1-9999 in time zone Asia/Seoul*");
    }

    [Fact]
    public void GetPartitionPath_AsiaSeoul_UsesLocalHour()
    {
        var partitioner = Create(o => o.TimeZone = "Asia/Seoul");

        // 2026-11-27 16:30 UTC is 2026-11-28 01:30 in Seoul (UTC+9, no DST).
        var record = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 11, 27, 16, 30, 0, TimeSpan.Zero));

        partitioner.GetPartitionPath(record).Should().Be("year=2026/month=11/day=28/hour=01");
    }

    [Theory]
    [InlineData("{\"order\":{\"createdAt\":\"2026-03-08T06:59:00Z\"}}", "2026-03-08-01")]
    [InlineData("{\"order\":{\"createdAt\":\"2026-03-08T07:00:00Z\"}}", "2026-03-08-03")]
    [InlineData("{\"order\":{\"createdAt\":1772953140000}}", "2026-03-08-01")]
    [InlineData("{\"order\":{\"createdAt\":\"1772953140000\"}}", "2026-03-08-01")]
    public void GetPartitionPath_NestedFieldAcrossNewYorkSpringForward_SkipsTheMissingHour(string json, string expected)
    {
        // New York springs forward at 2026-03-08 02:00 local (07:00 UTC): 01:59 EST is followed by 03:00 EDT.
        var partitioner = Create(o =>
        {
            o.TimeZone = "America/New_York";
            o.PathFormat = "YYYY-MM-dd-HH";
            o.TimestampSource = TimestampSource.RecordField;
            o.TimestampField = "order.createdAt";
        });

        partitioner.GetPartitionPath(TestRecords.Json(json)).Should().Be(expected);
    }

    [Theory]
    [InlineData("{\"ts\":1772953140}", "2026-03-08-06")]
    [InlineData("{\"ts\":1772953140.999}", "2026-03-08-06")]
    [InlineData("{\"ts\":\"1772953200\"}", "2026-03-08-07")]
    [InlineData("{\"ts\":\"2026-03-08T07:00:00+09:00\"}", "2026-03-07-22")]
    [InlineData("{\"ts\":\"2026-03-08T07:00:00\"}", "2026-03-08-07")]
    public void GetPartitionPath_EpochSecondsAndIsoOffsets_ParsedInUtc(string json, string expected)
    {
        var partitioner = Create(o =>
        {
            o.PathFormat = "YYYY-MM-dd-HH";
            o.TimestampSource = TimestampSource.RecordField;
            o.TimestampField = "ts";
            o.TimestampUnit = EpochUnit.Seconds;
        });

        partitioner.GetPartitionPath(TestRecords.Json(json)).Should().Be(expected);
    }

    [Fact]
    public void GetPartitionPath_BerlinFallBack_BothLocalOneOClocksShareAPath()
    {
        // Berlin falls back at 2026-10-25 03:00 CEST -> 02:00 CET: 00:30 UTC and 01:30 UTC are both 02:30 local.
        var partitioner = Create(o => o.TimeZone = "Europe/Berlin");
        var first = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero));
        var second = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero));

        partitioner.GetPartitionPath(first).Should().Be("year=2026/month=10/day=25/hour=02");
        partitioner.GetPartitionPath(second).Should().Be("year=2026/month=10/day=25/hour=02");
    }

    [Fact]
    public void GetPartitionPath_Wallclock_UsesInjectedTime()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var partitioner = Create(o => { o.TimestampSource = TimestampSource.Wallclock; o.PartitionDuration = TimeSpan.FromDays(1); }, time);

        partitioner.GetPartitionPath(TestRecords.Json("{}")).Should().Be("year=2026/month=01/day=02/hour=00");
    }

    [Theory]
    [InlineData("{\"other\":1}", "is missing")]
    [InlineData("{\"ts\":\"yesterday\"}", "neither ISO-8601 nor epoch milliseconds")]
    [InlineData("{\"ts\":null}", "is a JSON Null, not a timestamp")]
    [InlineData("{\"ts\":true}", "not a timestamp")]
    public void GetPartitionPath_BadTimestampField_ThrowsNamingRecordAndReason(string json, string reason)
    {
        var partitioner = Create(o => { o.TimestampSource = TimestampSource.RecordField; o.TimestampField = "ts"; });

        var act = () => partitioner.GetPartitionPath(TestRecords.Json(json, partition: 5, offset: 77));

        act.Should().Throw<RecordPartitioningException>()
            .Where(e => e.Message.Contains("orders[5]@77", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal))
            .Which.Record!.Offset.Should().Be(77);
    }

    [Fact]
    public void Validate_BadSettings_NamesEachOne()
    {
        var options = new TimeBasedPartitionerOptions
        {
            PathFormat = "'year'=YYYY/'unterminated",
            TimeZone = "Mars/Olympus",
            PartitionDuration = TimeSpan.Zero,
            TimestampSource = TimestampSource.RecordField,
        };

        var errors = TimeBasedPartitioner.Validate(options);

        errors.Should().HaveCount(4);
        errors.Should().Contain(e => e.StartsWith("PathFormat:", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("TimeZone:", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("PartitionDuration:", StringComparison.Ordinal));
        errors.Should().Contain(e => e.StartsWith("TimestampField:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Europe/Berlin", null, false, "2026-01-15T12:00:00Z", "CET")]
    [InlineData("Europe/Berlin", null, false, "2026-07-15T12:00:00Z", "CEST")]
    [InlineData("Europe/Berlin", "de-DE", false, "2026-07-15T12:00:00Z", "MESZ")]
    [InlineData("Europe/Berlin", "de", true, "2026-01-15T12:00:00Z", "MEZ")]
    [InlineData("Europe/Berlin", "de_DE", true, "2026-01-15T12:00:00Z", "CET")]
    [InlineData("Europe/Dublin", "en", true, "2026-01-15T12:00:00Z", "GMT")]
    [InlineData("Europe/Dublin", "en", true, "2026-07-15T12:00:00Z", "IST")]
    [InlineData("Asia/Seoul", "ko", true, "2026-07-15T12:00:00Z", "KST")]
    [InlineData("Asia/Kathmandu", "", true, "2026-07-15T12:00:00Z", "NPT")]
    [InlineData("Etc/GMT+5", "", true, "2026-07-15T12:00:00Z", "-05:00")]
    [InlineData("+05:30", "", true, "2026-07-15T12:00:00Z", "+05:30")]
    public void ZoneShortName_IsTheJdksName(string zone, string? locale, bool javaLocale, string utc, string expected)
    {
        var partitioner = Create(o =>
        {
            o.TimeZone = zone;
            o.Locale = locale;
            o.JavaLocale = javaLocale;
            o.PathFormat = "'tz'=z";
        });
        var record = TestRecords.Json("{}", timestamp: DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture));

        partitioner.GetPartitionPath(record).Should().Be("tz=" + expected);
    }

    [Fact]
    public void JavaLocaleTexts_AreTheJdks_NotDotNets()
    {
        var partitioner = Create(o =>
        {
            o.Locale = "de";
            o.JavaLocale = true;
            o.PathFormat = "EEE/MMM/ZZZ";
            o.TimeZone = "US/Eastern";
        });
        var record = TestRecords.Json("{}", timestamp: new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

        partitioner.GetPartitionPath(record).Should().Be("So./März/America/New_York");
    }

    [Fact]
    public void LongZoneNames_AreAConfigurationError_NamingTheAlternatives()
    {
        TimeBasedPartitioner.Validate(new TimeBasedPartitionerOptions { PathFormat = "'tz'=zzzz" })
            .Should().ContainSingle().Which.Should().Contain("'zzzz' (long time zone name)").And.Contain("use z (short name");
    }
}
