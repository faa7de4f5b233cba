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
            errors.Add($"FilenameOffsetZeroPadWidth: must be between 1 and 19 (was {FilenameOffsetZeroPadWidth}).");
        }

        if (FlushSize < 1)
        {
            errors.Add($"FlushSize: must be at least 1 (was {FlushSize}).");
        }

        if (FlushBytes is < 1)
        {
            errors.Add($"FlushBytes: must be at least 1 (was {FlushBytes}).");
        }

        if (RotateInterval is { } interval && interval <= TimeSpan.Zero)
        {
            errors.Add($"RotateInterval: must be positive (was {interval}).");
        }

        if (RotateScheduleInterval is { } schedule && (schedule < TimeSpan.FromSeconds(1) || TimeSpan.FromDays(1).Ticks % schedule.Ticks != 0))
        {
            errors.Add($"RotateScheduleInterval: must be at least 1 s and divide a day evenly (was {schedule}).");
        }

        if (IdleRotateInterval is { } idle && idle <= TimeSpan.Zero)
        {
            errors.Add($"IdleRotateInterval: must be positive (was {idle}).");
        }

        if (!TimeZoneInfo.TryFindSystemTimeZoneById(RotateScheduleTimeZone ?? string.Empty, out _))
        {
            errors.Add($"RotateScheduleTimeZone: '{RotateScheduleTimeZone}' is not a known IANA time zone.");
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
        return errors;
    }
}

/// <summary>Where and how objects are written.</summary>
public sealed class S3StorageOptions
{
    /// <summary>The smallest part size S3 accepts for multipart uploads: 5 MiB.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>Bucket name (<c>s3.bucket.name</c>). Required.</summary>
    public string BucketName { get; set; } = string.Empty;

    /// <summary>Region (<c>s3.region</c>). Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// Endpoint of an S3-compatible store (e.g. <c>http://127.0.0.1:7480</c>); <see langword="null"/> for AWS. Default <see langword="null"/>.
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Use path-style addressing (needed by most S3-compatible stores). Default <see langword="false"/>.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Access key id; when <see langword="null"/> the AWS SDK's credential chain is used. Default <see langword="null"/>.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>Secret access key, with <see cref="AccessKeyId"/>. Never logged. Default <see langword="null"/>.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>
    /// Multipart part size in bytes (<c>s3.part.size</c>); objects up to this size are sent with a
    /// single PUT. At least 5 MiB. Default 25 MiB, as Confluent's connector. Memory use does not depend on it:
    /// parts are streamed from disk.
    /// </summary>
    public long PartSize { get; set; } = 25L * 1024 * 1024;

    /// <summary>Maximum number of objects uploading at once, across all topic-partitions. Default 4.</summary>
    public int MaxConcurrentUploads { get; set; } = 4;

    /// <summary>
    /// Retries of one S3 request (<c>s3.part.retries</c>) before its failure is logged as a warning and shows in the
    /// status; earlier retries are logged at debug level. Transient failures are retried for as long as the sink runs
    /// (see <see cref="RetryOptions"/>), so this does not make the sink fail. Default 3.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>
    /// How long one S3 request may take before it is abandoned and retried (a stalled connection). Default 100 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Server-side encryption: <c>AES256</c> (SSE-S3) or <c>aws:kms</c> (SSE-KMS). Default <see langword="null"/> (the bucket's default).</summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>With <c>aws:kms</c>: the KMS key id or ARN; <see langword="null"/> for the AWS-managed key. Default <see langword="null"/>.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>Storage class of the objects, e.g. <c>STANDARD_IA</c>, <c>INTELLIGENT_TIERING</c>. Default <see langword="null"/> (STANDARD).</summary>
    public string? StorageClass { get; set; }

    /// <summary>Canned ACL of the objects, e.g. <c>bucket-owner-full-control</c>. Default <see langword="null"/> (none sent).</summary>
    public string? CannedAcl { get; set; }

