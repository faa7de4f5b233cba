namespace KafkaS3Sink;

/// <summary>
/// Distributed mode of a worker (<c>AddKafkaS3SinkWorker</c>): connector configs and target states live in a Kafka
/// topic, as in Kafka Connect's distributed mode, so every worker that reads the topic runs the same connectors,
/// and they come back after every worker restarted. Each worker runs one member of each connector's consumer group,
/// and the group spreads the partitions over the workers. See docs/operations.md.
/// </summary>
public sealed class KafkaS3SinkWorkerOptions
{
    /// <summary>The Kafka cluster that holds <see cref="ConfigTopic"/> (normally the one the sinks consume). Required.</summary>
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>
    /// The topic of connector configs and target states (Connect's <c>config.storage.topic</c>); every worker of a
    /// cluster names the same one. Created compacted with one partition if missing (where the cluster allows it).
    /// </summary>
    public string ConfigTopic { get; set; } = "kafkas3sink-configs";

    /// <summary>
    /// The topic where each worker publishes the state of its members (Connect's <c>status.storage.topic</c>), every
    /// <see cref="StatusInterval"/> and on change; a connector's status lists one task per worker running it.
    /// </summary>
    public string StatusTopic { get; set; } = "kafkas3sink-status";

    /// <summary>How often a worker republishes its members' states; a worker silent for three intervals is no longer listed. Default 5 s.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>This worker's id (status <c>worker_id</c>, its staging folders). Default: the host name.</summary>
    public string WorkerId { get; set; } = Environment.MachineName;

    /// <summary>
    /// Where this worker's sinks stage, in a folder per sink, unless a config sets <c>kafkas3sink.staging.directory</c>.
    /// Default <c>&lt;temp&gt;/kafkas3sink/&lt;WorkerId&gt;</c>, so two workers on one machine do not share a folder.
    /// </summary>
    public string? StagingRoot { get; set; }

    /// <summary>Extra librdkafka properties (security, timeouts) of the clients that read and write the config topic.</summary>
    public IDictionary<string, string> KafkaProperties { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
