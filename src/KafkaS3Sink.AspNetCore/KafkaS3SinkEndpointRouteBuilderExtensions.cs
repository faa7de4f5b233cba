using System.Text.Json;
using System.Text.Json.Nodes;
using KafkaS3Sink;
using KafkaS3Sink.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using static Microsoft.AspNetCore.Builder.ConnectShapes;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Kafka Connect's REST API (the <c>/connectors</c> part) for the sinks of this process.</summary>
public static class KafkaS3SinkEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, under <paramref name="prefix"/>, Kafka Connect's connector routes with its status codes and JSON shapes:
    /// <c>GET /</c> (names; <c>?expand=status</c>, <c>?expand=info</c>), <c>POST /</c>, <c>GET|DELETE /{name}</c>,
    /// <c>GET /{name}/status</c>, <c>GET|PUT /{name}/config</c>, <c>PUT /{name}/pause|resume|stop</c>,
    /// <c>POST /{name}/restart</c> (<c>includeTasks</c>, <c>onlyFailed</c>), <c>GET /{name}/tasks</c>,
    /// <c>GET /{name}/tasks/0/status</c>, <c>POST /{name}/tasks/0/restart</c>, <c>GET|PATCH|DELETE /{name}/offsets</c>;
    /// any other path under the prefix answers Connect's JSON 404. Secrets are masked in every response, and a masked
    /// value written back keeps the stored secret. The routes have no authorization of their own: add the host's,
    /// e.g. <c>app.MapKafkaS3Sink().RequireAuthorization("operators")</c>. See docs/operations.md for the table.
    /// </summary>
    /// <param name="endpoints">The endpoint builder.</param>
    /// <param name="prefix">The route prefix. Default <c>/connectors</c>, as Kafka Connect.</param>
    /// <returns>The route group, to add authorization or other conventions.</returns>
    public static RouteGroupBuilder MapKafkaS3Sink(this IEndpointRouteBuilder endpoints, string prefix = "/connectors")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(prefix).WithTags("KafkaS3Sink");

        group.MapGet("/", (HttpContext context, HttpRequest request, IKafkaS3SinkController c) =>
        {
            var expand = request.Query["expand"].Select(e => e?.ToLowerInvariant()).ToHashSet();
            if (expand.Count == 0)
            {
                return Results.Ok(c.SinkNames);
            }

            var result = new JsonObject();
            foreach (var name in c.SinkNames)
            {
                var entry = new JsonObject();
                if (expand.Contains("status"))
                {
                    entry["status"] = TryStatus(c, name, WorkerId(context));
                }

                if (expand.Contains("info"))
                {
                    entry["info"] = Info(c, name);
                }

                result[name] = entry;
            }

            return Results.Json(result);
        }).WithName("ListSinks").WithSummary("Lists the sinks of this process; ?expand=status and/or ?expand=info add each one's status and info.");

        group.MapPost("/", async (HttpRequest request, IKafkaS3SinkController c, CancellationToken ct) =>
        {
            var body = await ReadAsync(request, ct).ConfigureAwait(false);
            if (body.Error is not null)
            {
                return body.Error;
            }

            if (!body.Config!.TryGetValue("name", out var name) || string.IsNullOrWhiteSpace(name))
            {
                return Error(StatusCodes.Status400BadRequest, "The body must be {\"name\": ..., \"config\": {...}} with a name.");
            }

            if (c.SinkNames.Contains(name, StringComparer.Ordinal))
            {
                return Error(StatusCodes.Status409Conflict, $"Connector {name} already exists");
            }

            return await Guard(async () =>
            {
                await c.CreateAsync(name, Without(body.Config!, "name"), ct).ConfigureAwait(false);
                return Results.Json(Info(c, name), statusCode: StatusCodes.Status201Created);
            }).ConfigureAwait(false);
        }).WithName("CreateSink").WithSummary("Creates and starts a sink from a Kafka Connect S3 sink connector config.");

        group.MapGet("/{name}", (string name, IKafkaS3SinkController c) => Guard(name, () => Results.Json(Info(c, name))))
            .WithName("GetSink").WithSummary("A sink's name, masked config, tasks and type.");

        group.MapDelete("/{name}", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
        {
            await c.DeleteAsync(name, ct).ConfigureAwait(false);
            return Results.NoContent();
        })).WithName("DeleteSink").WithSummary("Stops and removes a sink created at runtime.");

        group.MapGet("/{name}/status", (string name, HttpContext context, IKafkaS3SinkController c) => Guard(name, () => Results.Json(Status(c, name, WorkerId(context)))))
            .WithName("GetSinkStatus").WithSummary("A sink's state, in Kafka Connect's shape plus details.");

        group.MapGet("/{name}/config", (string name, IKafkaS3SinkController c) => Guard(name, () => Results.Json(Config(c, name))))
            .WithName("GetSinkConfig").WithSummary("The connector config a sink was created from, with its name and secrets masked.");

        group.MapPut("/{name}/config", async (string name, HttpRequest request, IKafkaS3SinkController c, CancellationToken ct) =>
        {
            var body = await ReadAsync(request, ct).ConfigureAwait(false);
            if (body.Error is not null)
            {
                return body.Error;
            }

            if (body.Config!.TryGetValue("name", out var given) && given != name)
            {
                return Error(StatusCodes.Status400BadRequest, $"Connector name configuration ({given}) doesn't match connector name in the URL ({name})");
            }

            var config = Without(body.Config!, "name");
            return await Guard(async () =>
            {
                if (c.SinkNames.Contains(name, StringComparer.Ordinal))
                {
                    await c.UpdateAsync(name, config, ct).ConfigureAwait(false);
                    return Results.Json(Info(c, name));
                }

                await c.CreateAsync(name, config, ct).ConfigureAwait(false);
                return Results.Json(Info(c, name), statusCode: StatusCodes.Status201Created);
            }).ConfigureAwait(false);
        }).WithName("PutSinkConfig").WithSummary("Creates a sink, or replaces its config and restarts it (a masked secret keeps the stored one).");

        group.MapPut("/{name}/pause", (string name, IKafkaS3SinkController c) => Guard(name, () =>
        {
            c.Pause(name);
            return Results.Accepted();
        })).WithName("PauseSink").WithSummary("Stops consuming; the sink stays in its consumer group.");

        group.MapPut("/{name}/resume", (string name, IKafkaS3SinkController c) => Guard(name, () =>
        {
            c.Resume(name);
            return Results.Accepted();
        })).WithName("ResumeSink").WithSummary("Resumes consuming; starts a stopped sink.");

        group.MapPut("/{name}/stop", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
        {
            await c.StopAsync(name, ct).ConfigureAwait(false);
            return Results.NoContent();
        })).WithName("StopSink").WithSummary("Stops the sink and keeps it (STOPPED): its consumer leaves the group, so its offsets can be changed.");

        group.MapPost("/{name}/restart", (string name, bool? includeTasks, bool? onlyFailed, HttpContext context, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
        {
            var status = c.GetStatus(name);
            var worker = WorkerId(context);
            var failedOnly = onlyFailed ?? false;
            if (!(includeTasks ?? false) && !failedOnly)
            {
                await c.RestartAsync(name, ct).ConfigureAwait(false);
                return Results.NoContent();
            }

            // Connect's KIP-745 form: 202 with the status, RESTARTING where an instance restarts.
            if (failedOnly && status.State != SinkState.Failed)
            {
                return Results.Json(Status(c, name, worker), statusCode: StatusCodes.Status202Accepted);
            }

            var accepted = Status(c, name, worker, restarting: "RESTARTING");
            await c.RestartAsync(name, ct).ConfigureAwait(false);
            return Results.Json(accepted, statusCode: StatusCodes.Status202Accepted);
        })).WithName("RestartSink").WithSummary("Stops the sink gracefully and starts it again (also after a failure).");

        group.MapGet("/{name}/tasks", (string name, IKafkaS3SinkController c) => Guard(name, () =>
        {
            var tasks = new JsonArray();
            for (var id = 0; id < Running(c, name).Count; id++)
            {
                tasks.Add(new JsonObject { ["id"] = new JsonObject { ["connector"] = name, ["task"] = id }, ["config"] = Config(c, name) });
            }

            return Results.Json(tasks);
        })).WithName("GetSinkTasks").WithSummary("The sink's one task (its consumer) and its config.");

        group.MapGet("/{name}/tasks/{task:int}/status", (string name, int task, IKafkaS3SinkController c) => Guard(name, () =>
        {
            var running = Running(c, name);
            return task >= 0 && task < running.Count
                ? Results.Json(TaskStatus(running[task], task))
                : Error(StatusCodes.Status404NotFound, $"Task {name}-{task} not found");
        })).WithName("GetSinkTaskStatus").WithSummary("The status of one task: a member of the sink, one per worker running it.");

        group.MapPost("/{name}/tasks/{task:int}/restart", (string name, int task, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
        {
            if (task < 0 || task >= Math.Max(1, Running(c, name).Count))
            {
                return Error(StatusCodes.Status404NotFound, $"Task {name}-{task} not found");
            }

            await c.RestartAsync(name, ct).ConfigureAwait(false);
            return Results.NoContent();
        })).WithName("RestartSinkTask").WithSummary("Restarts this worker's member of the sink.");

        group.MapGet("/{name}/offsets", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
            Results.Json(Offsets(await c.GetOffsetsAsync(name, ct).ConfigureAwait(false)))))
            .WithName("GetSinkOffsets").WithSummary("The consumer group's committed offsets (everything before them is in S3).");

        group.MapMethods("/{name}/offsets", ["PATCH"], async (string name, HttpRequest request, IKafkaS3SinkController c, CancellationToken ct) =>
        {
            var offsets = await ReadOffsetsAsync(request, ct).ConfigureAwait(false);
            if (offsets.Error is not null)
            {
                return offsets.Error;
            }

            return await Guard(name, async () =>
            {
                await c.AlterOffsetsAsync(name, offsets.Offsets!, ct).ConfigureAwait(false);
                return Message("The offsets for this connector have been altered successfully");
            }, conflict: StatusCodes.Status400BadRequest).ConfigureAwait(false);
        }).WithName("AlterSinkOffsets").WithSummary("Sets the group's offsets of a stopped sink ({\"offsets\": [{partition, offset}]}).");

        group.MapDelete("/{name}/offsets", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(name, async () =>
        {
            await c.ResetOffsetsAsync(name, ct).ConfigureAwait(false);
            return Message("The offsets for this connector have been reset successfully");
        }, conflict: StatusCodes.Status400BadRequest)).WithName("ResetSinkOffsets").WithSummary("Resets a stopped sink's offsets to the start of each partition.");

        // Anything else under the prefix: Connect's JSON 404, not an empty body.
        group.MapFallback(() => Error(StatusCodes.Status404NotFound, "HTTP 404 Not Found"));
        return group;
    }

    private static JsonObject TryStatus(IKafkaS3SinkController c, string name, string worker)
    {
        try
        {
            return Status(c, name, worker);
        }
        catch (InvalidOperationException)
        {
            return new JsonObject { ["name"] = name, ["connector"] = new JsonObject { ["state"] = "UNASSIGNED", ["worker_id"] = worker }, ["tasks"] = new JsonArray(), ["type"] = "sink" };
        }
    }

    private static Task<IResult> Guard(string name, Func<IResult> action) => Guard(name, () => Task.FromResult(action()));

    private static Task<IResult> Guard(string name, Func<Task<IResult>> action, int conflict = StatusCodes.Status409Conflict)
        => Guard(action, conflict, $"Connector {name} not found");

    private static async Task<IResult> Guard(Func<Task<IResult>> action, int conflict = StatusCodes.Status409Conflict, string? notFound = null)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            return Error(StatusCodes.Status404NotFound, notFound ?? ex.Message);
        }
        catch (KafkaS3SinkConfigurationException ex)
        {
            return Results.Json(new { error_code = 400, message = "The connector config is invalid: " + string.Join(" ", ex.Errors), errors = ex.Errors }, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (ArgumentException ex)
        {
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
        catch (InvalidOperationException ex)
        {
            return Error(conflict, ex.Message);
        }
    }

    private static Dictionary<string, string> Without(IReadOnlyDictionary<string, string> config, string key)
        => config.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    internal static async Task<(IReadOnlyDictionary<string, string>? Config, IResult? Error)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        try
        {
            return (KafkaConnectConfig.Parse(text), null);
        }
        catch (KafkaS3SinkConfigurationException ex)
        {
            return (null, Results.Json(new { error_code = 400, message = "The body is not a connector config: " + string.Join(" ", ex.Errors), errors = ex.Errors }, statusCode: StatusCodes.Status400BadRequest));
        }
    }

    /// <summary>Reads Connect's <c>{"offsets": [{"partition": {"kafka_topic", "kafka_partition"}, "offset": {"kafka_offset"} | null}]}</c>.</summary>
    private static async Task<(List<SinkOffset>? Offsets, IResult? Error)> ReadOffsetsAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false);
            if (!document.RootElement.TryGetProperty("offsets", out var list) || list.ValueKind != JsonValueKind.Array)
            {
                return (null, Error(StatusCodes.Status400BadRequest, "The body must be {\"offsets\": [...]}."));
            }

            var result = new List<SinkOffset>();
            foreach (var entry in list.EnumerateArray())
            {
                if (!entry.TryGetProperty("partition", out var partition)
                    || !partition.TryGetProperty("kafka_topic", out var topic) || topic.ValueKind != JsonValueKind.String
                    || !partition.TryGetProperty("kafka_partition", out var number) || !number.TryGetInt32(out var p))
                {
                    return (null, Error(StatusCodes.Status400BadRequest, "Each entry needs \"partition\": {\"kafka_topic\": string, \"kafka_partition\": integer}."));
                }

                long? offset = null;
                if (entry.TryGetProperty("offset", out var o) && o.ValueKind != JsonValueKind.Null)
                {
                    if (!o.TryGetProperty("kafka_offset", out var value) || !value.TryGetInt64(out var v))
                    {
                        return (null, Error(StatusCodes.Status400BadRequest, $"{topic.GetString()}[{p}]: \"offset\" must be {{\"kafka_offset\": integer}} or null."));
                    }

                    offset = v;
                }

                result.Add(new SinkOffset(topic.GetString()!, p, offset));
            }

            return (result, null);
        }
        catch (JsonException ex)
        {
            return (null, Error(StatusCodes.Status400BadRequest, "The body is not valid JSON: " + ex.Message));
        }
    }
}
