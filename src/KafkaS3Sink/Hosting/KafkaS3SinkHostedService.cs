using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Hosting;

/// <summary>Runs one sink for the host's lifetime.</summary>
internal sealed class KafkaS3SinkHostedService : IHostedService, IDisposable
{
    private readonly IServiceProvider services;
    private readonly Action<KafkaS3SinkBuilder> configure;
    private readonly CancellationTokenSource stopping = new();
    private KafkaS3Sink? sink;
    private Task? run;

    public KafkaS3SinkHostedService(IServiceProvider services, Action<KafkaS3SinkBuilder> configure)
    {
        this.services = services;
        this.configure = configure;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = new KafkaS3SinkBuilder()
            .UseLoggerFactory(services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance)
            .UseTimeProvider(services.GetService<TimeProvider>() ?? TimeProvider.System);
        configure(builder);
        sink = builder.Build();
        run = sink.RunAsync(stopping.Token);

        // Like a BackgroundService's default (StopHost): a sink that fails stops the host rather than
        // leaving a process that looks alive but backs nothing up. The failure is logged by the sink.
        _ = run.ContinueWith(
            _ => services.GetService<IHostApplicationLifetime>()?.StopApplication(),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted,
            TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (run is null)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);

        // A failed sink already logged its failure; stopping must not throw it again.
        await run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        stopping.Dispose();
        sink?.Dispose();
    }
}
