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
        var r = new ConnectConfigReader(config);
        var name = r.Get("name");
        r.Expect("connector.class", r.Get("connector.class") ?? "io.confluent.connect.s3.S3SinkConnector", "io.confluent.connect.s3.S3SinkConnector");
        var topics = r.Get("topics");
        if (r.Get("topics.regex") is not null)
        {
            r.Errors.Add("topics.regex: not supported; list the topics in 'topics'.");
        }

        var applyFormat = ReadFormatKeys(r);
        var valueConverter = r.Get("value.converter");
        r.Expect("value.converter", valueConverter, "org.apache.kafka.connect.json.JsonConverter", "org.apache.kafka.connect.storage.StringConverter", "org.apache.kafka.connect.converters.ByteArrayConverter");
        var schemasEnable = r.Get("value.converter.schemas.enable")?.ToLowerInvariant();
        r.Expect("value.converter.schemas.enable", schemasEnable, "false", "true");
        r.Expect("storage.class", r.Get("storage.class"), "io.confluent.connect.s3.storage.S3Storage");
        var applyErrors = ReadErrorKeys(r);
        r.Get("tasks.max");
        r.Get("schema.compatibility");
        var keyConverter = r.Get("key.converter");
        var keySchemasEnable = r.Get("key.converter.schemas.enable")?.ToLowerInvariant();
        r.Expect("key.converter.schemas.enable", keySchemasEnable, "false", "true");

        var flushSize = r.Long("flush.size");
        var padWidth = r.Long("filename.offset.zero.pad.width");
        var rotateInterval = r.Long("rotate.interval.ms");
        var rotateSchedule = r.Long("rotate.schedule.interval.ms");
        var topicsDir = r.Get("topics.dir");
        var (applyS3, endpointProblem) = ReadS3Keys(r);
        var timezone = r.Get("timezone");
        if (timezone is not null && Partitioning.TimeZones.JodaProblem(timezone) is { } zoneProblem)
        {
            r.Errors.Add("timezone: " + zoneProblem);
        }

        var partitioner = PartitionerFor(r.Get, r.Long, timezone, r.Errors);

        // Kafka Connect's per-connector consumer settings become librdkafka properties (same names for
        // the common ones, e.g. session.timeout.ms, security.protocol, sasl.*). Names librdkafka does not know
        // fail the sink when its consumer is created, naming the property.
        var consumerOverrides = new Dictionary<string, string>(StringComparer.Ordinal);
        var producerOverrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in config)
        {
            if (key.StartsWith("consumer.override.", StringComparison.Ordinal))
            {
                r.Known.Add(key);
                consumerOverrides[key["consumer.override.".Length..]] = value;
            }
            else if (key.StartsWith("producer.override.", StringComparison.Ordinal))
            {
                // A sink connector's producer is its dead-letter producer.
                r.Known.Add(key);
                producerOverrides[key["producer.override.".Length..]] = value;
            }
        }

        ApplySinkKeys(builder, r);
        r.ReportUnread();
        builder.AddConfigurationErrors(r.Errors);
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
            applyFormat(o);
            applyErrors(o);
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

            applyS3(o);
        });

        if (endpointProblem is not null)
        {
            builder.AddConfigurationErrors([endpointProblem]);
        }

        if (partitioner is not null && r.Errors.Count == 0)
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
