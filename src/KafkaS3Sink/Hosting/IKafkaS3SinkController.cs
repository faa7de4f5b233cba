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

    /// <summary>The connector config a sink was created from, with secrets masked; null for sinks defined in code.</summary>
    /// <param name="name">The sink's name.</param>
    /// <returns>The masked config.</returns>
    /// <exception cref="KeyNotFoundException">No sink has that name.</exception>
    IReadOnlyDictionary<string, string>? GetConfig(string name);

    /// <summary>Stops consuming (staying in the consumer group) until <see cref="Resume"/>.</summary>
    /// <param name="name">The sink's name.</param>
    void Pause(string name);

    /// <summary>Resumes consuming.</summary>
    /// <param name="name">The sink's name.</param>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1716", Justification = "Pause/Resume are Kafka Connect's verbs; VB callers can still call it.")]
    void Resume(string name);

    /// <summary>Stops the sink gracefully and starts it again (also after a failure).</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="cancellationToken">Cancels waiting for the stop.</param>
    /// <returns>A task that completes when the new run has started.</returns>
    Task RestartAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates and starts a sink from a connector config (needs <c>AddKafkaS3SinkWorker</c>).</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="config">The flat connector config.</param>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task that completes when the sink has started.</returns>
    /// <exception cref="KafkaS3SinkConfigurationException">The config is invalid; every problem is named.</exception>
    /// <exception cref="InvalidOperationException">A sink with that name exists, or the worker is not registered.</exception>
    Task CreateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default);

    /// <summary>Replaces the config of a sink created at runtime and restarts it; an invalid config leaves the running sink alone.</summary>
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
