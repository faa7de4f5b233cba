namespace KafkaS3Sink;

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

/// <summary>What the sink does with a record it cannot write (Kafka Connect's <c>errors.tolerance</c>).</summary>
public enum ErrorTolerance
{
    /// <summary>Stop the sink at the first bad record, naming it (<c>none</c>); a restart stops at the same record.</summary>
    None,

    /// <summary>Skip bad records (counted, logged, and produced to the dead-letter topic when one is set) and go on (<c>all</c>).</summary>
    All,
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
