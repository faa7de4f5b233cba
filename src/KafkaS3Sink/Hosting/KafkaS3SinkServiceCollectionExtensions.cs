using KafkaS3Sink;
using KafkaS3Sink.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers KafkaS3Sink sinks as hosted services.</summary>
public static class KafkaS3SinkServiceCollectionExtensions
{
    /// <summary>
    /// Adds a sink that runs as a hosted service for the host's lifetime. The sink is built (and its
    /// settings validated) when the host starts: a misconfigured sink fails the start with every problem named.
    /// Logging uses the container's <see cref="ILoggerFactory"/> and, if registered, its <see cref="TimeProvider"/>.
    /// If the sink fails (e.g. an upload keeps failing, or a record cannot be converted), it logs the reason
    /// and stops the host, as a <see cref="BackgroundService"/> does by default.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the sink's builder.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3Sink(this IServiceCollection services, Action<KafkaS3SinkBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IHostedService>(sp => new KafkaS3SinkHostedService(sp, configure));
        return services;
    }
}
