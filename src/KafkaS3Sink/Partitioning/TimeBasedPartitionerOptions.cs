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
    /// The path pattern in Joda/Confluent syntax (<c>path.format</c>): quoted literals and the fields
    /// <c>YYYY</c>/<c>yyyy</c>, <c>MM</c> (or <c>MMM</c>/<c>MMMM</c> names in <see cref="Locale"/>), <c>dd</c>, <c>HH</c>, <c>mm</c>, <c>ss</c>, <c>DDD</c>, <c>E</c>.
    /// Default <c>'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH</c>.
    /// </summary>
    public string PathFormat { get; set; } = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";

    /// <summary>The granularity (<c>partition.duration.ms</c>): record times are floored to it in <see cref="TimeZone"/>. Default 1 hour.</summary>
    public TimeSpan PartitionDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>IANA time zone id (<c>timezone</c>), e.g. <c>Asia/Seoul</c>. Default <c>UTC</c>.</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Culture for month and day names (<c>locale</c>, e.g. <c>ko_KR</c> or <c>ko-KR</c>). Default invariant.</summary>
    public string? Locale { get; set; }

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
