namespace KafkaS3Sink.Hosting;

/// <summary>The sinks of this process, by name.</summary>
internal sealed class KafkaS3SinkRegistry
{
    private readonly Dictionary<string, KafkaS3SinkHostedService> sinks = new(StringComparer.Ordinal);
    private readonly object gate = new();

    /// <summary>Set once someone resolved the controller: failures are then reported, not host-stopping.</summary>
    public bool ControllerInUse { get; set; }

    public void Register(KafkaS3SinkHostedService service)
    {
        var name = service.Sink!.Name;
        lock (gate)
        {
            if (!sinks.TryAdd(name, service))
            {
                throw new KafkaS3SinkConfigurationException(name, [$"Name: another sink in this process is already named '{name}'."]);
            }
        }
    }

    public IReadOnlyList<string> Names
    {
        get
        {
            lock (gate)
            {
                return [.. sinks.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    public KafkaS3SinkHostedService Get(string name)
    {
        lock (gate)
        {
            return sinks.TryGetValue(name, out var service)
                ? service
                : throw new KeyNotFoundException($"No sink named '{name}'. Sinks: {string.Join(", ", sinks.Keys)}.");
        }
    }
}
