using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Hosting;

/// <summary>
/// Distributed mode: each worker publishes the state of its members to the status topic (Connect's
/// <c>status.storage.topic</c>) every <see cref="KafkaS3SinkWorkerOptions.StatusInterval"/> and reads everyone's, so a
/// connector's status lists one task per worker running it. Records: key <c>status-&lt;name&gt;-&lt;worker&gt;</c>,
/// value <c>{"name", "worker_id", "state", "trace", "at"}</c>; a tombstone when a worker no longer runs a connector.
/// Each worker also publishes a heartbeat, key <c>worker-&lt;id&gt;</c>, which <c>tasks.max</c> counts. A worker that
/// stops publishing (it died) drops out after three intervals.
/// </summary>
internal sealed class KafkaStatusStore(KafkaS3SinkWorkerOptions options, KafkaS3SinkRegistry registry, TimeProvider time, ILoggerFactory loggers)
    : IHostedService, IDisposable
{
    private readonly ILogger logger = loggers.CreateLogger("KafkaS3Sink");
    private readonly Lock gate = new();
    private readonly Dictionary<(string Name, string Worker), (SinkState State, string? Error, long At)> members = [];
    private readonly Dictionary<string, (SinkState State, string? Error)> published = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> workers = new(StringComparer.Ordinal);
    private IProducer<string, byte[]?>? producer;
    private CancellationTokenSource? stopping;
    private Task? loop;

    private readonly TaskCompletionSource caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private List<TopicPartitionOffset> ends = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        WorkerTopics.EnsureTopic(options, options.StatusTopic, logger);
        producer = new ProducerBuilder<string, byte[]?>(WorkerTopics.Client(options, new ProducerConfig { Acks = Acks.All, EnableIdempotence = true, LingerMs = 5 })).Build();
        (var consumer, ends) = WorkerTopics.OpenReader(options, options.StatusTopic, "kafkas3sink-status-reader");

        stopping = new CancellationTokenSource();
        var token = stopping.Token;
        loop = Task.Factory.StartNew(() => Loop(consumer, token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // Know the other workers before the connectors are applied (tasks.max counts them); bounded.
        try
        {
            await caughtUp.Task.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.ConfigTopicProblem(logger, options.StatusTopic, "not read to its end within 15 s; going on");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (stopping is null || loop is null)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await loop.WaitAsync(cancellationToken).ConfigureAwait(false);

        // This worker no longer runs anything: say so, rather than let the others wait three intervals.
        foreach (var name in published.Keys)
        {
            producer!.Produce(options.StatusTopic, new Message<string, byte[]?> { Key = Key(name), Value = null });
        }

        producer!.Produce(options.StatusTopic, new Message<string, byte[]?> { Key = WorkerKey(options.WorkerId), Value = null });

        producer!.Flush(TimeSpan.FromSeconds(5));
    }

    /// <summary>The workers alive now (a heartbeat within three intervals), this one included, by id.</summary>
    public IReadOnlyList<string> LiveWorkers()
    {
        var fresh = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)(3 * options.StatusInterval.TotalMilliseconds);
        lock (gate)
        {
            return [.. workers.Where(w => w.Value >= fresh).Select(w => w.Key).Append(options.WorkerId).Distinct().Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The members of a sink that published recently, this worker's own state taken live; by worker id.</summary>
    public IReadOnlyList<SinkMemberStatus> Members(string name, SinkMemberStatus? local)
    {
        var fresh = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)(3 * options.StatusInterval.TotalMilliseconds);
        var result = new List<SinkMemberStatus>();
        lock (gate)
        {
            foreach (var ((connector, worker), (state, error, at)) in members)
            {
                if (connector == name && worker != options.WorkerId && at >= fresh)
                {
                    result.Add(new SinkMemberStatus(worker, state, error));
                }
            }
        }

        if (local is not null)
        {
            result.Add(local);
        }

        return [.. result.OrderBy(m => m.WorkerId, StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        producer?.Dispose();
        stopping?.Dispose();
    }

    private void Loop(IConsumer<string, byte[]?> consumer, CancellationToken token)
    {
        var nextPublish = 0L;
        try
        {
            while (!token.IsCancellationRequested)
            {
                var now = time.GetTimestamp();
                if (now >= nextPublish)
                {
                    nextPublish = now + (long)(options.StatusInterval.TotalSeconds * time.TimestampFrequency);
                    Publish(force: true);
                }
                else
                {
                    Publish(force: false);
                }

                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { Message: { } message })
                    {
                        Read(message.Key, message.Value);
                    }

                    if (!caughtUp.Task.IsCompleted && ends.All(e => e.Offset.Value <= 0 || consumer.Position(e.TopicPartition).Value >= e.Offset.Value))
                    {
                        caughtUp.TrySetResult();
                    }
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConfigTopicProblem(logger, options.StatusTopic, ex.Error.Reason);
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    Log.ConfigTopicProblem(logger, options.StatusTopic, "a record could not be read: " + ex.Message);
                }
            }
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }
    }

    /// <summary>Publishes every local member's state (all of them on the interval, otherwise only changes) and tombstones for removed ones.</summary>
    private void Publish(bool force)
    {
        var current = new Dictionary<string, (SinkState, string?)>(StringComparer.Ordinal);
        foreach (var name in registry.Names)
        {
            try
            {
                if (registry.Get(name).Sink is { } sink)
                {
                    current[name] = (sink.State, sink.Failure?.Message);
                }
            }
            catch (KeyNotFoundException)
            {
                // Deleted meanwhile.
            }
        }

        var at = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (force)
        {
            // The worker's heartbeat: the others count it for tasks.max even while it runs no member.
            producer!.Produce(options.StatusTopic, new Message<string, byte[]?>
            {
                Key = WorkerKey(options.WorkerId),
                Value = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["worker_id"] = options.WorkerId, ["at"] = at }),
            });
        }

        foreach (var (name, (state, error)) in current)
        {
            if (force || !published.TryGetValue(name, out var last) || last != (state, error))
            {
                published[name] = (state, error);
                var value = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
                {
                    ["name"] = name,
                    ["worker_id"] = options.WorkerId,
                    ["state"] = state.ToString(),
                    ["trace"] = error,
                    ["at"] = at,
                });
                producer!.Produce(options.StatusTopic, new Message<string, byte[]?> { Key = Key(name), Value = value });
            }
        }

        foreach (var gone in published.Keys.Where(n => !current.ContainsKey(n)).ToList())
        {
            published.Remove(gone);
            producer!.Produce(options.StatusTopic, new Message<string, byte[]?> { Key = Key(gone), Value = null });
        }
    }

    private void Read(string? key, byte[]? value)
    {
        if (key is not null && key.StartsWith("worker-", StringComparison.Ordinal))
        {
            lock (gate)
            {
                if (value is null)
                {
                    workers.Remove(key["worker-".Length..]);
                }
                else
                {
                    using var heartbeat = JsonDocument.Parse(value);
                    workers[heartbeat.RootElement.GetProperty("worker_id").GetString()!] = heartbeat.RootElement.GetProperty("at").GetInt64();
                }
            }

            return;
        }

        if (key is null || !key.StartsWith("status-", StringComparison.Ordinal))
        {
            return;
        }

        if (value is null)
        {
            lock (gate)
            {
                foreach (var k in members.Keys.Where(k => Key(k.Name, k.Worker) == key).ToList())
                {
                    members.Remove(k);
                }
            }

            return;
        }

        using var document = JsonDocument.Parse(value);
        var root = document.RootElement;
        var name = root.GetProperty("name").GetString()!;
        var worker = root.GetProperty("worker_id").GetString()!;
        var state = Enum.Parse<SinkState>(root.GetProperty("state").GetString()!);
        var error = root.TryGetProperty("trace", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        lock (gate)
        {
            members[(name, worker)] = (state, error, root.GetProperty("at").GetInt64());
        }
    }

    private static string WorkerKey(string worker) => "worker-" + worker;

    private string Key(string name) => Key(name, options.WorkerId);

    private static string Key(string name, string worker) => $"status-{name}-{worker}";
}
