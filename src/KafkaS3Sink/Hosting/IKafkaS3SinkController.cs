namespace KafkaS3Sink;

/// <summary>
/// Operates the sinks of this process by name, like Kafka Connect's REST API: status, pause, resume,
/// restart, and (with <c>AddKafkaS3SinkWorker</c>) create, update and delete sinks from connector configs.
/// Resolve it from DI after <c>AddKafkaS3Sink</c>. Once it has been resolved, a sink that fails no longer
/// stops the host: the failure shows in <see cref="GetStatus"/> (and the health check) and
/// <see cref="RestartAsync"/> starts it again.
/// </summary>
public interface IKafkaS3SinkController
{
    /// <summary>The names of the sinks, in order.</summary>
    IReadOnlyList<string> SinkNames { get; }

    /// <summary>A sink's status.</summary>
    /// <param name="name">The sink's name.</param>
    /// <returns>The status; it holds no secrets.</returns>
    /// <exception cref="KeyNotFoundException">No sink has that name.</exception>
    KafkaS3SinkStatus GetStatus(string name);

    /// <summary>
    /// The members running a sink, one per worker: this process's alone, or in a worker's distributed mode every
    /// worker that published its state to the status topic within three status intervals. Ordered by worker id.
    /// </summary>
    /// <param name="name">The sink's name.</param>
    /// <returns>Each member's worker, state and error.</returns>
    /// <exception cref="KeyNotFoundException">No sink has that name.</exception>
    IReadOnlyList<SinkMemberStatus> GetMembers(string name);

    /// <summary>The connector config a sink was created from, with secrets masked; null for sinks defined in code.</summary>
    /// <param name="name">The sink's name.</param>
    /// <returns>The masked config.</returns>
    /// <exception cref="KeyNotFoundException">No sink has that name.</exception>
    IReadOnlyDictionary<string, string>? GetConfig(string name);

    /// <summary>Stops consuming (staying in the consumer group) until <see cref="Resume"/>.</summary>
    /// <param name="name">The sink's name.</param>
    void Pause(string name);

    /// <summary>Resumes consuming; a sink stopped with <see cref="StopAsync"/> is started again.</summary>
    /// <param name="name">The sink's name.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Pause/Resume are Kafka Connect's verbs; VB callers can still call it.")]
    void Resume(string name);

    /// <summary>Stops the sink gracefully and starts it again (also after a failure).</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels waiting for the stop.</param>
    /// <returns>A task that completes when the new run has started.</returns>
    Task RestartAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops a sink and keeps it (Kafka Connect's <c>STOPPED</c> state): it stops gracefully and its consumer leaves
    /// the group, so its offsets can be read and changed; <see cref="Resume"/> or <see cref="RestartAsync"/> starts it again.
    /// </summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels waiting for the stop.</param>
    /// <returns>A task that completes when the sink has stopped.</returns>
    Task StopAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The offsets the sink's consumer group committed (everything before them is in S3), by topic-partition.</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The committed offsets; partitions without one are left out.</returns>
    Task<IReadOnlyList<SinkOffset>> GetOffsetsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the committed offsets of the sink's consumer group (where its next run starts). The sink must be stopped
    /// (<see cref="StopAsync"/>): a running member would overwrite them. An offset of null resets that partition.
    /// </summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="offsets">Topic, partition and the offset to start from (null: the earliest).</param>
    /// <param name="cancellationToken">Cancels the change.</param>
    /// <returns>A task that completes when the offsets are committed.</returns>
    /// <exception cref="InvalidOperationException">The sink is not stopped.</exception>
    Task AlterOffsetsAsync(string name, IReadOnlyList<SinkOffset> offsets, CancellationToken cancellationToken = default);

    /// <summary>
    /// Resets every committed offset of the sink's consumer group to the start of its partition, so the next run
    /// backs the topics up again from the earliest record. The sink must be stopped (<see cref="StopAsync"/>).
    /// </summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels the reset.</param>
    /// <returns>A task that completes when the offsets are reset.</returns>
    /// <exception cref="InvalidOperationException">The sink is not stopped.</exception>
    Task ResetOffsetsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Checks a connector config without creating a sink (with the worker's defaults, such as its Kafka cluster).</summary>
    /// <param name="config">The flat connector config.</param>
    /// <returns>Every problem, each naming its setting; empty when the config is valid.</returns>
    IReadOnlyList<string> Validate(IReadOnlyDictionary<string, string> config);

    /// <summary>Creates and starts a sink from a connector config (needs <c>AddKafkaS3SinkWorker</c>).</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="config">The flat connector config.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the sink has started.</returns>
    /// <exception cref="KafkaS3SinkConfigurationException">The config is invalid; every problem is named.</exception>
    /// <exception cref="InvalidOperationException">A sink with that name exists, or the worker is not registered.</exception>
    Task CreateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the config of a sink created at runtime and restarts it; an invalid config leaves the running sink alone.
    /// A value given as the mask <c>******</c> (as <see cref="GetConfig"/> returns secrets) keeps the stored secret.
    /// </summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="config">The new flat connector config.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the sink has restarted.</returns>
    Task UpdateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default);

    /// <summary>Stops (gracefully) and removes a sink created at runtime.</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the sink has stopped.</returns>
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>A committed offset of a sink's consumer group: its next run starts at <paramref name="Offset"/> in that partition.</summary>
/// <param name="Topic">The topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Offset">The offset of the next record to back up; null (when altering) resets the partition to its earliest record.</param>
public sealed record SinkOffset(string Topic, int Partition, long? Offset);

/// <summary>The state of one member of a sink (one worker running it): Kafka Connect's task status.</summary>
/// <param name="WorkerId">The worker (in standalone mode, the host name).</param>
/// <param name="State">Its state.</param>
/// <param name="Error">Why it failed; null unless <paramref name="State"/> is <see cref="SinkState.Failed"/>.</param>
public sealed record SinkMemberStatus(string WorkerId, SinkState State, string? Error);
