namespace KafkaS3Sink;

/// <summary>Settings of one sink. Defaults are given on each property.</summary>
public sealed class KafkaS3SinkOptions
{
    /// <summary>The sink's name, used in logs and for the default staging folder. Default <c>default</c>.</summary>
    public string Name { get; set; } = "default";

    /// <summary>Kafka bootstrap servers (<c>bootstrap.servers</c>). Required.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>Consumer group id (<c>group.id</c>). Required.</summary>
    public string GroupId { get; set; } = string.Empty;

    /// <summary>Topics to back up (<c>topics</c>). At least one is required.</summary>
    public IList<string> Topics { get; } = new List<string>();

    /// <summary>The top-level prefix of every object key (<c>topics.dir</c>). Default <c>topics</c>.</summary>
    public string TopicsDir { get; set; } = "topics";

    /// <summary>
    /// Digits of the start offset in object names, zero-padded (<c>filename.offset.zero.pad.width</c>). Default 10, as Confluent.
    /// </summary>
    public int FilenameOffsetZeroPadWidth { get; set; } = 10;

    /// <summary>
    /// Records per topic-partition after which its open segments are rotated (<c>flush.size</c>).
    /// Used when no rotation policy is given to the builder. Default 1,000.
    /// </summary>
    public int FlushSize { get; set; } = 1000;

    /// <summary>
    /// Also rotate a topic-partition once it holds this many payload bytes. Replay-safe. Default <see langword="null"/> (off).
    /// </summary>
    public long? FlushBytes { get; set; }

    /// <summary>
    /// Also rotate when a record's Kafka timestamp is this far past the rotation's first record (<c>rotate.interval.ms</c>).
    /// Replay-safe. Default <see langword="null"/> (off).
    /// </summary>
    public TimeSpan? RotateInterval { get; set; }

    /// <summary>
    /// Also rotate on a wall-clock schedule (<c>rotate.schedule.interval.ms</c>): when the clock crosses a multiple of
    /// this interval since midnight in <see cref="RotateScheduleTimeZone"/>, even if no record arrives. Default <see langword="null"/> (off).
    /// </summary>
    public TimeSpan? RotateScheduleInterval { get; set; }

    /// <summary>IANA time zone the schedule is aligned in (Confluent's <c>timezone</c>). Default <c>UTC</c>.</summary>
    public string RotateScheduleTimeZone { get; set; } = "UTC";

    /// <summary>
    /// Also rotate a topic-partition that received no record for this long, so the last file of a quiet topic
    /// does not wait forever. Default <see langword="null"/> (off).
    /// </summary>
    public TimeSpan? IdleRotateInterval { get; set; }

    /// <summary>
    /// How often the sink logs a progress line at Information level (records staged, objects and bytes uploaded,
    /// commits, lag, staged bytes since the last line); a quiet sink with no lag logs nothing. Default one minute;
    /// <see langword="null"/> turns it off (the same numbers are metrics).
    /// </summary>
    public TimeSpan? ProgressLogInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>What to do with a record whose value is null (a tombstone; <c>behavior.on.null.values</c>). Default <see cref="NullValueBehavior.Fail"/>.</summary>
    public NullValueBehavior NullValues { get; set; } = NullValueBehavior.Fail;

    /// <summary>How record values are read (<c>value.converter</c>) unless the builder sets a converter. Default <see cref="ValueConverter.Json"/>.</summary>
    public ValueConverter ValueConverter { get; set; } = ValueConverter.Json;

    /// <summary>
    /// How record keys are read for <see cref="WriteEnvelope"/> (<c>key.converter</c>) unless the builder sets a key
    /// converter: the envelope's <c>key</c> is then the converted key (e.g. a JSON object). Default <see langword="null"/>:
    /// keys are written as UTF-8 strings, or <c>{"base64": …}</c> when they are not valid UTF-8. Keys are only
    /// written with the envelope; a sink that sets this without it logs so at start.
    /// </summary>
    public ValueConverter? KeyConverter { get; set; }

    /// <summary>
    /// Write each value inside an envelope with its topic, partition, offset, timestamp, key and headers
    /// (see docs/formats.md). Default <see langword="false"/>: the value alone, as Confluent's formats.
    /// </summary>
    public bool WriteEnvelope { get; set; }

    /// <summary>With <see cref="OutputFormat.Bytes"/>: written after each value (<c>format.bytearray.separator</c>). Default a line feed.</summary>
    public string BytesSeparator { get; set; } = "\n";

    /// <summary>With <see cref="OutputFormat.Bytes"/>: the file extension, without the dot (<c>format.bytearray.extension</c>). Default <c>bin</c>.</summary>
    public string BytesExtension { get; set; } = "bin";

    /// <summary>The object format (<c>format.class</c>). Default <see cref="OutputFormat.JsonLines"/>.</summary>
    public OutputFormat Format { get; set; } = OutputFormat.JsonLines;

