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
        if (!IsStopped(c, name))
        {
            tasks.Add(new JsonObject { ["connector"] = name, ["task"] = 0 });
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

    /// <summary><c>{name, connector: {state, worker_id}, tasks: [{id, state, worker_id}], type}</c>, plus the sink's own <c>details</c>.</summary>
    public static JsonObject Status(KafkaS3SinkStatus s, string? restarting = null)
    {
        var state = State(s.State);
        var tasks = new JsonArray();
        if (s.State != SinkState.Stopped)
        {
            tasks.Add(TaskStatus(s, restarting ?? state));
        }

        var connector = new JsonObject { ["state"] = restarting ?? state, ["worker_id"] = WorkerId };
        if (s.Error is not null)
        {
            connector["trace"] = s.Error;
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

    /// <summary><c>{id, state, worker_id[, trace]}</c> of the sink's one task.</summary>
    public static JsonObject TaskStatus(KafkaS3SinkStatus s, string? state = null)
    {
        var task = new JsonObject { ["id"] = 0, ["state"] = state ?? State(s.State), ["worker_id"] = WorkerId };
        if (s.Error is not null)
        {
            task["trace"] = s.Error;
        }

        return task;
    }

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

    /// <summary>What Connect calls the worker: host and port would need the request; the host name identifies the process's machine.</summary>
    public static string WorkerId => Environment.MachineName;

    private static bool IsStopped(IKafkaS3SinkController c, string name)
    {
        try
        {
            return c.GetStatus(name).State == SinkState.Stopped;
        }
        catch (InvalidOperationException)
        {
            return false; // not started yet
        }
    }
}
