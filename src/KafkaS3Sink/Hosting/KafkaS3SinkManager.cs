using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Hosting;

/// <summary>Creates, updates and deletes sinks at runtime from connector configs (the "worker" mode).</summary>
internal sealed class KafkaS3SinkManager(IServiceProvider services, KafkaS3SinkRegistry registry, Action<KafkaS3SinkBuilder> defaults) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly List<DynamicSink> created = [];

    public async Task CreateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (registry.Contains(name))
            {
                throw new InvalidOperationException($"A sink named '{name}' exists already.");
            }

            var sink = new DynamicSink(this, name, config);
            sink.Start(); // validates: throws KafkaS3SinkConfigurationException naming each problem
            registry.Register(name, sink);
            lock (created)
            {
                created.Add(sink);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task UpdateAsync(string name, IReadOnlyDictionary<string, string> config, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sink = Dynamic(name);
            Build(name, config).Dispose(); // validate before stopping the running sink
            await sink.StopAsync(cancellationToken).ConfigureAwait(false);
            sink.Config = config;
            sink.Start();
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var sink = Dynamic(name);
            await sink.StopAsync(cancellationToken).ConfigureAwait(false);
            registry.Unregister(name);
            lock (created)
            {
                created.Remove(sink);
            }

            sink.Dispose();
        }
        finally
        {
            gate.Release();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        DynamicSink[] all;
        lock (created)
        {
            all = [.. created];
        }

        try
        {
            await Task.WhenAll(all.Select(s => s.StopAsync(cancellationToken))).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host gave up first (its ShutdownTimeout): nothing past S3 was committed, the rest is replayed.
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger("KafkaS3Sink") ?? NullLogger.Instance;
            foreach (var sink in all.Where(s => s.Sink?.State is SinkState.Running or SinkState.Paused))
            {
                Log.StopTimedOut(logger, sink.Sink!.Name);
            }
        }
    }

    public void Dispose()
    {
        lock (created)
        {
            foreach (var sink in created)
            {
                sink.Dispose();
            }
        }

        gate.Dispose();
    }

    private DynamicSink Dynamic(string name) => registry.Get(name) as DynamicSink
        ?? throw new InvalidOperationException($"Sink '{name}' is defined in code; only sinks created from a connector config can be changed or deleted.");

    /// <summary>Builds (and so validates) a sink from a connector config with the worker's defaults; it is not started.</summary>
    internal KafkaS3Sink Build(string name, IReadOnlyDictionary<string, string> config)
    {
        var builder = new KafkaS3SinkBuilder()
            .UseLoggerFactory(services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
            .UseTimeProvider(services.GetService<TimeProvider>() ?? TimeProvider.System);
        defaults(builder);
        builder.StagingRoot = services.GetService<KafkaS3SinkWorkerOptions>()?.StagingRoot;

        // The name gives the consumer group, as in Kafka Connect: connect-<name>.
        var named = config.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        named["name"] = name;
        builder.UseKafkaConnectConfig(named);
        return builder.Build();
    }

    private sealed class DynamicSink(KafkaS3SinkManager owner, string name, IReadOnlyDictionary<string, string> config) : IManagedSink, IDisposable
    {
        private CancellationTokenSource? stopping;
        private Task? run;

        public KafkaS3Sink? Sink { get; private set; }

        public IReadOnlyDictionary<string, string> Config { get; set; } = config;

        public IReadOnlyDictionary<string, string>? ConnectorConfig => Config;

        public void Start()
        {
            var sink = owner.Build(name, Config);
            Sink?.Dispose();
            Sink = sink;
            stopping?.Dispose();
            stopping = new CancellationTokenSource();
            run = sink.RunAsync(stopping.Token);
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (run is null || stopping is null)
            {
                return;
            }

            await stopping.CancelAsync().ConfigureAwait(false);
            await run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task RestartAsync(CancellationToken cancellationToken)
        {
            await StopAsync(cancellationToken).ConfigureAwait(false);
            Start();
        }

        public Task HaltAsync(CancellationToken cancellationToken) => StopAsync(cancellationToken);

        public void Dispose()
        {
            stopping?.Dispose();
            Sink?.Dispose();
        }
    }
}
