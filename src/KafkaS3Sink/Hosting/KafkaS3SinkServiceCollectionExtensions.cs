using KafkaS3Sink;
using KafkaS3Sink.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers KafkaS3Sink sinks as hosted services, their controller and their health check.</summary>
public static class KafkaS3SinkServiceCollectionExtensions
{
    /// <summary>
    /// Adds a sink that runs as a hosted service for the host's lifetime. The sink is built (and its
    /// settings validated) when the host starts: a misconfigured sink fails the start with every problem named.
    /// Logging uses the container's <see cref="ILoggerFactory"/> and, if registered, its <see cref="TimeProvider"/>.
    /// If the sink fails (e.g. an upload keeps failing, or a record cannot be converted), it logs the reason
    /// and stops the host, as a <see cref="BackgroundService"/> does by default, unless
    /// <see cref="IKafkaS3SinkController"/> is in use. Several sinks need distinct names.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the sink's builder.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3Sink(this IServiceCollection services, Action<KafkaS3SinkBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KafkaS3SinkRegistry>();
        services.TryAddSingleton<IKafkaS3SinkController, KafkaS3SinkController>();
        services.AddSingleton<IHostedService>(sp => new KafkaS3SinkHostedService(sp, configure));
        return services;
    }

    /// <summary>
    /// Adds a sink whose <see cref="KafkaS3SinkOptions"/> are bound from configuration (e.g. the section
    /// <c>KafkaS3Sink:Sinks:orders</c> of appsettings.json): property names as in the options
    /// (<c>BootstrapServers</c>, <c>Topics:0</c>, <c>S3:BucketName</c>, <c>Staging:MaxStagedBytes</c>, <c>RotateScheduleInterval</c>
    /// as <c>00:01:00</c>, ...). A key that matches no option fails the host start, named, like any invalid setting.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The sink's configuration section.</param>
    /// <param name="configure">Further changes to the builder (partitioner, converter), applied after the binding.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3Sink(this IServiceCollection services, IConfiguration configuration, Action<KafkaS3SinkBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddKafkaS3Sink(builder =>
        {
            builder.BindConfiguration(configuration);
            configure?.Invoke(builder);
        });
    }

    /// <summary>
    /// Lets sinks be created, updated and deleted at runtime from Kafka Connect S3 sink connector configs
    /// (through <see cref="IKafkaS3SinkController"/> or the HTTP API of KafkaS3Sink.AspNetCore), like a Kafka
    /// Connect worker. <paramref name="defaults"/> applies to every such sink before its connector config:
    /// at least the Kafka bootstrap servers, which connector configs do not hold.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="defaults">Settings shared by every sink created at runtime.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3SinkWorker(this IServiceCollection services, Action<KafkaS3SinkBuilder> defaults)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(defaults);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KafkaS3SinkRegistry>();
        services.TryAddSingleton<IKafkaS3SinkController, KafkaS3SinkController>();
        services.TryAddSingleton(sp => new KafkaS3SinkManager(sp, sp.GetRequiredService<KafkaS3SinkRegistry>(), defaults));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KafkaS3SinkManager>());
        return services;
    }

    /// <summary>
    /// A worker in distributed mode (see <see cref="KafkaS3SinkWorkerOptions"/>): connector configs and target states
    /// are kept in a Kafka topic that every worker of the cluster reads, so every worker runs the same connectors (one
    /// consumer-group member each; the group spreads the partitions), a write through any worker reaches all, and
    /// the connectors come back after a restart of every worker.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="defaults">Settings shared by every sink created at runtime (at least the bootstrap servers).</param>
    /// <param name="distributed">The config topic, the worker's id and the cluster that holds the topic.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3SinkWorker(this IServiceCollection services, Action<KafkaS3SinkBuilder> defaults, Action<KafkaS3SinkWorkerOptions> distributed)
    {
        ArgumentNullException.ThrowIfNull(distributed);
        var options = new KafkaS3SinkWorkerOptions();
        distributed(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
        {
            errors.Add("BootstrapServers: required (the Kafka cluster that holds the config topic).");
        }

        if (string.IsNullOrWhiteSpace(options.ConfigTopic) || string.IsNullOrWhiteSpace(options.StatusTopic) || options.ConfigTopic == options.StatusTopic)
        {
            errors.Add($"ConfigTopic, StatusTopic: both required, and different (were '{options.ConfigTopic}', '{options.StatusTopic}').");
        }

        if (options.StatusInterval <= TimeSpan.Zero)
        {
            errors.Add($"StatusInterval: must be positive (was {options.StatusInterval}).");
        }

        if (string.IsNullOrWhiteSpace(options.WorkerId) || options.WorkerId.IndexOfAny(['/', '\\']) >= 0 || options.WorkerId.Contains("..", StringComparison.Ordinal))
        {
            errors.Add($"WorkerId: required, without '/', '\\' or '..' (was '{options.WorkerId}').");
        }

        if (errors.Count > 0)
        {
            throw new KafkaS3SinkConfigurationException("worker", errors);
        }

        options.StagingRoot ??= Path.Combine(Path.GetTempPath(), "kafkas3sink", options.WorkerId);
        services.AddSingleton(options);
        services.AddKafkaS3SinkWorker(defaults);
        services.TryAddSingleton<KafkaConnectorStore>();
        services.TryAddSingleton<KafkaStatusStore>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KafkaStatusStore>());

        // Registered after the manager, so it stops first: no config record is applied while the sinks stop.
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<KafkaConnectorStore>());
        return services;
    }

    /// <summary>Adds a sink named <paramref name="name"/> (see <see cref="AddKafkaS3Sink(IServiceCollection, Action{KafkaS3SinkBuilder})"/>).</summary>
    /// <param name="services">The services.</param>
    /// <param name="name">The sink's name (used by the controller, logs, metrics and the default staging folder).</param>
    /// <param name="configure">Configures the sink's builder.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddKafkaS3Sink(this IServiceCollection services, string name, Action<KafkaS3SinkBuilder> configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddKafkaS3Sink(builder =>
        {
            builder.Configure(o => o.Name = name);
            configure(builder);
            builder.Configure(o => o.Name = name);
        });
    }

    /// <summary>
    /// Adds a health check over every sink of the process: unhealthy when a sink failed, uploads keep failing,
    /// or a commit stalls; degraded while backpressure pauses a sink or a sink is fenced out of partitions.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Changes to the thresholds.</param>
    /// <param name="name">The check's name. Default <c>kafkas3sink</c>.</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddKafkaS3Sinks(this IHealthChecksBuilder builder, Action<KafkaS3SinkHealthOptions>? configure = null, string name = "kafkas3sink")
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new KafkaS3SinkHealthOptions();
        configure?.Invoke(options);
        builder.Services.TryAddSingleton<KafkaS3SinkRegistry>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new KafkaS3SinkHealthCheck(sp.GetRequiredService<KafkaS3SinkRegistry>(), sp.GetRequiredService<TimeProvider>(), options),
            HealthStatus.Unhealthy,
            ["kafkas3sink"]));
    }
}
