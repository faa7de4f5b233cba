namespace KafkaS3Sink.Partitioning;

/// <summary>Where a time-based partitioner takes a record's time from (<c>timestamp.extractor</c>).</summary>
public enum TimestampSource
{
    /// <summary>The Kafka record timestamp (<c>Record</c>).</summary>
    Record,

    /// <summary>A field of the record value (<c>RecordField</c>); see <see cref="TimeBasedPartitionerOptions.TimestampField"/>.</summary>
    RecordField,

    /// <summary>The sink's clock when the record is processed (<c>Wallclock</c>). Not replay-safe: a replay may choose other paths.</summary>
    Wallclock,
}

/// <summary>Settings of the time-based partitioner (Confluent's TimeBasedPartitioner).</summary>
public sealed class TimeBasedPartitionerOptions
{
    /// <summary>
    /// The path pattern in Joda-Time syntax (<c>path.format</c>): quoted literals and the letters <c>G C Y y x w e
    /// E D M d a h K H k m s S Z</c> with Joda's meaning (names in <see cref="Locale"/>; <c>z</c> is not supported).
    /// One trailing <c>/</c> is dropped, as Confluent does.
    /// Default <c>'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH</c>.
    /// </summary>
    public string PathFormat { get; set; } = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";

    /// <summary>The granularity (<c>partition.duration.ms</c>): record times are floored to it in <see cref="TimeZone"/>. Default 1 hour.</summary>
    public TimeSpan PartitionDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>IANA time zone id (<c>timezone</c>), e.g. <c>Asia/Seoul</c>. Default <c>UTC</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>
    /// Culture for month, day, half-day and era names (e.g. <c>ko-KR</c> or <c>ko_KR</c>, a .NET culture). Default:
    /// English names. A Kafka Connect config's <c>locale</c> is read as Confluent's connector reads it instead
    /// (docs/partitioning.md): <c>ko</c> is Korean, but <c>ko_KR</c> names no language there and gives English.
    /// </summary>
    public string? Locale { get; set; }

    /// <summary>Read <see cref="Locale"/> as Java's <c>new Locale(locale)</c> (set for imported Kafka Connect configs).</summary>
    internal bool JavaLocale { get; set; }

    /// <summary>Where the time comes from. Default <see cref="TimestampSource.Record"/>.</summary>
    public TimestampSource TimestampSource { get; set; } = TimestampSource.Record;

    /// <summary>
    /// With <see cref="TimestampSource.RecordField"/>: the (dotted, nested) field path, e.g. <c>order.createdAt</c>.
    /// A number (or a string of digits) is epoch time in <see cref="TimestampUnit"/>; any other string is ISO-8601
    /// (without an offset it is UTC).
    /// </summary>
    public string? TimestampField { get; set; }

    /// <summary>The unit of numeric field timestamps. Default <see cref="EpochUnit.Milliseconds"/>.</summary>
    public EpochUnit TimestampUnit { get; set; } = EpochUnit.Milliseconds;
}

/// <summary>The unit of a numeric epoch timestamp.</summary>
public enum EpochUnit
{
    /// <summary>Milliseconds since 1970-01-01T00:00:00Z.</summary>
    Milliseconds,

    /// <summary>Seconds since 1970-01-01T00:00:00Z (fractions allowed).</summary>
    Seconds,
}
