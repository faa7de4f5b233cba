using KafkaS3Sink.Configuration;

namespace KafkaS3Sink.Worker;

/// <summary>
/// The ready-to-run "Kafka Connect worker": loads sink configs (Kafka Connect S3 sink connector JSON)
/// from a folder at start, and serves the management API, health and OpenAPI.
/// Settings (appsettings.json, environment KafkaS3Sink__..., or --KafkaS3Sink:... arguments):
/// <c>KafkaS3Sink:BootstrapServers</c> (required), <c>KafkaS3Sink:ConfigDirectory</c> (optional).
/// </summary>
public static class WorkerApp
{
    /// <summary>Builds the web application.</summary>
    /// <param name="args">Command-line arguments (e.g. <c>--urls http://127.0.0.1:8083</c>).</param>
    /// <param name="configure">More changes to the builder (logging, authorization), before it is built.</param>
    /// <returns>The application, not started.</returns>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var bootstrap = builder.Configuration["KafkaS3Sink:BootstrapServers"];
        if (string.IsNullOrWhiteSpace(bootstrap))
        {
            throw new KafkaS3SinkConfigurationException("worker", ["KafkaS3Sink:BootstrapServers: required (the Kafka cluster every sink consumes from)."]);
        }

        builder.Services.AddKafkaS3SinkWorker(sink => sink.Configure(o => o.BootstrapServers = bootstrap));
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        builder.Services.AddOpenApi();

        var app = builder.Build();

        // In production, put the routes behind the host's authorization: .RequireAuthorization("operators").
        app.MapKafkaS3Sink();
        app.MapHealthChecks("/health");
        app.MapOpenApi();
        return app;
    }

    /// <summary>Creates a sink from every <c>*.json</c> connector config in the configured folder.</summary>
    /// <param name="app">The started application.</param>
    /// <returns>A task that completes when every sink has started.</returns>
    public static async Task LoadConfigDirectoryAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var directory = app.Configuration["KafkaS3Sink:ConfigDirectory"];
        if (string.IsNullOrWhiteSpace(directory))
        {
            return;
        }

        var controller = app.Services.GetRequiredService<IKafkaS3SinkController>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            var config = KafkaConnectConfig.Parse(await File.ReadAllTextAsync(file).ConfigureAwait(false));
            var name = config.TryGetValue("name", out var n) ? n : Path.GetFileNameWithoutExtension(file);
            await controller.CreateAsync(name, config.Where(kv => kv.Key != "name").ToDictionary(kv => kv.Key, kv => kv.Value)).ConfigureAwait(false);
        }
    }
}
