using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using KafkaS3Sink;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Microsoft.AspNetCore.Builder.ConnectShapes;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the whole of Kafka Connect's REST API a worker serves: the worker's routes and the connector routes.</summary>
public static partial class KafkaConnectWorkerEndpoints
{
    private const string ConnectorClass = "io.confluent.connect.s3.S3SinkConnector";

    /// <summary>
    /// Maps Kafka Connect's worker routes — <c>GET /</c> (<c>{version, commit, kafka_cluster_id}</c>),
    /// <c>GET /connector-plugins</c>, <c>PUT /connector-plugins/{plugin}/config/validate</c> (Connect's
    /// <c>error_count</c>, <c>groups</c> and per-config <c>errors</c>) — and <see cref="KafkaS3SinkEndpointRouteBuilderExtensions.MapKafkaS3Sink"/>
    /// under <c>/connectors</c>; every other path answers Connect's JSON 404.
    /// </summary>
    /// <param name="endpoints">The endpoint builder.</param>
    /// <param name="kafkaBootstrapServers">The Kafka cluster whose id <c>GET /</c> reports (looked up once); null to report none.</param>
    /// <returns>The group of every route, to add authorization (e.g. <c>.RequireAuthorization()</c>).</returns>
    public static RouteGroupBuilder MapKafkaConnectWorker(this IEndpointRouteBuilder endpoints, string? kafkaBootstrapServers = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var all = endpoints.MapGroup(string.Empty).WithTags("KafkaS3Sink");
        var clusterId = new Lazy<Task<string?>>(() => ClusterIdAsync(kafkaBootstrapServers));
        var version = Version();

        all.MapGet("/", async () => Results.Json(new JsonObject
        {
            ["version"] = version.Version,
            ["commit"] = version.Commit,
            ["kafka_cluster_id"] = await clusterId.Value.ConfigureAwait(false),
        })).WithName("WorkerInfo").WithSummary("The worker's version, commit and Kafka cluster id.");

        all.MapGet("/connector-plugins", () => Results.Json(new JsonArray
        {
            new JsonObject { ["class"] = ConnectorClass, ["type"] = "sink", ["version"] = version.Version },
        })).WithName("ListPlugins").WithSummary("The one connector this worker runs: the S3 sink.");

        all.MapPut("/connector-plugins/{plugin}/config/validate", async (string plugin, HttpRequest request, IKafkaS3SinkController c, CancellationToken ct) =>
        {
            if (!IsThisConnector(plugin))
            {
                return Error(StatusCodes.Status404NotFound, $"Failed to find any class that implements Connector and which name matches {plugin}, available connectors are: {ConnectorClass}");
            }

            var body = await KafkaS3SinkEndpointRouteBuilderExtensions.ReadAsync(request, ct).ConfigureAwait(false);
            return body.Error ?? Results.Json(Validation(body.Config!, c.Validate(body.Config!)));
        }).WithName("ValidateConfig").WithSummary("Checks a connector config without creating a sink, in Kafka Connect's validation shape.");

        all.MapKafkaS3Sink();
        all.MapFallback(() => Error(StatusCodes.Status404NotFound, "HTTP 404 Not Found"));
        return all;
    }

    /// <summary>
    /// Connect's <c>ConfigInfos</c>: one entry per given setting (and per setting an error names that was not
    /// given), each error on the setting it names; an error that names none is put on <c>connector.class</c>.
    /// </summary>
    internal static JsonObject Validation(IReadOnlyDictionary<string, string> config, IReadOnlyList<string> errors)
    {
        var byKey = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var key in config.Keys)
        {
            byKey[key] = [];
        }

        foreach (var error in errors)
        {
            var key = NamedKey(error, config) ?? "connector.class";
            if (!byKey.TryGetValue(key, out var list))
            {
                byKey[key] = list = [];
            }

            list.Add(error);
        }

        var configs = new JsonArray();
        foreach (var (key, keyErrors) in byKey)
        {
            configs.Add(new JsonObject
            {
                ["definition"] = new JsonObject
                {
                    ["name"] = key,
                    ["type"] = "STRING",
                    ["required"] = false,
                    ["default_value"] = null,
                    ["importance"] = "MEDIUM",
                    ["documentation"] = "See docs/migrating-from-kafka-connect.md and docs/configuration.md.",
                    ["group"] = "Common",
                    ["width"] = "NONE",
                    ["display_name"] = key,
                    ["dependents"] = new JsonArray(),
                    ["order"] = -1,
                },
                ["value"] = new JsonObject
                {
                    ["name"] = key,
                    ["value"] = config.TryGetValue(key, out var v) ? (KafkaS3Sink.Hosting.KafkaS3SinkController.IsSecret(key) ? KafkaS3Sink.Hosting.KafkaS3SinkController.Mask : v) : null,
                    ["recommended_values"] = new JsonArray(),
                    ["errors"] = new JsonArray([.. keyErrors.Select(e => (JsonNode)e)]),
                    ["visible"] = true,
                },
            });
        }

        return new JsonObject
        {
            ["name"] = ConnectorClass,
            ["error_count"] = errors.Count,
            ["groups"] = new JsonArray("Common"),
            ["configs"] = configs,
        };
    }

    /// <summary>The Connect key an error names: <c>key: …</c>, <c>Option (key): …</c> or <c>a / b: …</c> (the first given).</summary>
    private static string? NamedKey(string error, IReadOnlyDictionary<string, string> config)
    {
        var head = error.Split(':', 2)[0];
        var candidates = ParenthesizedKey().Matches(head).Select(m => m.Groups[1].Value)
            .Concat(head.Split('/', StringSplitOptions.TrimEntries))
            .Where(k => k.Length > 0 && !k.Contains(' ', StringComparison.Ordinal))
            .ToList();
        return candidates.FirstOrDefault(config.ContainsKey)
            ?? candidates.FirstOrDefault(k => k.Contains('.', StringComparison.Ordinal) && k.All(ch => !char.IsUpper(ch)));
    }

    private static bool IsThisConnector(string plugin)
        => plugin is ConnectorClass or "S3SinkConnector" or "S3Sink" or "S3";

    private static (string Version, string Commit) Version()
    {
        var informational = typeof(KafkaS3Sink.KafkaS3Sink).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, "unknown") : (informational[..plus], informational[(plus + 1)..]);
    }

    private static async Task<string?> ClusterIdAsync(string? bootstrapServers)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers))
        {
            return null;
        }

        try
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
            var cluster = await admin.DescribeClusterAsync(new Confluent.Kafka.Admin.DescribeClusterOptions { RequestTimeout = TimeSpan.FromSeconds(10) }).ConfigureAwait(false);
            return cluster.ClusterId;
        }
        catch (KafkaException)
        {
            return null; // unknown (unreachable cluster, or a broker without DescribeCluster)
        }
    }

    [GeneratedRegex(@"\(([a-z][a-z0-9._-]*)\)")]
    private static partial Regex ParenthesizedKey();
}
