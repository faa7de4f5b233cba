namespace KafkaS3Sink.Hosting;

internal sealed class KafkaS3SinkController : IKafkaS3SinkController
{
    /// <summary>What a secret reads as; written back in an update, it keeps the stored value.</summary>
    internal const string Mask = "******";

    private static readonly string[] SecretMarkers = ["secret", "password", "sasl.jaas.config", "ssl.key", "credentials"];
    private readonly KafkaS3SinkRegistry registry;
    private readonly KafkaS3SinkManager? manager;

    /// <summary>In distributed mode: writes go to the config topic and take effect when read back, on every worker.</summary>
    private readonly KafkaConnectorStore? store;
    private readonly TimeProvider time;
    private readonly KafkaStatusStore? statuses;
    private readonly string workerId;

    public KafkaS3SinkController(KafkaS3SinkRegistry registry, IServiceProvider services)
    {
        this.registry = registry;
        manager = (KafkaS3SinkManager?)services.GetService(typeof(KafkaS3SinkManager));
        time = services.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System;
        store = (KafkaConnectorStore?)services.GetService(typeof(KafkaConnectorStore));
        statuses = (KafkaStatusStore?)services.GetService(typeof(KafkaStatusStore));
        workerId = ((KafkaS3SinkWorkerOptions?)services.GetService(typeof(KafkaS3SinkWorkerOptions)))?.WorkerId ?? Environment.MachineName;
        registry.ControllerInUse = true;
    }

    public IReadOnlyList<string> SinkNames => registry.Names;

    public KafkaS3SinkStatus GetStatus(string name) => Sink(name).GetStatus();

    public IReadOnlyList<SinkMemberStatus> GetMembers(string name)
    {
        var sink = registry.Get(name).Sink;
        var local = sink is null ? null : new SinkMemberStatus(workerId, sink.State, sink.Failure?.Message);
        return statuses is not null ? statuses.Members(name, local) : local is null ? [] : [local];
    }

    public IReadOnlyDictionary<string, string>? GetConfig(string name)
        => registry.Get(name).ConnectorConfig?.ToDictionary(kv => kv.Key, kv => IsSecret(kv.Key) ? Mask : kv.Value, StringComparer.Ordinal);

    public void Pause(string name)
    {
        if (Stored(name))
        {
            store!.SetTargetAsync(name, KafkaConnectorStore.Paused, CancellationToken.None).GetAwaiter().GetResult();
            return;
        }

        Sink(name).Pause();
    }

    public void Resume(string name)
    {
        if (Stored(name))
        {
            store!.SetTargetAsync(name, KafkaConnectorStore.Started, CancellationToken.None).GetAwaiter().GetResult();
            return;
        }

        var managed = registry.Get(name);
        if (managed.Sink is { State: SinkState.Stopped })
        {
            // Kafka Connect's resume of a STOPPED connector starts it (a new run, in the background).
            _ = managed.RestartAsync(CancellationToken.None);
            return;
        }

        Sink(name).Resume();
    }

    public Task StopAsync(string name, CancellationToken cancellationToken = default)
        => Stored(name) ? store!.SetTargetAsync(name, KafkaConnectorStore.Stopped, cancellationToken) : registry.Get(name).HaltAsync(cancellationToken);

    public Task<IReadOnlyList<SinkOffset>> GetOffsetsAsync(string name, CancellationToken cancellationToken = default)
        => Task.Run(() => SinkOffsets.Read(Options(name), cancellationToken), cancellationToken);

    public Task AlterOffsetsAsync(string name, IReadOnlyList<SinkOffset> offsets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        var options = StoppedOptions(name);
        return Task.Run(() => SinkOffsets.Alter(options, offsets, time, cancellationToken), cancellationToken);
    }

    public Task ResetOffsetsAsync(string name, CancellationToken cancellationToken = default)
    {
        var options = StoppedOptions(name);
        return Task.Run(() => SinkOffsets.Reset(options, time, cancellationToken), cancellationToken);
    }

