namespace KafkaS3Sink.Hosting;

/// <summary>A sink the registry knows: defined in code (a hosted service) or created at runtime from a connector config.</summary>
internal interface IManagedSink
{
    KafkaS3Sink? Sink { get; }

    /// <summary>The connector config it was created from; null for sinks defined in code.</summary>
    IReadOnlyDictionary<string, string>? ConnectorConfig { get; }

    Task RestartAsync(CancellationToken cancellationToken);

    /// <summary>Stops the sink gracefully and keeps it registered (Kafka Connect's STOPPED).</summary>
    Task HaltAsync(CancellationToken cancellationToken);
}

/// <summary>The sinks of this process, by name.</summary>
internal sealed class KafkaS3SinkRegistry
{
    private readonly Dictionary<string, IManagedSink> sinks = new(StringComparer.Ordinal);
    private readonly object gate = new();

    /// <summary>Set once someone resolved the controller: failures are then reported, not host-stopping.</summary>
    public bool ControllerInUse { get; set; }

    public void Register(string name, IManagedSink sink)
    {
        lock (gate)
        {
            if (!sinks.TryAdd(name, sink))
            {
                throw new KafkaS3SinkConfigurationException(name, [$"Name: another sink in this process is already named '{name}'."]);
            }
        }
    }

    public bool Unregister(string name)
    {
        lock (gate)
        {
            return sinks.Remove(name);
        }
    }

    public bool Contains(string name)
    {
        lock (gate)
        {
            return sinks.ContainsKey(name);
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

    public IManagedSink Get(string name)
    {
        lock (gate)
        {
            return sinks.TryGetValue(name, out var sink)
                ? sink
                : throw new KeyNotFoundException($"No sink named '{name}'.");
        }
    }
}
