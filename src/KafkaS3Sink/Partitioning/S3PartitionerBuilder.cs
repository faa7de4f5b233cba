namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Composes a partition path from parts, in order: fields (nested, schemaless), time, headers, key,
/// Kafka partition, or your own. E.g. <c>.Field("order.customer.region").Hourly(t => t.TimestampField = "createdAt")</c>
/// gives <c>region=eu/year=2026/month=11/day=27/hour=09</c>. Every value is encoded with <see cref="S3KeyEncoding"/>.
/// </summary>
public sealed class S3PartitionerBuilder
{
    private readonly List<Func<TimeProvider, IS3Partitioner>> parts = [];

    internal int Count => parts.Count;

    /// <summary>
    /// Adds <c>name=value</c> from a field of the record value. Works on schemaless JSON and on structured
    /// values (nested dictionaries). A missing field, or a value that is an object or array, fails the record.
    /// </summary>
    /// <param name="fieldPath">Dotted path, e.g. <c>order.customer.region</c>.</param>
    /// <param name="name">The segment name. Default: the path's last part (<c>region</c>).</param>
    /// <param name="nullValue">Written for a JSON null; default <see langword="null"/>: a null fails the record.</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Field(string fieldPath, string? name = null, string? nullValue = null)
    {
        var partitioner = new FieldPartitioner(fieldPath, name, nullValue); // validates now
        parts.Add(_ => partitioner);
        return this;
    }

    /// <summary>Adds <c>name=value</c> from a record header, decoded as UTF-8 (the last header of that name wins).</summary>
    /// <param name="header">Header name.</param>
    /// <param name="name">The segment name. Default: the header name.</param>
    /// <param name="missingValue">Written when the header is missing or null; default <see langword="null"/>: the record fails.</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Header(string header, string? name = null, string? missingValue = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(header);
        var partitioner = new HeaderPartitioner(header, name, missingValue);
        parts.Add(_ => partitioner);
        return this;
    }

    /// <summary>Adds <c>name=&lt;key&gt;</c> from the record key, decoded as UTF-8.</summary>
    /// <param name="name">The segment name. Default <c>key</c>.</param>
    /// <param name="nullValue">Written for a null key; default <see langword="null"/>: the record fails.</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Key(string name = "key", string? nullValue = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var partitioner = new KeyPartitioner(name, nullValue);
        parts.Add(_ => partitioner);
        return this;
    }

    /// <summary>Adds <c>partition=&lt;n&gt;</c>, the Kafka partition (Confluent's DefaultPartitioner).</summary>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder KafkaPartition()
    {
        parts.Add(_ => new DefaultPartitioner());
        return this;
    }

    /// <summary>Adds a time-based part (Confluent's TimeBasedPartitioner).</summary>
    /// <param name="configure">Changes to the defaults (hourly, UTC, record timestamp).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">A setting is invalid; the message names each one.</exception>
    public S3PartitionerBuilder Time(Action<TimeBasedPartitionerOptions>? configure = null)
    {
        var options = new TimeBasedPartitionerOptions();
        configure?.Invoke(options);
        var errors = TimeBasedPartitioner.Validate(options);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid time-based partitioner settings: " + string.Join(" ", errors), nameof(configure));
        }

        parts.Add(time => new TimeBasedPartitioner(options, time));
        return this;
    }

    /// <summary>Adds <c>year=YYYY/month=MM/day=dd/hour=HH</c>, hourly.</summary>
    /// <param name="configure">Further changes (time zone, timestamp source).</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Hourly(Action<TimeBasedPartitionerOptions>? configure = null) => Time(o =>
    {
        o.PathFormat = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
        o.PartitionDuration = TimeSpan.FromHours(1);
        configure?.Invoke(o);
    });

    /// <summary>Adds <c>year=YYYY/month=MM/day=dd</c>, daily.</summary>
    /// <param name="configure">Further changes (time zone, timestamp source).</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Daily(Action<TimeBasedPartitionerOptions>? configure = null) => Time(o =>
    {
        o.PathFormat = "'year'=YYYY/'month'=MM/'day'=dd";
        o.PartitionDuration = TimeSpan.FromDays(1);
        configure?.Invoke(o);
    });

    /// <summary>Adds your own part. It must return an encoded path (see <see cref="S3KeyEncoding"/>).</summary>
    /// <param name="partitioner">The partitioner.</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Custom(IS3Partitioner partitioner)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        parts.Add(_ => partitioner);
        return this;
    }

    /// <summary>Adds your own part as a function. It must return an encoded path (see <see cref="S3KeyEncoding"/>).</summary>
    /// <param name="partitioner">The function.</param>
    /// <returns>This builder.</returns>
    public S3PartitionerBuilder Custom(Func<SinkRecord, string> partitioner)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        parts.Add(_ => new DelegatePartitioner(partitioner));
        return this;
    }

    /// <summary>
    /// Builds the partitioner on its own, e.g. to unit-test a layout without Kafka or S3:
    /// <c>partitioner.GetPartitionPath(RecordConverters.Json().Convert(record))</c>. The sink also checks each
    /// path it returns (<see cref="PartitionPaths.Of(IS3Partitioner, KafkaRecord, IRecordConverter?)"/> does both).
    /// </summary>
    /// <param name="time">The clock for <see cref="TimestampSource.Wallclock"/>; the system clock when null.</param>
    /// <returns>The partitioner.</returns>
    /// <exception cref="InvalidOperationException">No part was added.</exception>
    /// <exception cref="ArgumentException">A time part has invalid settings.</exception>
    public IS3Partitioner Build(TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (parts.Count == 0)
        {
            throw new InvalidOperationException("The partitioner has no parts.");
        }

        return parts.Count == 1 ? parts[0](time) : new CompositePartitioner([.. parts.Select(p => p(time))]);
    }
}

/// <summary>A partitioner made from a function.</summary>
internal sealed class DelegatePartitioner(Func<SinkRecord, string> function) : IS3Partitioner
{
    public string GetPartitionPath(SinkRecord record) => function(record);
}