    /// <summary>
    /// Compression of the objects (<c>s3.compression.type</c>, <c>parquet.codec</c> or <c>avro.codec</c>): JSON lines get
    /// <c>.json.gz</c>/<c>.json.zst</c>; Parquet compresses its pages; Avro its blocks (Gzip = the <c>deflate</c> codec,
    /// <c>snappy</c>, <c>zstandard</c>). Default <see cref="OutputCompression.None"/>.
    /// </summary>
    public OutputCompression Compression { get; set; } = OutputCompression.None;

    /// <summary>Local staging: folder, file handles, open-segment cap and disk quota.</summary>
    public StagingOptions Staging { get; } = new();

    /// <summary>S3 settings.</summary>
    public S3StorageOptions S3 { get; } = new();

    /// <summary>Retries of transient faults, the health budget and the progress watchdog.</summary>
    public RetryOptions Retry { get; } = new();

    /// <summary>What happens to records the sink cannot write: stop, skip, or a dead-letter topic (Kafka Connect's <c>errors.*</c>).</summary>
    public ErrorOptions Errors { get; } = new();

    /// <summary>
    /// Extra librdkafka consumer properties (e.g. <c>security.protocol</c>), applied after the sink's own.
    /// <c>enable.auto.commit</c> and <c>enable.auto.offset.store</c> cannot be overridden.
    /// </summary>
    public IDictionary<string, string> KafkaProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Returns every problem with these settings, each naming the setting; empty when valid.</summary>
    /// <returns>The problems found.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name))
        {
            errors.Add("Name: must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(BootstrapServers))
        {
            errors.Add("BootstrapServers: required (the Kafka bootstrap.servers list).");
        }

        if (string.IsNullOrWhiteSpace(GroupId))
        {
            errors.Add("GroupId: required (the consumer group id).");
        }

        if (Topics.Count == 0)
        {
            errors.Add("Topics: at least one topic is required.");
        }

        foreach (var topic in Topics)
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Contains('/', StringComparison.Ordinal))
            {
                errors.Add($"Topics: '{topic}' is not a valid topic name.");
            }
        }

        if (TopicsDir is null || TopicsDir.StartsWith('/') || TopicsDir.EndsWith('/') || TopicsDir.Contains("..", StringComparison.Ordinal))
        {
            errors.Add($"TopicsDir: '{TopicsDir}' must be a relative prefix without leading or trailing '/' or '..'.");
        }

        if (Format == OutputFormat.Bytes && (string.IsNullOrEmpty(BytesExtension) || BytesExtension.Contains('/', StringComparison.Ordinal) || BytesExtension.StartsWith('.')))
        {
            errors.Add($"BytesExtension: '{BytesExtension}' must be a non-empty extension without a leading dot or '/'.");
        }

        if (Format == OutputFormat.Bytes && WriteEnvelope)
        {
            errors.Add("WriteEnvelope: not available with Format = Bytes (raw values have no place for metadata).");
        }

        if (Compression == OutputCompression.Snappy && Format is not (OutputFormat.Parquet or OutputFormat.Avro))
        {
            errors.Add("Compression: Snappy is only supported with Format = Parquet or Avro (use Gzip or Zstd for JSON lines and bytes).");
        }

        if (FilenameOffsetZeroPadWidth is < 1 or > 19)
        {
            errors.Add($"FilenameOffsetZeroPadWidth (filename.offset.zero.pad.width): must be between 1 and 19 (was {FilenameOffsetZeroPadWidth}).");
        }

        if (FlushSize < 1)
        {
            errors.Add($"FlushSize (flush.size): must be at least 1 (was {FlushSize}).");
        }

        if (FlushBytes is < 1)
        {
            errors.Add($"FlushBytes: must be at least 1 (was {FlushBytes}).");
        }

        if (RotateInterval is { } interval && interval <= TimeSpan.Zero)
        {
            errors.Add($"RotateInterval (rotate.interval.ms): must be positive (was {interval}).");
        }

        if (RotateScheduleInterval is { } schedule && (schedule < TimeSpan.FromSeconds(1) || TimeSpan.FromDays(1).Ticks % schedule.Ticks != 0))
        {
            errors.Add($"RotateScheduleInterval (rotate.schedule.interval.ms): must be at least 1 s and divide a day evenly (was {schedule}).");
        }

        if (ProgressLogInterval is { } progress && progress <= TimeSpan.Zero)
        {
            errors.Add($"ProgressLogInterval: must be positive, or null to turn the progress line off (was {progress}).");
        }

        if (IdleRotateInterval is { } idle && idle <= TimeSpan.Zero)
        {
            errors.Add($"IdleRotateInterval: must be positive (was {idle}).");
        }

        if (!Partitioning.TimeZones.TryFind(RotateScheduleTimeZone, out _))
        {
            errors.Add($"RotateScheduleTimeZone (timezone): '{RotateScheduleTimeZone}' is not a known IANA time zone or offset (e.g. +09:00).");
        }

        foreach (var key in KafkaProperties.Keys)
        {
            if (key is "enable.auto.commit" or "enable.auto.offset.store")
            {
                errors.Add($"KafkaProperties: '{key}' is managed by the sink (offsets are committed only after upload).");
            }
        }

        Staging.Validate(errors);
        S3.Validate(errors);
        Retry.Validate(errors);
        Errors.Validate(Topics, errors);
        return errors;
    }
}
