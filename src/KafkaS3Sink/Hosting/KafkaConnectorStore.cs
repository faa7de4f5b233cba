using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Hosting;

/// <summary>
/// Distributed mode: connector configs and target states in a Kafka topic (Connect's <c>config.storage.topic</c>).
/// Every write goes to the topic and takes effect when this worker reads it back, exactly as on every other worker
/// that reads the topic; at start the worker replays the topic, so its connectors come back. Records: key
/// <c>connector-&lt;name&gt;</c>, value <c>{"config": {...}, "target_state": "STARTED|PAUSED|STOPPED"}</c>, a
/// tombstone deletes. One reader thread applies the records in order, through the worker's <see cref="KafkaS3SinkManager"/>.
/// </summary>
internal sealed class KafkaConnectorStore(KafkaS3SinkWorkerOptions options, KafkaS3SinkManager manager, KafkaS3SinkRegistry registry, KafkaStatusStore statuses, TimeProvider time, ILoggerFactory loggers)
    : IHostedService, IDisposable
{
    public const string Started = "STARTED";
    public const string Paused = "PAUSED";
    public const string Stopped = "STOPPED";
    private const string KeyPrefix = "connector-";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly ILogger logger = loggers.CreateLogger("KafkaS3Sink");
    private readonly Lock gate = new();
    private readonly Dictionary<string, (IReadOnlyDictionary<string, string> Config, string Target)> desired = new(StringComparer.Ordinal);
    private readonly Dictionary<int, long> applied = [];
    private readonly List<(int Partition, long Offset, TaskCompletionSource Done)> waiters = [];
    private IProducer<string, byte[]?>? producer;
    private CancellationTokenSource? stopping;
    private Task? loop;

    /// <summary>The config and target state the topic holds for a connector; null when it has none.</summary>
    public (IReadOnlyDictionary<string, string> Config, string Target)? Get(string name)
    {
        lock (gate)
        {
            return desired.TryGetValue(name, out var entry) ? entry : null;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        WorkerTopics.EnsureTopic(options, options.ConfigTopic, logger);
        producer = new ProducerBuilder<string, byte[]?>(WorkerTopics.Client(options, new ProducerConfig { Acks = Acks.All, EnableIdempotence = true })).Build();
        var (consumer, ends) = WorkerTopics.OpenReader(options, options.ConfigTopic, "kafkas3sink-config-reader");
        stopping = new CancellationTokenSource();
        var token = stopping.Token;
        loop = Task.Factory.StartNew(() => Loop(consumer, token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // The worker has started once it runs every connector the topic holds.
        await Task.WhenAll(ends.Select(e => AppliedAsync(e.Partition.Value, e.Offset.Value))).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
        Log.ConfigTopicLoaded(logger, options.ConfigTopic, desired.Count, options.WorkerId);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (stopping is null || loop is null)
        {
            return;
        }

        await stopping.CancelAsync().ConfigureAwait(false);
        await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a connector's config and target state (null keeps the current target, STARTED for a new one) and waits until this worker applied it.</summary>
    public Task PutAsync(string name, IReadOnlyDictionary<string, string> config, string? target, CancellationToken cancellationToken)
    {
        var value = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["config"] = config,
            ["target_state"] = target ?? Get(name)?.Target ?? Started,
        });
        return WriteAsync(name, value, cancellationToken);
    }

    /// <summary>Changes a connector's target state.</summary>
    public Task SetTargetAsync(string name, string target, CancellationToken cancellationToken)
    {
        var current = Get(name) ?? throw new KeyNotFoundException($"No sink named '{name}'.");
        return PutAsync(name, current.Config, target, cancellationToken);
    }

    /// <summary>Deletes a connector on every worker.</summary>
    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        _ = Get(name) ?? throw new KeyNotFoundException($"No sink named '{name}'.");
        return WriteAsync(name, null, cancellationToken);
    }

    public void Dispose()
    {
        producer?.Dispose();
        stopping?.Dispose();
    }

    private async Task WriteAsync(string name, byte[]? value, CancellationToken cancellationToken)
    {
        var written = await producer!.ProduceAsync(options.ConfigTopic, new Message<string, byte[]?> { Key = KeyPrefix + name, Value = value }, cancellationToken).ConfigureAwait(false);
        await AppliedAsync(written.Partition.Value, written.Offset.Value + 1).WaitAsync(Timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Completes once the reader applied every record of the partition before <paramref name="next"/>.</summary>
    private Task AppliedAsync(int partition, long next)
    {
        lock (gate)
        {
            if (applied.GetValueOrDefault(partition) >= next || next <= 0)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiters.Add((partition, next, done));
            return done.Task;
        }
    }

    private void Loop(IConsumer<string, byte[]?> consumer, CancellationToken token)
    {
        var lastReconcile = time.GetTimestamp();
        try
        {
            while (!token.IsCancellationRequested)
            {
                if (time.GetElapsedTime(lastReconcile) >= options.StatusInterval)
                {
                    lastReconcile = time.GetTimestamp();
                    Reconcile();
                }

                ConsumeResult<string, byte[]?>? record;
                try
                {
                    record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConfigTopicProblem(logger, options.ConfigTopic, ex.Error.Reason);
                    continue;
                }

                if (record?.Message is null)
                {
                    // Caught up (or the partition's records expired): what was fetched is applied.
                    foreach (var tp in consumer.Assignment)
                    {
                        if (consumer.Position(tp) is { IsSpecial: false } position)
                        {
                            Applied(tp.Partition.Value, position.Value);
                        }
                    }

                    continue;
                }

                try
                {
                    ApplyAsync(record.Message.Key, record.Message.Value).GetAwaiter().GetResult();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A record that cannot take effect here (an invalid config) must not stop the others.
                    Log.ConfigRecordFailed(logger, ex, record.Message.Key, ex.Message);
                }

                Applied(record.Partition.Value, record.Offset.Value + 1);
            }
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }
    }

    private void Applied(int partition, long next)
    {
        lock (gate)
        {
            applied[partition] = Math.Max(next, applied.GetValueOrDefault(partition));
            for (var i = waiters.Count - 1; i >= 0; i--)
            {
                if (waiters[i].Partition == partition && waiters[i].Offset <= next)
                {
                    waiters[i].Done.TrySetResult();
                    waiters.RemoveAt(i);
                }
            }
        }
    }

    private async Task ApplyAsync(string? key, byte[]? value)
    {
        if (key is null || !key.StartsWith(KeyPrefix, StringComparison.Ordinal))
        {
            return; // not a connector record (e.g. a later version's)
        }

        var name = key[KeyPrefix.Length..];
        if (value is null)
        {
            lock (gate)
            {
                desired.Remove(name);
            }

            if (registry.Contains(name))
            {
                await manager.DeleteAsync(name, CancellationToken.None).ConfigureAwait(false);
            }

            return;
        }

        using var document = JsonDocument.Parse(value);
        var config = document.RootElement.GetProperty("config").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
        var target = document.RootElement.TryGetProperty("target_state", out var t) ? t.GetString() ?? Started : Started;
        (IReadOnlyDictionary<string, string> Config, string Target)? previous;
        lock (gate)
        {
            previous = desired.TryGetValue(name, out var p) ? p : null;
            desired[name] = (config, target);
        }

        if (!registry.Contains(name))
        {
            await manager.CreateAsync(name, config, CancellationToken.None).ConfigureAwait(false);
        }
        else if (previous is null || !Same(previous.Value.Config, config))
        {
            await manager.UpdateAsync(name, config, CancellationToken.None).ConfigureAwait(false);
        }

        await ApplyTargetAsync(name, Effective(config, target)).ConfigureAwait(false);
    }

    /// <summary>
    /// The target this worker applies: the connector's, unless <c>tasks.max</c> caps its members and this worker is
    /// not among the first <c>tasks.max</c> live workers (by id) — then its member stays stopped. Every worker sees
    /// the same heartbeats, so the members converge to the first <c>tasks.max</c> workers.
    /// </summary>
    private string Effective(IReadOnlyDictionary<string, string> config, string target)
    {
        if (target == Stopped || !config.TryGetValue("tasks.max", out var text)
            || !int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var max) || max < 1)
        {
            return target;
        }

        var live = statuses.LiveWorkers();
        var rank = 0;
        while (rank < live.Count && live[rank] != options.WorkerId)
        {
            rank++;
        }

        return rank < max ? target : Stopped;
    }

    /// <summary>Re-applies every connector's effective target as workers come and go (tasks.max).</summary>
    private void Reconcile()
    {
        List<(string Name, IReadOnlyDictionary<string, string> Config, string Target)> all;
        lock (gate)
        {
            all = [.. desired.Select(d => (d.Key, d.Value.Config, d.Value.Target))];
        }

        foreach (var (name, config, target) in all.Where(c => c.Config.ContainsKey("tasks.max") && registry.Contains(c.Name)))
        {
            try
            {
                ApplyTargetAsync(name, Effective(config, target)).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.ConfigRecordFailed(logger, ex, KeyPrefix + name, ex.Message);
            }
        }
    }

    private async Task ApplyTargetAsync(string name, string target)
    {
        var managed = registry.Get(name);
        var sink = managed.Sink;
        switch (target)
        {
            case Stopped when sink?.State is not SinkState.Stopped:
                await managed.HaltAsync(CancellationToken.None).ConfigureAwait(false);
                break;
            case Paused or Started when sink?.State is SinkState.Stopped:
                await managed.RestartAsync(CancellationToken.None).ConfigureAwait(false);
                break;
        }

        if (target == Paused)
        {
            managed.Sink?.Pause();
        }
        else if (target == Started)
        {
            managed.Sink?.Resume();
        }
    }

    private static bool Same(IReadOnlyDictionary<string, string> a, Dictionary<string, string> b)
        => a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