    public Task RestartAsync(string name, CancellationToken cancellationToken = default) => registry.Get(name).RestartAsync(cancellationToken);

    public IReadOnlyList<string> Validate(IReadOnlyDictionary<string, string> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var name = config.TryGetValue("name", out var n) && !string.IsNullOrWhiteSpace(n) ? n : "validate";
        try
        {
            using var sink = manager is not null ? manager.Build(name, config) : new KafkaS3SinkBuilder().UseKafkaConnectConfig(config).Build();
            return [];
        }
        catch (KafkaS3SinkConfigurationException ex)
        {
            return ex.Errors;
        }
    }

    public Task CreateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default)
    {
        if (store is null)
        {
            return Manager.CreateAsync(name, config, cancellationToken);
        }

        if (store.Get(name) is not null || registry.Contains(name))
        {
            throw new InvalidOperationException($"A sink named '{name}' exists already.");
        }

        ThrowIfInvalid(name, config);
        return store.PutAsync(name, config, KafkaConnectorStore.Started, cancellationToken);
    }

    public Task UpdateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);

        // A config read back (secrets masked) and written with one change keeps its secrets.
        var stored = registry.Get(name).ConnectorConfig;
        var unmasked = config.ToDictionary(
            kv => kv.Key,
            kv => kv.Value == Mask && IsSecret(kv.Key) && stored is not null && stored.TryGetValue(kv.Key, out var secret) ? secret : kv.Value,
            StringComparer.Ordinal);
        if (store is null)
        {
            return Manager.UpdateAsync(name, unmasked, cancellationToken);
        }

        ThrowIfInvalid(name, unmasked);
        return store.PutAsync(name, unmasked, null, cancellationToken);
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken = default)
        => Stored(name) ? store!.DeleteAsync(name, cancellationToken) : Manager.DeleteAsync(name, cancellationToken);

    /// <summary>Whether the sink lives in the config topic (distributed mode); sinks defined in code are controlled locally.</summary>
    private bool Stored(string name) => store?.Get(name) is not null;

    /// <summary>A config goes to the config topic only if it is valid: an invalid one would fail on every worker.</summary>
    private void ThrowIfInvalid(string name, IReadOnlyDictionary<string, string> config)
    {
        var errors = Validate(new Dictionary<string, string>(config.Where(kv => kv.Key != "name"), StringComparer.Ordinal) { ["name"] = name });
        if (errors.Count > 0)
        {
            throw new KafkaS3SinkConfigurationException(name, errors);
        }
    }

    /// <summary>Whether a config key holds a secret (never returned or logged).</summary>
    internal static bool IsSecret(string key) => SecretMarkers.Any(m => key.Contains(m, StringComparison.OrdinalIgnoreCase));

    private KafkaS3SinkOptions Options(string name) => (registry.Get(name).Sink ?? throw new InvalidOperationException($"Sink '{name}' has not started.")).Options;

    /// <summary>A sink's options, when it is stopped (offsets may change only then, as in Kafka Connect).</summary>
    private KafkaS3SinkOptions StoppedOptions(string name)
    {
        var sink = registry.Get(name).Sink ?? throw new InvalidOperationException($"Sink '{name}' has not started.");
        if (sink.State is SinkState.Running or SinkState.Paused)
        {
            throw new InvalidOperationException(
                $"Sink '{name}' must be stopped before its offsets can be changed (it is {sink.State}): stop it first (PUT /connectors/{name}/stop, or IKafkaS3SinkController.StopAsync).");
        }

        return sink.Options;
    }

    private KafkaS3Sink Sink(string name) => registry.Get(name).Sink ?? throw new InvalidOperationException($"Sink '{name}' has not started.");

    private KafkaS3SinkManager Manager => manager
        ?? throw new InvalidOperationException("Creating, updating or deleting sinks at runtime needs services.AddKafkaS3SinkWorker(...).");
}
