namespace KafkaS3Sink;

/// <summary>
/// Operates the sinks of this process by name, like Kafka Connect's REST API: status, pause, resume,
/// restart. Resolve it from DI after <c>AddKafkaS3Sink</c>. Once it has been resolved, a sink that fails
/// no longer stops the host: the failure shows in <see cref="GetStatus"/> (and the health check) and
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
}
