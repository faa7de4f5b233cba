namespace KafkaS3Sink;

/// <summary>
/// What the sink does with a record it cannot write: one whose value or key the converter rejects (malformed
/// JSON, invalid UTF-8, a wrong shape), that the partitioner cannot place (a missing or non-scalar field, an
/// over-long or invalid path, an unreadable timestamp), that is larger than <see cref="MaxRecordBytes"/>, or
/// for which a custom converter or partitioner throws. Kafka Connect's <c>errors.*</c> settings; see
/// docs/error-handling.md.
/// </summary>
public sealed class ErrorOptions
{
    /// <summary>
    /// <see cref="ErrorTolerance.None"/> (the default, <c>errors.tolerance=none</c>) stops the sink at the first
    /// bad record, naming it; <see cref="ErrorTolerance.All"/> (<c>errors.tolerance=all</c>) skips it (and
    /// sends it to <see cref="DeadLetterTopic"/> when set) and goes on.
    /// </summary>
    public ErrorTolerance Tolerance { get; set; } = ErrorTolerance.None;

    /// <summary>
    /// Log every bad record that is skipped or dead-lettered, at Error level, naming it and the stage that
    /// rejected it (<c>errors.log.enable</c>). Without it, skipped records are summed up in one warning per
    /// 30 s. Default <see langword="false"/>.
    /// </summary>
    public bool LogErrors { get; set; }

    /// <summary>Include the record's key, value and headers in those log lines (<c>errors.log.include.messages</c>). Default <see langword="false"/>.</summary>
    public bool LogIncludeMessages { get; set; }

    /// <summary>
    /// The Kafka topic bad records are produced to with <see cref="ErrorTolerance.All"/>
    /// (<c>errors.deadletterqueue.topic.name</c>): original key, value, headers and timestamp, by an
    /// idempotent producer (acks=all); a record's offset is committed only once the topic acknowledged it.
    /// Created with one partition if it does not exist. <see langword="null"/> (default): none.
    /// </summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>The replication factor of the dead-letter topic when the sink creates it (<c>errors.deadletterqueue.topic.replication.factor</c>). Default 3.</summary>
    public short DeadLetterTopicReplicationFactor { get; set; } = 3;

    /// <summary>
    /// Add Kafka Connect's <c>__connect.errors.*</c> headers (source topic, partition, offset, connector name,
    /// task id, stage, class, exception class, message and stack trace) to each dead-lettered record
    /// (<c>errors.deadletterqueue.context.headers.enable</c>). Default <see langword="false"/>.
    /// </summary>
    public bool DeadLetterContextHeaders { get; set; }

    /// <summary>
    /// Extra librdkafka producer properties for the dead-letter producer (Kafka Connect's
    /// <c>producer.override.*</c>), applied after the connection settings it shares with the consumer and its
    /// own defaults (<c>linger.ms=5</c>, <c>message.timeout.ms=30000</c>). <c>enable.idempotence</c> and
    /// <c>acks</c> are fixed (true, all).
    /// </summary>
    public IDictionary<string, string> DeadLetterProducerProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Records whose key and value together are larger than this many bytes are bad records (handled by
    /// <see cref="Tolerance"/>) instead of being written (<c>max.record.bytes</c>). <see langword="null"/>
    /// (default): no limit.
    /// </summary>
    public int? MaxRecordBytes { get; set; }

    internal void Validate(IList<string> topics, List<string> errors)
    {
        if (DeadLetterTopic is { } topic)
        {
            if (string.IsNullOrWhiteSpace(topic) || topic.Length > 249 || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                errors.Add($"Errors.DeadLetterTopic (errors.deadletterqueue.topic.name): '{topic}' is not a valid topic name (letters, digits, '.', '_', '-', at most 249).");
            }
            else if (topics.Contains(topic, StringComparer.Ordinal))
            {
                errors.Add($"Errors.DeadLetterTopic (errors.deadletterqueue.topic.name): '{topic}' is one of the sink's own topics; bad records would come back to it.");
            }
        }

        if (DeadLetterTopicReplicationFactor < 1 && DeadLetterTopicReplicationFactor != -1)
        {
            errors.Add($"Errors.DeadLetterTopicReplicationFactor (errors.deadletterqueue.topic.replication.factor): must be at least 1, or -1 for the broker's default (was {DeadLetterTopicReplicationFactor}).");
        }

        foreach (var key in DeadLetterProducerProperties.Keys)
        {
            if (key is "enable.idempotence" or "acks" or "request.required.acks")
            {
                errors.Add($"Errors.DeadLetterProducerProperties (producer.override.{key}): fixed by the sink (an idempotent producer with acks=all, so no dead letter is lost or reordered).");
            }
        }

        if (MaxRecordBytes is < 1)
        {
            errors.Add($"Errors.MaxRecordBytes (max.record.bytes): must be at least 1, or unset for no limit (was {MaxRecordBytes}).");
        }
    }
}
