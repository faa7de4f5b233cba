using System.Net;
using KafkaS3Sink.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace KafkaS3Sink.Worker;

/// <summary>
/// The ready-to-run "Kafka Connect worker": loads sink configs (Kafka Connect S3 sink connector JSON) from a folder at
/// start, and serves Kafka Connect's REST API, health and OpenAPI. Settings (appsettings.json, environment
/// <c>KafkaS3Sink__…</c>, or <c>--KafkaS3Sink:…</c> arguments): <c>KafkaS3Sink:BootstrapServers</c> (required),
/// <c>KafkaS3Sink:ConfigDirectory</c> (standalone mode) or <c>KafkaS3Sink:Distributed:ConfigTopic</c>,
/// <c>KafkaS3Sink:Distributed:StatusTopic</c> and <c>KafkaS3Sink:WorkerId</c> (distributed mode), and the API's credentials <c>KafkaS3Sink:Api:Username</c> /
/// <c>KafkaS3Sink:Api:Password</c> (HTTP basic) and <c>KafkaS3Sink:Api:Key</c> (header <c>X-Api-Key</c>). See README.md.
/// </summary>
public static class WorkerApp
{
    /// <summary>Builds the web application.</summary>
    /// <param name="args">Command-line arguments (e.g. <c>--urls http://127.0.0.1:8083</c>).</param>
    /// <param name="configure">More changes to the builder (logging, authorization), before it is built.</param>
    /// <returns>The application, not started.</returns>
    /// <exception cref="WorkerStartupException">A worker setting is missing or invalid.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        // One line per event with a timestamp; ASP.NET's per-request lines only when something is wrong.
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        if (builder.Configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }

        configure?.Invoke(builder);
        var bootstrap = builder.Configuration["KafkaS3Sink:BootstrapServers"];
        if (string.IsNullOrWhiteSpace(bootstrap))
        {
            throw new WorkerStartupException("KafkaS3Sink:BootstrapServers is required: the Kafka cluster every sink consumes from (e.g. --KafkaS3Sink:BootstrapServers kafka:9092).");
        }

        var credentials = WorkerCredentials.From(builder.Configuration);
        builder.Services.AddSingleton(credentials);
        if (credentials.Any)
        {
            builder.Services.AddAuthentication(WorkerCredentials.Scheme)
                .AddScheme<AuthenticationSchemeOptions, WorkerAuthenticationHandler>(WorkerCredentials.Scheme, null);
            builder.Services.AddAuthorization();
        }

        var configTopic = builder.Configuration["KafkaS3Sink:Distributed:ConfigTopic"];
        if (string.IsNullOrWhiteSpace(configTopic))
        {
            builder.Services.AddKafkaS3SinkWorker(sink => sink.Configure(o => o.BootstrapServers = bootstrap));
        }
        else
        {
            if (!string.IsNullOrWhiteSpace(builder.Configuration["KafkaS3Sink:ConfigDirectory"]))
            {
                throw new WorkerStartupException("KafkaS3Sink:ConfigDirectory is for standalone mode; with KafkaS3Sink:Distributed:ConfigTopic the connectors live in that topic: create them over the API (POST /connectors).");
            }

            try
            {
                builder.Services.AddKafkaS3SinkWorker(
                    sink => sink.Configure(o => o.BootstrapServers = bootstrap),
                    d =>
                    {
                        d.BootstrapServers = bootstrap;
                        d.ConfigTopic = configTopic;
                        d.StatusTopic = builder.Configuration["KafkaS3Sink:Distributed:StatusTopic"] ?? d.StatusTopic;
                        d.WorkerId = builder.Configuration["KafkaS3Sink:WorkerId"] ?? d.WorkerId;
                    });
            }
            catch (KafkaS3SinkConfigurationException ex)
            {
                throw new WorkerStartupException("KafkaS3Sink:Distributed: " + string.Join(" ", ex.Errors));
            }
        }
        builder.Services.AddHealthChecks().AddKafkaS3Sinks();
        builder.Services.AddOpenApi();

