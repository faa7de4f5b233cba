using System.Text.Json;
using KafkaS3Sink;
using KafkaS3Sink.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps Kafka-Connect-style management routes for the sinks of this process.</summary>
public static class KafkaS3SinkEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps, under <paramref name="prefix"/>: <c>GET /</c> (names), <c>POST /</c> (create from <c>{"name","config"}</c>),
    /// <c>GET /{name}</c>, <c>GET /{name}/status</c>, <c>GET|PUT /{name}/config</c>, <c>PUT /{name}/pause</c>,
    /// <c>PUT /{name}/resume</c>, <c>POST /{name}/restart</c>, <c>DELETE /{name}</c>. Secrets are masked in every
    /// response. The routes have no authorization of their own: put them behind the host's, e.g.
    /// <c>app.MapKafkaS3Sink().RequireAuthorization("operators")</c>.
    /// </summary>
    /// <param name="endpoints">The endpoint builder.</param>
    /// <param name="prefix">The route prefix. Default <c>/connectors</c>, as Kafka Connect.</param>
    /// <returns>The route group, to add authorization or other conventions.</returns>
    public static RouteGroupBuilder MapKafkaS3Sink(this IEndpointRouteBuilder endpoints, string prefix = "/connectors")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(prefix).WithTags("KafkaS3Sink");

        group.MapGet("/", (IKafkaS3SinkController c) => Results.Ok(c.SinkNames))
            .WithName("ListSinks").WithSummary("Lists the sinks of this process.");

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

            return await Guard(async () =>
            {
                await c.CreateAsync(name, Without(body.Config!, "name"), ct).ConfigureAwait(false);
                return Results.Created($"{prefix}/{name}", Info(c, name));
            }).ConfigureAwait(false);
        }).WithName("CreateSink").WithSummary("Creates and starts a sink from a Kafka Connect S3 sink connector config.");

        group.MapGet("/{name}", (string name, IKafkaS3SinkController c) => Guard(() => Task.FromResult(Results.Ok(Info(c, name)))))
            .WithName("GetSink").WithSummary("A sink's name, masked config and type.");

        group.MapGet("/{name}/status", (string name, IKafkaS3SinkController c) => Guard(() => Task.FromResult(Results.Ok(Status(c.GetStatus(name))))))
            .WithName("GetSinkStatus").WithSummary("A sink's state, in Kafka Connect's shape plus details.");

        group.MapGet("/{name}/config", (string name, IKafkaS3SinkController c) => Guard(() => Task.FromResult(Results.Ok(c.GetConfig(name) ?? new Dictionary<string, string>()))))
            .WithName("GetSinkConfig").WithSummary("The connector config a sink was created from, secrets masked (empty for sinks defined in code).");

        group.MapPut("/{name}/config", async (string name, HttpRequest request, IKafkaS3SinkController c, CancellationToken ct) =>
        {
            var body = await ReadAsync(request, ct).ConfigureAwait(false);
            if (body.Error is not null)
            {
                return body.Error;
            }

            var config = Without(body.Config!, "name");
            return await Guard(async () =>
            {
                if (c.SinkNames.Contains(name, StringComparer.Ordinal))
                {
                    await c.UpdateAsync(name, config, ct).ConfigureAwait(false);
                    return Results.Ok(Info(c, name));
                }

                await c.CreateAsync(name, config, ct).ConfigureAwait(false);
                return Results.Created($"{prefix}/{name}", Info(c, name));
            }).ConfigureAwait(false);
        }).WithName("PutSinkConfig").WithSummary("Creates a sink, or replaces its config and restarts it.");

        group.MapPut("/{name}/pause", (string name, IKafkaS3SinkController c) => Guard(() =>
        {
            c.Pause(name);
            return Task.FromResult(Results.Accepted());
        })).WithName("PauseSink").WithSummary("Stops consuming; the sink stays in its consumer group.");

        group.MapPut("/{name}/resume", (string name, IKafkaS3SinkController c) => Guard(() =>
        {
            c.Resume(name);
            return Task.FromResult(Results.Accepted());
        })).WithName("ResumeSink").WithSummary("Resumes consuming.");

        group.MapPost("/{name}/restart", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(async () =>
        {
            await c.RestartAsync(name, ct).ConfigureAwait(false);
            return Results.NoContent();
        })).WithName("RestartSink").WithSummary("Stops the sink gracefully and starts it again.");

        group.MapDelete("/{name}", (string name, IKafkaS3SinkController c, CancellationToken ct) => Guard(async () =>
        {
            await c.DeleteAsync(name, ct).ConfigureAwait(false);
            return Results.NoContent();
        })).WithName("DeleteSink").WithSummary("Stops and removes a sink created at runtime.");

        return group;
    }

    private static object Info(IKafkaS3SinkController c, string name)
        => new { name, config = c.GetConfig(name) ?? new Dictionary<string, string>(), type = "sink" };

    /// <summary>Kafka Connect's status shape (one task per sink), plus the sink's own details.</summary>
    private static object Status(KafkaS3SinkStatus s)
    {
        var state = s.State switch
        {
            SinkState.Running => "RUNNING",
            SinkState.Paused => "PAUSED",
            SinkState.Failed => "FAILED",
            SinkState.Stopped => "STOPPED",
            _ => "UNASSIGNED",
        };
        var worker = Environment.MachineName;
        return new
        {
            name = s.Name,
            connector = new { state, worker_id = worker, trace = s.Error },
            tasks = new[] { new { id = 0, state, worker_id = worker, trace = s.Error } },
            type = "sink",
            details = s,
        };
    }

    private static async Task<IResult> Guard(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            return Error(StatusCodes.Status404NotFound, ex.Message);
        }
        catch (KafkaS3SinkConfigurationException ex)
        {
            return Results.Json(new { error_code = 400, message = "The connector config is invalid.", errors = ex.Errors }, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (InvalidOperationException ex)
        {
            return Error(StatusCodes.Status409Conflict, ex.Message);
        }
    }

    private static IResult Error(int status, string message) => Results.Json(new { error_code = status, message }, statusCode: status);

    private static Dictionary<string, string> Without(IReadOnlyDictionary<string, string> config, string key)
        => config.Where(kv => kv.Key != key).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

    private static async Task<(IReadOnlyDictionary<string, string>? Config, IResult? Error)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        try
        {
            return (KafkaConnectConfig.Parse(text), null);
        }
        catch (KafkaS3SinkConfigurationException ex)
        {
            return (null, Results.Json(new { error_code = 400, message = "The body is not a connector config.", errors = ex.Errors }, statusCode: StatusCodes.Status400BadRequest));
        }
        catch (JsonException ex)
        {
            return (null, Error(StatusCodes.Status400BadRequest, ex.Message));
        }
    }
}
