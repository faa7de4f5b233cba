namespace KafkaS3Sink.Hosting;

internal sealed class KafkaS3SinkController : IKafkaS3SinkController
{
    private static readonly string[] SecretMarkers = ["secret", "password", "sasl.jaas.config", "ssl.key", "credentials"];
    private readonly KafkaS3SinkRegistry registry;
    private readonly KafkaS3SinkManager? manager;

    public KafkaS3SinkController(KafkaS3SinkRegistry registry, IServiceProvider services)
    {
        this.registry = registry;
        manager = (KafkaS3SinkManager?)services.GetService(typeof(KafkaS3SinkManager));
        registry.ControllerInUse = true;
    }

    public IReadOnlyList<string> SinkNames => registry.Names;

    public KafkaS3SinkStatus GetStatus(string name) => Sink(name).GetStatus();

    public IReadOnlyDictionary<string, string>? GetConfig(string name)
        => registry.Get(name).ConnectorConfig?.ToDictionary(kv => kv.Key, kv => IsSecret(kv.Key) ? "******" : kv.Value, StringComparer.Ordinal);

    public void Pause(string name) => Sink(name).Pause();

    public void Resume(string name) => Sink(name).Resume();

    public Task RestartAsync(string name, CancellationToken cancellationToken = default) => registry.Get(name).RestartAsync(cancellationToken);

    public Task CreateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default)
        => Manager.CreateAsync(name, config, cancellationToken);

    public Task UpdateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default)
        => Manager.UpdateAsync(name, config, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default) => Manager.DeleteAsync(name, cancellationToken);

    /// <summary>Whether a config key holds a secret (never returned or logged).</summary>
    internal static bool IsSecret(string key) => SecretMarkers.Any(m => key.Contains(m, StringComparison.OrdinalIgnoreCase));

    private KafkaS3Sink Sink(string name) => registry.Get(name).Sink ?? throw new InvalidOperationException($"Sink '{name}' has not started.");

    private KafkaS3SinkManager Manager => manager
        ?? throw new InvalidOperationException("Creating, updating or deleting sinks at runtime needs services.AddKafkaS3SinkWorker(...).");
}