    /// <summary>Tags put on every object (S3 allows 10 per object). Default none.</summary>
    public IDictionary<string, string> ObjectTags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Also tag each object with <c>startOffset</c>, <c>endOffset</c> and <c>recordCount</c> (Confluent's <c>s3.object.tagging</c>).
    /// The same values are always written as metadata (<c>x-amz-meta-kafkas3sink-*</c>). Default <see langword="false"/>.
    /// </summary>
    public bool TagObjectsWithOffsets { get; set; }

    /// <summary>
    /// Whether uploads use conditional writes (<c>If-None-Match</c>/<c>If-Match</c>) and a lease object per
    /// topic-partition so that a sink that lost its partitions cannot overwrite a newer owner's objects
    /// (see docs/guarantees.md). Default <see cref="ConditionalWrites.Auto"/>.
    /// </summary>
    public ConditionalWrites ConditionalWrites { get; set; } = ConditionalWrites.Auto;

    internal void Validate(List<string> errors)
    {
        if (!Enum.IsDefined(ConditionalWrites))
        {
            errors.Add($"S3.ConditionalWrites: '{ConditionalWrites}' is not Auto, Required or Disabled.");
        }

        if (string.IsNullOrWhiteSpace(BucketName))
        {
            errors.Add("S3.BucketName: required.");
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            errors.Add("S3.Region: required.");
        }

        if (PartSize < MinimumPartSize)
        {
            errors.Add($"S3.PartSize: must be at least {MinimumPartSize} bytes (5 MiB), was {PartSize}.");
        }

        if (MaxConcurrentUploads < 1)
        {
            errors.Add($"S3.MaxConcurrentUploads: must be at least 1 (was {MaxConcurrentUploads}).");
        }

        if (MaxRetries < 0)
        {
            errors.Add($"S3.MaxRetries: must not be negative (was {MaxRetries}).");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"S3.RequestTimeout: must be positive (was {RequestTimeout}).");
        }

        if (ServerSideEncryption is not (null or "AES256" or "aws:kms"))
        {
            errors.Add($"S3.ServerSideEncryption: '{ServerSideEncryption}' is not supported (AES256 or aws:kms).");
        }

        if (KmsKeyId is not null && ServerSideEncryption != "aws:kms")
        {
            errors.Add("S3.KmsKeyId: only used with S3.ServerSideEncryption = aws:kms.");
        }

        if (CannedAcl is not (null or "private" or "public-read" or "public-read-write" or "authenticated-read" or "aws-exec-read" or "bucket-owner-read" or "bucket-owner-full-control"))
        {
            errors.Add($"S3.CannedAcl: '{CannedAcl}' is not a canned ACL.");
        }

        if (StorageClass is { Length: 0 })
        {
            errors.Add("S3.StorageClass: must not be empty (leave it null for STANDARD).");
        }

        if (ObjectTags.Count + (TagObjectsWithOffsets ? 3 : 0) > 10)
        {
            errors.Add($"S3.ObjectTags: S3 allows at most 10 tags per object (got {ObjectTags.Count}{(TagObjectsWithOffsets ? " + 3 offset tags" : string.Empty)}).");
        }

        if ((AccessKeyId is null) != (SecretAccessKey is null))
        {
            errors.Add("S3.AccessKeyId / S3.SecretAccessKey: set both or neither.");
        }

        if (ServiceUrl is not null && !ServiceUrl.IsAbsoluteUri)
        {
            errors.Add($"S3.ServiceUrl: '{ServiceUrl}' must be an absolute URL.");
        }
    }
}

/// <summary>How records are staged on local disk before upload.</summary>
public sealed class StagingOptions
{
    /// <summary>
    /// Folder where segments are staged. Default: <c>&lt;temp&gt;/kafkas3sink/&lt;sink name&gt;</c>. Each sink needs its own
    /// folder; its content is a cache that the sink clears when it starts.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>
    /// Whether sealing a segment fsyncs it. Default <see langword="true"/>. Turning it off trades a
    /// replay from Kafka after a machine crash for speed; it never costs data.
    /// </summary>
    public bool FsyncOnSeal { get; set; } = true;

    /// <summary>
    /// Most segment files kept open at once (an LRU over open segments; an evicted segment is reopened to
    /// append). Handles cost kernel memory, not process memory. When records arrive round-robin over more
    /// open segments than handles, appends reopen files. The sink uses at most the process's open-file
    /// limit minus 512. Default 4,096.
    /// </summary>
    public int MaxOpenFileHandles { get; set; } = 4096;

    /// <summary>
    /// Most pooled write buffers at once (an LRU over segments with a handle; a segment without one borrows
    /// the least recently used, which is flushed first). Memory for staging is about this × <see cref="WriteBufferSize"/>.
    /// Default 1,024.
    /// </summary>
    public int MaxWriteBuffers { get; set; } = 1024;

    /// <summary>Size of each pooled write buffer, in bytes. Default 16 KiB.</summary>
    public int WriteBufferSize { get; set; } = 16 * 1024;

    /// <summary>
    /// Most open segments (distinct topic-partition × path) at once. Beyond it, the topic-partition holding
    /// the least recently written segment is rotated. Default 100,000.
    /// </summary>
    public int MaxOpenSegments { get; set; } = 100_000;

    /// <summary>
    /// High watermark of staged bytes (open and sealed segments, object files). Above it the sink pauses
    /// consumption (still polling), rotates to free space through uploads, and resumes below
    /// <see cref="ResumeStagedBytes"/>. Default 10 GiB.
    /// </summary>
    public long MaxStagedBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>Low watermark: consumption resumes once staged bytes fall below it. Default: 75 % of <see cref="MaxStagedBytes"/>.</summary>
    public long? ResumeStagedBytes { get; set; }

    /// <summary>
    /// Pause consumption while the staging volume has less free space than this, in bytes; 0 turns the check off.
    /// Default 512 MiB.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = 512L * 1024 * 1024;

