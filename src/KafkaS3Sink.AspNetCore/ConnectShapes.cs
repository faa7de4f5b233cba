using System.Text.Json.Nodes;
using KafkaS3Sink;
using Microsoft.AspNetCore.Http;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// The JSON bodies of Kafka Connect's REST API (Apache Kafka's <c>ConnectorInfo</c>, <c>ConnectorStateInfo</c>,
/// <c>TaskInfo</c>, <c>ErrorMessage</c>, <c>ConnectorOffsets</c>) for the sinks of this process. A sink is one
/// connector with one task (id 0): the task is the sink's consumer, which shares the group's partitions with the
/// sink's other members.
/// </summary>
internal static class ConnectShapes
{
    /// <summary>Connect's connector states for a sink's state.</summary>
    public static string State(SinkState state) => state switch
    {
        SinkState.Running => "RUNNING",
        SinkState.Paused => "PAUSED",
        SinkState.Failed => "FAILED",
        SinkState.Stopped => "STOPPED",
        _ => "UNASSIGNED",
    };

    /// <summary><c>{name, config, tasks, type}</c>; the config holds the name, as in Connect; a stopped sink has no tasks.</summary>
    public static JsonObject Info(IKafkaS3SinkController c, string name)
    {
        var config = Config(c, name);
        var tasks = new JsonArray();
        for (var id = 0; id < RunningCount(c, name); id++)
        {
            tasks.Add(new JsonObject { ["connector"] = name, ["task"] = id });
        }

        return new JsonObject { ["name"] = name, ["config"] = config, ["tasks"] = tasks, ["type"] = "sink" };
    }

    /// <summary>The masked connector config with its name (empty but for the name for sinks defined in code).</summary>
    public static JsonObject Config(IKafkaS3SinkController c, string name)
    {
        var config = new JsonObject();
        foreach (var (key, value) in c.GetConfig(name) ?? new Dictionary<string, string>())
        {
            config[key] = value;
        }

        config["name"] = name;
        return config;
    }

    /// <summary>
    /// <c>{name, connector: {state, worker_id}, tasks: [{id, state, worker_id}], type}</c>, plus the sink's own
    /// <c>details</c>: the connector is this worker's sink, the tasks are its members, one per worker running it.
    /// </summary>
    public static JsonObject Status(IKafkaS3SinkController c, string name, string worker, string? restarting = null)
    {
        var s = c.GetStatus(name);
        var connector = new JsonObject { ["state"] = restarting ?? State(s.State), ["worker_id"] = worker };
        if (s.Error is not null)
        {
            connector["trace"] = s.Error;
        }

        var tasks = new JsonArray();
        foreach (var (member, id) in Running(c, name).Select((m, i) => (m, i)))
        {
            tasks.Add(TaskStatus(member, id, restarting is not null && member.WorkerId == worker ? restarting : null));
        }

        return new JsonObject
        {
            ["name"] = s.Name,
            ["connector"] = connector,
            ["tasks"] = tasks,
            ["type"] = "sink",
            ["details"] = System.Text.Json.JsonSerializer.SerializeToNode(s),
        };
    }

    /// <summary>The members that run (a stopped one has no task), in task-id order.</summary>
    public static IReadOnlyList<SinkMemberStatus> Running(IKafkaS3SinkController c, string name)
        => [.. c.GetMembers(name).Where(m => m.State != SinkState.Stopped)];

    /// <summary><c>{id, state, worker_id[, trace]}</c> of one task (member).</summary>
    public static JsonObject TaskStatus(SinkMemberStatus member, int id, string? state = null)
    {
        var task = new JsonObject { ["id"] = id, ["state"] = state ?? State(member.State), ["worker_id"] = member.WorkerId };
        if (member.Error is not null)
        {
            task["trace"] = member.Error;
        }

        return task;
    }

    /// <summary>The id of the worker answering: its distributed-mode id, or the host name.</summary>
    public static string WorkerId(HttpContext context) => context.RequestServices.GetService(typeof(KafkaS3SinkWorkerOptions)) is KafkaS3SinkWorkerOptions o ? o.WorkerId : Environment.MachineName;

    /// <summary><c>{offsets: [{partition: {kafka_topic, kafka_partition}, offset: {kafka_offset}}]}</c>.</summary>
    public static JsonObject Offsets(IEnumerable<SinkOffset> offsets)
    {
        var list = new JsonArray();
        foreach (var o in offsets)
        {
            list.Add(new JsonObject
            {
                ["partition"] = new JsonObject { ["kafka_topic"] = o.Topic, ["kafka_partition"] = o.Partition },
                ["offset"] = new JsonObject { ["kafka_offset"] = o.Offset },
            });
        }

        return new JsonObject { ["offsets"] = list };
    }

    /// <summary>Connect's error body, <c>{error_code, message}</c>.</summary>
    public static IResult Error(int status, string message) => Results.Json(new JsonObject { ["error_code"] = status, ["message"] = message }, statusCode: status);

    /// <summary>Connect's <c>{message}</c> answer to an offsets change.</summary>
    public static IResult Message(string message) => Results.Json(new JsonObject { ["message"] = message });

    private static int RunningCount(IKafkaS3SinkController c, string name)
    {
        try
        {
            return Running(c, name).Count;
        }
        catch (InvalidOperationException)
        {
            return 0; // not started yet
        }
    }
}
