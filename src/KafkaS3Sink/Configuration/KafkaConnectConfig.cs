using System.Globalization;
using System.Text.Json;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Configuration;

/// <summary>
/// Reads a Confluent S3 sink connector config (the JSON teams already have) into a sink's settings.
/// Known keys map to options; keys that are unknown, or known but not supported yet, are reported by
/// name, never ignored. See docs/migrating-from-kafka-connect.md for the full table.
/// </summary>
public static partial class KafkaConnectConfig
{
    private const string Partitioner = "io.confluent.connect.storage.partitioner.";

    /// <summary>This sink's partitioner class for field partitions followed by a time partition (docs/partitioning.md).</summary>
    private const string FieldAndTime = "KafkaS3Sink.Partitioning.FieldAndTimeBasedPartitioner";

    /// <summary>
    /// Parses the JSON form Kafka Connect's REST API takes (<c>{"name": ..., "config": {...}}</c>) or a flat
    /// <c>{"key": "value"}</c> object into a flat key/value map (the name becomes <c>name</c>).
    /// </summary>
    /// <param name="json">The config.</param>
    /// <returns>The keys and values, as strings.</returns>
    /// <exception cref="KafkaS3SinkConfigurationException">The JSON is not a connector config.</exception>
    public static IReadOnlyDictionary<string, string> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException ex)
        {
            throw new KafkaS3SinkConfigurationException("(connector config)", [$"The connector config is not valid JSON: {ex.Message}"]);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new KafkaS3SinkConfigurationException("(connector config)", ["The connector config must be a JSON object."]);
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var config = root;
        if (root.TryGetProperty("config", out var nested) && nested.ValueKind == JsonValueKind.Object)
        {
            config = nested;
            if (root.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                result["name"] = name.GetString()!;
            }
        }

        var errors = new List<string>();
        foreach (var property in config.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.String:
                    result[property.Name] = property.Value.GetString()!;
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[property.Name] = property.Value.GetRawText();
                    break;
                default:
                    errors.Add($"{property.Name}: must be a string, number or boolean (was a JSON {property.Value.ValueKind.ToString().ToLowerInvariant()}).");
                    break;
            }
        }

        if (errors.Count > 0)
        {
            throw new KafkaS3SinkConfigurationException(result.GetValueOrDefault("name", "(connector config)"), errors);
        }

        return result;
    }

    /// <summary>Applies a connector config to a builder; problems are reported by <see cref="KafkaS3SinkBuilder.Build"/>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="config">The flat connector config (see <see cref="Parse"/>).</param>
    /// <returns>The builder.</returns>
    internal static KafkaS3SinkBuilder Apply(KafkaS3SinkBuilder builder, IReadOnlyDictionary<string, string> config)
    {
        var errors = new List<string>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        string? Get(string key)
        {
            known.Add(key);
            return config.TryGetValue(key, out var value) ? value.Trim() : null;
        }

        long? Long(string key)
        {
            var text = Get(key);
            if (text is null)
            {
                return null;
            }

            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                return value;
            }

            errors.Add($"{key}: '{text}' is not an integer.");
            return null;
        }

        bool? Bool(string key)
        {
            var text = Get(key);
            if (text is null)
            {
                return null;
            }

            if (bool.TryParse(text, out var value))
            {
                return value;
            }

            errors.Add($"{key}: '{text}' is not a boolean (true or false).");
            return null;
        }

        void Expect(string key, string? value, params string[] supported)
        {
            if (value is not null && !supported.Contains(value, StringComparer.Ordinal))
            {
                errors.Add($"{key}: '{value}' is not supported (supported: {string.Join(", ", supported)}).");
            }
        }

        var name = Get("name");
        Expect("connector.class", Get("connector.class") ?? "io.confluent.connect.s3.S3SinkConnector", "io.confluent.connect.s3.S3SinkConnector");
        var topics = Get("topics");
        if (Get("topics.regex") is not null)
        {
            errors.Add("topics.regex: not supported; list the topics in 'topics'.");
        }

        var formatClass = Get("format.class");
        Expect("format.class", formatClass, "io.confluent.connect.s3.format.json.JsonFormat", "io.confluent.connect.s3.format.parquet.ParquetFormat", "io.confluent.connect.s3.format.bytearray.ByteArrayFormat", "io.confluent.connect.s3.format.avro.AvroFormat");
        var avroCodec = Get("avro.codec");
        Expect("avro.codec", avroCodec, "null", "deflate", "snappy", "zstandard");
        var bytesSeparator = Get("format.bytearray.separator");
        var bytesExtension = Get("format.bytearray.extension");
        var parquetCodec = Get("parquet.codec");
        Expect("parquet.codec", parquetCodec, "none", "snappy", "gzip", "zstd");
        var valueConverter = Get("value.converter");
        Expect("value.converter", valueConverter, "org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.storage.StringConverter", "org.apache.kafka.connect.converters.ByteArrayConverter");
        var schemasEnable = Get("value.converter.schemas.enable")?.ToLowerInvariant();
        Expect("value.converter.schemas.enable", schemasEnable, "false", "true");
        Expect("storage.class", Get("storage.class"), "io.confluent.connect.s3.storage.S3Storage");
        var compression = Get("s3.compression.type");
        Expect("s3.compression.type", compression, "none", "gzip", "zstd");
        var tolerance = Get("errors.tolerance")?.ToLowerInvariant();
        Expect("errors.tolerance", tolerance, "none", "all");
        var logErrors = Bool("errors.log.enable");
        var logMessages = Bool("errors.log.include.messages");
        var deadLetterTopic = Get("errors.deadletterqueue.topic.name");
        var deadLetterReplication = Long("errors.deadletterqueue.topic.replication.factor");
        var contextHeaders = Bool("errors.deadletterqueue.context.headers.enable");
        var maxRecordBytes = Long("max.record.bytes");
        var nullValues = Get("behavior.on.null.values");
        Expect("behavior.on.null.values", nullValues, "fail", "ignore", "write");
        Get("tasks.max");
        Get("schema.compatibility");
        var retryBackoff = Long("s3.retry.backoff.ms");
        var keyConverter = Get("key.converter");
        var keySchemasEnable = Get("key.converter.schemas.enable")?.ToLowerInvariant();
        Expect("key.converter.schemas.enable", keySchemasEnable, "false", "true");

        var flushSize = Long("flush.size");
        var padWidth = Long("filename.offset.zero.pad.width");
        var rotateInterval = Long("rotate.interval.ms");
        var rotateSchedule = Long("rotate.schedule.interval.ms");
        var partSize = Long("s3.part.size");
        var retries = Long("s3.part.retries");
        var endpoint = Get("store.url") ?? Get("s3.proxy.url");
        known.Add("store.url");
        var region = Get("s3.region");
        var bucket = Get("s3.bucket.name");
        var topicsDir = Get("topics.dir");
        var pathStyle = Get("s3.path.style.access.enabled");
        var accessKey = Get("aws.access.key.id");
        var secretKey = Get("aws.secret.access.key");
        var timezone = Get("timezone");
        if (timezone is not null && Partitioning.TimeZones.JodaProblem(timezone) is { } zoneProblem)
        {
            errors.Add("timezone: " + zoneProblem);
        }

        var ssea = Get("s3.ssea.name");
        var kmsKey = Get("s3.sse.kms.key.id");
        var acl = Get("s3.acl.canned");
        var tagging = Get("s3.object.tagging");

        var partitioner = PartitionerFor(Get, Long, timezone, errors);

        // Kafka Connect's per-connector consumer settings become librdkafka properties (same names for
        // the common ones, e.g. session.timeout.ms, security.protocol, sasl.*). Names librdkafka does not know
        // fail the sink when its consumer is created, naming the property.
        var consumerOverrides = new Dictionary<string, string>(StringComparer.Ordinal);
        var producerOverrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in config)
        {
            if (key.StartsWith("consumer.override.", StringComparison.Ordinal))
            {
                known.Add(key);
                consumerOverrides[key["consumer.override.".Length..]] = value;
            }
            else if (key.StartsWith("producer.override.", StringComparison.Ordinal))
            {
                // A sink connector's producer is its dead-letter producer.
                known.Add(key);
                producerOverrides[key["producer.override.".Length..]] = value;
            }
        }

        ApplySinkKeys(builder, config, known, errors);
        foreach (var key in config.Keys)
        {
            if (!known.Contains(key))
            {
                errors.Add($"{key}: unknown or unsupported setting.");
            }
        }

        builder.AddConfigurationErrors(errors);
        builder.Configure(o =>
        {
            if (name is not null)
            {
                o.Name = name;
                if (string.IsNullOrEmpty(o.GroupId))
                {
                    o.GroupId = "connect-" + name; // Kafka Connect's group id for a sink connector
                }
            }

            if (topics is not null)
            {
                foreach (var topic in topics.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    o.Topics.Add(topic);
                }
            }

            if (topicsDir is not null)
            {
                o.TopicsDir = topicsDir;
            }

            o.ValueConverter = ConverterFor(valueConverter, schemasEnable) ?? o.ValueConverter;

            // Keys are written only with WriteEnvelope; other key converters (e.g. Avro) keep the raw key.
            o.KeyConverter = ConverterFor(keyConverter, keySchemasEnable) ?? o.KeyConverter;

            if (formatClass == "io.confluent.connect.s3.format.bytearray.ByteArrayFormat")
            {
                o.Format = OutputFormat.Bytes;
                o.BytesSeparator = bytesSeparator is null ? o.BytesSeparator : System.Text.RegularExpressions.Regex.Unescape(bytesSeparator);
                o.BytesExtension = bytesExtension?.TrimStart('.') ?? o.BytesExtension;
            }

            if (formatClass == "io.confluent.connect.s3.format.avro.AvroFormat")
            {
                o.Format = OutputFormat.Avro;
                compression = avroCodec switch
                {
                    "deflate" => "gzip",
                    "snappy" => "snappy",
                    "zstandard" => "zstd",
                    _ => "none",
                };
            }

            if (formatClass == "io.confluent.connect.s3.format.parquet.ParquetFormat")
            {
                o.Format = OutputFormat.Parquet;
                o.Compression = OutputCompression.Snappy; // Confluent's parquet.codec default
                compression = parquetCodec ?? "snappy";
            }

            o.Compression = compression switch
            {
                "gzip" => OutputCompression.Gzip,
                "zstd" => OutputCompression.Zstd,
                "snappy" => OutputCompression.Snappy,
                "none" => OutputCompression.None,
                _ => o.Compression,
            };
            if (tolerance is "all" or "none")
            {
                o.Errors.Tolerance = tolerance == "all" ? ErrorTolerance.All : ErrorTolerance.None;
            }

            o.Errors.LogErrors = logErrors ?? o.Errors.LogErrors;
            o.Errors.LogIncludeMessages = logMessages ?? o.Errors.LogIncludeMessages;
            o.Errors.DeadLetterContextHeaders = contextHeaders ?? o.Errors.DeadLetterContextHeaders;

            // Kafka Connect treats an empty topic name as "no dead-letter topic".
            if (!string.IsNullOrEmpty(deadLetterTopic))
            {
                o.Errors.DeadLetterTopic = deadLetterTopic;
            }

            if (deadLetterReplication is { } rf)
            {
                o.Errors.DeadLetterTopicReplicationFactor = (short)Math.Clamp(rf, short.MinValue, short.MaxValue);
            }

            if (maxRecordBytes is { } mrb)
            {
                o.Errors.MaxRecordBytes = (int)Math.Clamp(mrb, int.MinValue, int.MaxValue);
            }

            o.NullValues = nullValues switch
            {
                "ignore" => NullValueBehavior.Ignore,
                "write" => NullValueBehavior.Write,
                "fail" => NullValueBehavior.Fail,
                _ => o.NullValues,
            };

            foreach (var (key, value) in consumerOverrides)
            {
                o.KafkaProperties[key] = value;
            }

            foreach (var (key, value) in producerOverrides)
            {
                o.Errors.DeadLetterProducerProperties[key] = value;
            }

            if (padWidth is { } pw)
            {
                o.FilenameOffsetZeroPadWidth = (int)Math.Clamp(pw, int.MinValue, int.MaxValue); // validated (with the value given) by the options
            }

            if (flushSize is { } fs)
            {
                o.FlushSize = (int)Math.Clamp(fs, int.MinValue, int.MaxValue); // validated (with the value given) by the options
            }

            if (rotateInterval is { } ri)
            {
                o.RotateInterval = TimeSpan.FromMilliseconds(ri);
            }

            if (rotateSchedule is { } rs)
            {
                o.RotateScheduleInterval = TimeSpan.FromMilliseconds(rs);
            }

            // A time zone Joda refuses is reported once, as timezone, above.
            if (timezone is not null && Partitioning.TimeZones.JodaProblem(timezone) is null)
            {
                o.RotateScheduleTimeZone = timezone;
            }

            if (region is not null)
            {
                o.S3.Region = region;
            }

            if (bucket is not null)
            {
                o.S3.BucketName = bucket;
            }

            if (partSize is { } ps)
            {
                o.S3.PartSize = ps;
            }

            if (retries is { } r)
            {
                o.S3.MaxRetries = (int)Math.Clamp(r, -1, int.MaxValue);
            }

            if (retryBackoff is { } backoff)
            {
                o.Retry.InitialBackoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff, -1, int.MaxValue));
                if (o.Retry.MaxBackoff < o.Retry.InitialBackoff)
                {
                    o.Retry.MaxBackoff = o.Retry.InitialBackoff;
                }
            }

            if (endpoint is not null)
            {
                o.S3.ServiceUrl = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri : null;
                o.S3.ForcePathStyle = true;
            }

            if (pathStyle is not null)
            {
                o.S3.ForcePathStyle = string.Equals(pathStyle, "true", StringComparison.OrdinalIgnoreCase);
            }

            if (!string.IsNullOrEmpty(ssea))
            {
                o.S3.ServerSideEncryption = ssea;
            }

            if (!string.IsNullOrEmpty(kmsKey))
            {
                o.S3.KmsKeyId = kmsKey;
            }

            if (!string.IsNullOrEmpty(acl))
            {
                o.S3.CannedAcl = acl;
            }

            if (tagging is not null)
            {
                o.S3.TagObjectsWithOffsets = string.Equals(tagging, "true", StringComparison.OrdinalIgnoreCase);
            }

            if (accessKey is not null || secretKey is not null)
            {
                o.S3.AccessKeyId = accessKey;
                o.S3.SecretAccessKey = secretKey;
            }
        });

        if (endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            builder.AddConfigurationErrors([$"s3.proxy.url / store.url: '{endpoint}' is not an absolute URL."]);
        }

        if (partitioner is not null && errors.Count == 0)
        {
            try
            {
                builder.UsePartitioner(partitioner);
            }
            catch (ArgumentException ex)
            {
                builder.AddConfigurationErrors([ex.Message.Replace("Invalid time-based partitioner settings: ", "path.format/timezone/locale/timestamp.field: ", StringComparison.Ordinal)]);
            }
        }

        return builder;
    }

    /// <summary>The built-in converter for a Kafka Connect converter class; null for classes without one.</summary>
    private static ValueConverter? ConverterFor(string? converterClass, string? schemasEnable) => converterClass switch
    {
        "org.apache.kafka.connect.storage.StringConverter" => ValueConverter.Utf8String,
        "org.apache.kafka.connect.converters.ByteArrayConverter" => ValueConverter.ByteArray,
        // Kafka Connect's JsonConverter defaults to schemas.enable=true.
        "org.apache.kafka.connect.json.JsonConverter" => schemasEnable == "false" ? ValueConverter.Json : ValueConverter.JsonWithSchemaEnvelope,
        _ => null,
    };
}
