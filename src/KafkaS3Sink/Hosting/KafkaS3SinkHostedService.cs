using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Hosting;

/// <summary>Runs one sink for the host's lifetime; can restart it on request.</summary>
internal sealed class KafkaS3SinkHostedService : IHostedService, IManagedSink, IDisposable
{
    private readonly IServiceProvider services;
    private readonly Action<KafkaS3SinkBuilder> configure;
    private readonly KafkaS3SinkRegistry registry;
    private readonly SemaphoreSlim gate = new(1, 1);
    private CancellationTokenSource? stopping;
    private KafkaS3Sink? sink;
    private Task? run;
    private bool hostStopping;

    public KafkaS3SinkHostedService(IServiceProvider services, Action<KafkaS3SinkBuilder> configure)
    {
        this.services = services;
        this.configure = configure;
        registry = services.GetRequiredService<KafkaS3SinkRegistry>();
    }

    public KafkaS3Sink? Sink => sink;

    public IReadOnlyDictionary<string, string>? ConnectorConfig => null;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Start();
        registry.Register(sink!.Name, this);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        hostStopping = true;
        try
        {
            await StopRunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host gave up first (its ShutdownTimeout): nothing past S3 was committed, the rest is replayed.
            Log.StopTimedOut(services.GetService<ILoggerFactory>()?.CreateLogger("KafkaS3Sink") ?? NullLogger.Instance, sink?.Name ?? "?");
        }
    }

    /// <summary>Stops the sink (gracefully) and starts a new one from the same configuration.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopRunAsync(cancellationToken).ConfigureAwait(false);
            sink?.Dispose();
            Start();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Stops the sink gracefully and keeps it registered; <see cref="RestartAsync"/> starts it again.</summary>
    public async Task HaltAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopRunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        stopping?.Dispose();
        sink?.Dispose();
        gate.Dispose();
    }

    private void Start()
    {
        var builder = new KafkaS3SinkBuilder()
            .UseLoggerFactory(services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
            .UseTimeProvider(services.GetService<TimeProvider>() ?? TimeProvider.System);
        configure(builder);
        var built = builder.Build();
        stopping?.Dispose();
        stopping = new CancellationTokenSource();
        sink = built;
        var current = built.RunAsync(stopping.Token);
        run = current;

        // Like a BackgroundService's default (StopHost): a sink that fails stops the host rather than
        // leaving a process that looks alive but backs nothing up, unless the sink is managed through
        // IKafkaS3SinkController (then the failure is reported by status and health instead).
        _ = current.ContinueWith(
            _ =>
            {
                if (!hostStopping && !registry.ControllerInUse)
                {
                    services.GetService<IHostApplicationLifetime>()?.StopApplication();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
    }

    private async Task StopRunAsync(CancellationToken cancellationToken)
    {
        if (run is null || stopping is null)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);

        // A failed sink already logged its failure; stopping must not throw it again.
        await run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
