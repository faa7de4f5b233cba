using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Configuration;

/// <summary>The connector's partitioner settings (<c>partitioner.class</c> and what it reads) as a partition layout.</summary>
public static partial class KafkaConnectConfig
{
    /// <summary>
    /// The layout for <c>partitioner.class</c>, <c>path.format</c>, <c>partition.duration.ms</c>, <c>locale</c>,
    /// <c>timestamp.extractor</c>, <c>timestamp.field</c>, <c>partition.field.name</c> and this sink's
    /// <c>partition.header.name</c> / <c>partition.key.name</c>; null for the default partitioner. Problems go to
    /// <paramref name="errors"/>, each naming its key.
    /// </summary>
    private static Action<S3PartitionerBuilder>? PartitionerFor(Func<string, string?> get, Func<string, long?> number, string? timezone, List<string> errors)
    {
        var partitionerClass = get("partitioner.class") ?? Partitioner + "DefaultPartitioner";
        var pathFormat = get("path.format");
        var duration = number("partition.duration.ms");
        var locale = get("locale");
        var extractor = get("timestamp.extractor");
        var timestampField = get("timestamp.field");
        var fieldNames = get("partition.field.name");

        // This sink's own keys, with the field partitioners: header and key parts (docs/partitioning.md).
        var headerNames = get("partition.header.name");
        var keyPart = get("partition.key.name");
        Action<S3PartitionerBuilder>? partitioner = null;
        TimestampSource? source = extractor switch
        {
            null or "Record" => TimestampSource.Record,
            "RecordField" => TimestampSource.RecordField,
            "Wallclock" => TimestampSource.Wallclock,
            _ => null,
        };
        if (source is null)
        {
            errors.Add($"timestamp.extractor: '{extractor}' is not supported (supported: Record, RecordField, Wallclock).");
        }

        void Time(TimeBasedPartitionerOptions t, string defaultFormat, TimeSpan defaultDuration)
        {
            t.PathFormat = pathFormat ?? defaultFormat;
            t.PartitionDuration = duration is { } ms ? TimeSpan.FromMilliseconds(ms) : defaultDuration;
            t.TimeZone = timezone ?? "UTC";
            t.Locale = locale;
            t.JavaLocale = true; // new Locale(locale), as Confluent: month and day names as its keys have them
            t.TimestampSource = source ?? TimestampSource.Record;
            t.TimestampField = timestampField;
        }

        switch (partitionerClass)
        {
            case Partitioner + "DefaultPartitioner":
                break;
            case Partitioner + "TimeBasedPartitioner":
                if (pathFormat is null || duration is null)
                {
                    errors.Add("path.format / partition.duration.ms: both are required with the TimeBasedPartitioner.");
                }

                partitioner = p => p.Time(t => Time(t, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", TimeSpan.FromHours(1)));
                break;
            case Partitioner + "HourlyPartitioner":
                partitioner = p => p.Time(t => Time(t, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", TimeSpan.FromHours(1)));
                break;
            case Partitioner + "DailyPartitioner":
                partitioner = p => p.Time(t => Time(t, "'year'=YYYY/'month'=MM/'day'=dd", TimeSpan.FromDays(1)));
                break;
            case Partitioner + "FieldPartitioner":
            case FieldAndTime or "FieldAndTimeBasedPartitioner":
                var withTime = partitionerClass != Partitioner + "FieldPartitioner";
                if (string.IsNullOrWhiteSpace(fieldNames) && string.IsNullOrWhiteSpace(headerNames) && string.IsNullOrWhiteSpace(keyPart))
                {
                    errors.Add($"partition.field.name: required with the {(withTime ? "FieldAndTimeBasedPartitioner" : "FieldPartitioner")} (or partition.header.name / partition.key.name).");
                }
                else
                {
                    // Confluent names each segment after the whole field path (order.customer.region=eu); kept for imports.
                    partitioner = p =>
                    {
                        foreach (var field in (fieldNames ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                        {
                            p.Field(field, name: field);
                        }

                        foreach (var header in (headerNames ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                        {
                            p.Header(header);
                        }

                        if (!string.IsNullOrWhiteSpace(keyPart))
                        {
                            p.Key(keyPart);
                        }

                        if (withTime)
                        {
                            // This sink's own class: fields first, then Confluent's time partition (what its connector cannot combine).
                            p.Time(t => Time(t, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", TimeSpan.FromHours(1)));
                        }
                    };
                }

                break;
            default:
                errors.Add($"partitioner.class: '{partitionerClass}' is not supported (use DefaultPartitioner, TimeBasedPartitioner, HourlyPartitioner, DailyPartitioner, FieldPartitioner or {FieldAndTime}; custom partitioners are C# classes: IS3Partitioner).");
                break;
        }

        return partitioner;
    }
}