    internal long EffectiveResumeStagedBytes => ResumeStagedBytes ?? MaxStagedBytes / 4 * 3;

    /// <summary><see cref="MaxOpenFileHandles"/>, kept 512 below the process's open-file limit so the sink cannot exhaust it.</summary>
    internal int EffectiveMaxOpenFileHandles => Math.Min(MaxOpenFileHandles, Math.Max(16, OpenFileLimit() - 512));

    private static int OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return soft == "unlimited" ? int.MaxValue : (int)Math.Min(int.MaxValue, long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // Not Linux, or not readable: trust the setting.
        }

        return int.MaxValue;
    }

    internal void Validate(List<string> errors)
    {
        if (Directory is { Length: 0 })
        {
            errors.Add("Staging.Directory: must not be empty (leave it null for the default).");
        }

        if (MaxOpenFileHandles < 1)
        {
            errors.Add($"Staging.MaxOpenFileHandles: must be at least 1 (was {MaxOpenFileHandles}).");
        }

        if (MaxWriteBuffers < 1)
        {
            errors.Add($"Staging.MaxWriteBuffers: must be at least 1 (was {MaxWriteBuffers}).");
        }

        if (WriteBufferSize < 512)
        {
            errors.Add($"Staging.WriteBufferSize: must be at least 512 bytes (was {WriteBufferSize}).");
        }

        if (MaxOpenSegments < 1)
        {
            errors.Add($"Staging.MaxOpenSegments: must be at least 1 (was {MaxOpenSegments}).");
        }

        if (MaxStagedBytes < 1)
        {
            errors.Add($"Staging.MaxStagedBytes: must be positive (was {MaxStagedBytes}).");
        }

        if (ResumeStagedBytes is { } resume && (resume < 0 || resume >= MaxStagedBytes))
        {
            errors.Add($"Staging.ResumeStagedBytes: must be at least 0 and below Staging.MaxStagedBytes (was {resume}).");
        }

        if (MinFreeDiskBytes < 0)
        {
            errors.Add($"Staging.MinFreeDiskBytes: must not be negative (was {MinFreeDiskBytes}).");
        }
    }
}

/// <summary>Whether a sink fences older owners of its topic-partitions with conditional writes.</summary>
public enum ConditionalWrites
{
    /// <summary>Probe the store at start; fence if it honours <c>If-None-Match</c> and <c>If-Match</c> on PUT, otherwise log a warning and write unfenced.</summary>
    Auto,

    /// <summary>Fence; fail at start if the store does not honour conditional PUTs.</summary>
    Required,

    /// <summary>Never fence: no lease objects, no conditions, no extra requests.</summary>
    Disabled,
}

/// <summary>What the sink does with a record whose value is null (a tombstone).</summary>
public enum NullValueBehavior
{
    /// <summary>Fail the sink, naming the record (Confluent's default).</summary>
    Fail,

    /// <summary>Skip it; its offset is committed with the next rotation.</summary>
    Ignore,

    /// <summary>Write it: a <c>null</c> line in JSON lines.</summary>
    Write,
}

/// <summary>Compression of the objects written.</summary>
public enum OutputCompression
{
    /// <summary>No compression.</summary>
    None,

    /// <summary>gzip (<c>.json.gz</c>), readable by Athena, Trino, DuckDB and Spark.</summary>
    Gzip,

    /// <summary>Zstandard (<c>.json.zst</c>), level 3.</summary>
    Zstd,

    /// <summary>Snappy, for Parquet and Avro (Avro's <c>snappy</c> codec, with its CRC-32 per block).</summary>
    Snappy,
}

/// <summary>The format of the objects written.</summary>
public enum OutputFormat
{
    /// <summary>One JSON value per line (Confluent's JsonFormat).</summary>
    JsonLines,

    /// <summary>Parquet with a schema inferred from the JSON records of each object (see docs/formats.md).</summary>
    Parquet,

    /// <summary>An Avro object container file with a schema inferred from the JSON records (see docs/formats.md).</summary>
    Avro,

    /// <summary>The raw value bytes, each followed by <see cref="KafkaS3SinkOptions.BytesSeparator"/> (Confluent's ByteArrayFormat).</summary>
    Bytes,
}

/// <summary>How record values are read (see <see cref="Converters.RecordConverters"/>).</summary>
public enum ValueConverter
{
    /// <summary>Schemaless JSON (<c>JsonConverter</c>, <c>schemas.enable=false</c>).</summary>
    Json,

    /// <summary>Kafka Connect's <c>{"schema","payload"}</c> envelope (<c>schemas.enable=true</c>); the payload is written.</summary>
    JsonWithSchemaEnvelope,

    /// <summary>UTF-8 strings (<c>StringConverter</c>).</summary>
    Utf8String,

    /// <summary>Raw bytes (<c>ByteArrayConverter</c>), written base64.</summary>
    ByteArray,

    /// <summary>CBOR values, written as JSON.</summary>
    Cbor,
}