        var app = builder.Build();
        var api = app.MapKafkaConnectWorker(bootstrap);
        if (credentials.Any)
        {
            app.UseAuthentication();
            app.UseAuthorization();
            api.RequireAuthorization();
        }

        app.MapHealthChecks("/health");
        app.MapOpenApi();
        return app;
    }

    /// <summary>
    /// Refuses an API that anyone on the network could use to create sinks with any endpoint and credentials: a
    /// worker listening beyond loopback needs credentials, or <c>KafkaS3Sink:Api:AllowAnonymous=true</c>.
    /// </summary>
    /// <param name="app">The started application.</param>
    /// <exception cref="WorkerStartupException">The API listens beyond loopback without credentials.</exception>
    public static void CheckExposure(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var credentials = app.Services.GetRequiredService<WorkerCredentials>();
        if (credentials.Any || string.Equals(app.Configuration["KafkaS3Sink:Api:AllowAnonymous"], "true", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(a => !IsLoopback(a)).ToList();
        if (exposed.Count > 0)
        {
            throw new WorkerStartupException(
                $"The API listens on {string.Join(", ", exposed)} without credentials: anyone who reaches it could create sinks with any endpoint and credentials. "
                + "Set KafkaS3Sink:Api:Username and KafkaS3Sink:Api:Password (HTTP basic) or KafkaS3Sink:Api:Key (header X-Api-Key), "
                + "listen on 127.0.0.1 only, or set KafkaS3Sink:Api:AllowAnonymous=true to accept the risk.");
        }
    }

    /// <summary>
    /// Creates a sink from every <c>*.json</c> connector config in the configured folder (relative to the current
    /// directory). Every file is read and validated first; if any is bad, none starts and the exception names each
    /// bad file with its problems.
    /// </summary>
    /// <param name="app">The started application.</param>
    /// <returns>A task that completes when every sink has started.</returns>
    /// <exception cref="WorkerStartupException">The folder is missing, or a file is not a valid connector config.</exception>
    public static async Task LoadConfigDirectoryAsync(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var setting = app.Configuration["KafkaS3Sink:ConfigDirectory"];
        if (string.IsNullOrWhiteSpace(setting))
        {
            return;
        }

        var directory = Path.GetFullPath(setting, Environment.CurrentDirectory);
        if (!Directory.Exists(directory))
        {
            throw new WorkerStartupException($"KafkaS3Sink:ConfigDirectory: '{directory}' does not exist (given as '{setting}', relative to the current directory).");
        }

        var controller = app.Services.GetRequiredService<IKafkaS3SinkController>();
        var sinks = new List<(string Name, Dictionary<string, string> Config)>();
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                var config = KafkaConnectConfig.Parse(await File.ReadAllTextAsync(file).ConfigureAwait(false));
                var name = config.TryGetValue("name", out var n) ? n : Path.GetFileNameWithoutExtension(file);
                var flat = config.Where(kv => kv.Key != "name").ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
                var errors = controller.Validate(new Dictionary<string, string>(flat) { ["name"] = name });
                if (errors.Count > 0)
                {
                    problems.Add($"{file} (sink '{name}'):{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", errors)}");
                }
                else if (sinks.Any(s => s.Name == name))
                {
                    problems.Add($"{file}: another file already defines sink '{name}'.");
                }
                else
                {
                    sinks.Add((name, flat));
                }
            }
            catch (KafkaS3SinkConfigurationException ex)
            {
                problems.Add($"{file}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", ex.Errors)}");
            }
        }

        if (problems.Count > 0)
        {
            throw new WorkerStartupException($"{problems.Count} connector config file(s) in '{directory}' are invalid; no sink was started:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
        }

        foreach (var (name, config) in sinks)
        {
            await controller.CreateAsync(name, config).ConfigureAwait(false);
        }
    }

    private static bool IsLoopback(string address)
    {
        if (!Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }

        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}

/// <summary>A worker setting or connector config file is wrong; the message says which and why (the worker exits with code 2).</summary>
public sealed class WorkerStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and how to fix it.</param>
    public WorkerStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerStartupException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public WorkerStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
