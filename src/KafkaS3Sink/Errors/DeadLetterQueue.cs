using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using KafkaS3Sink.Internal;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Errors;

/// <summary>
/// Produces bad records to the dead-letter topic, as Kafka Connect's <c>DeadLetterQueueReporter</c> does: the
/// original key, value, headers and timestamp, plus the <c>__connect.errors.*</c> context headers when enabled,
/// by an idempotent producer with acks=all. Each record holds its partition's commit point until the topic
/// acknowledges it; a failed produce is a transient fault, retried with backoff (never a reason to drop the
/// record) and reported in status; a permanent one (not authorized, too large) fails the sink. Deliveries are
/// reported on librdkafka's thread and applied on the consumer thread (<see cref="Poll"/>).
/// </summary>
internal sealed class DeadLetterQueue : IDisposable
{
    private const string HeaderPrefix = "__connect.errors.";

    private static readonly string[] SharedPropertyPrefixes =
        ["security.", "sasl.", "ssl.", "socket.", "broker.", "api.version", "reconnect.", "retry.backoff", "metadata.", "topic.metadata.", "client.dns", "enable.ssl", "https."];

    private readonly KafkaS3SinkOptions options;
    private readonly string topic;
    private readonly RetryRunner retry;
    private readonly LogThrottle throttle;
    private readonly SinkMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly IProducer<byte[], byte[]> producer;
    private readonly ConcurrentQueue<(Delivery Delivery, Error? Error)> reports = new();
    private readonly List<Delivery> waiting = [];
    private readonly HashSet<Delivery> failing = [];
    private Task? topicReady;
    private ActiveFault? fault;

    public DeadLetterQueue(KafkaS3SinkOptions options, RetryRunner retry, LogThrottle throttle, SinkMetrics metrics, TimeProvider time, ILogger logger)
    {
        this.options = options;
        topic = options.Errors.DeadLetterTopic!;
        this.retry = retry;
        this.throttle = throttle;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        var config = new ProducerConfig(ClientProperties(options))
        {
            ClientId = options.Name + "-dead-letters",
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,

            // A delivery that cannot complete within 30 s is reported and produced again by the sink's own
            // retry loop (visible in status), instead of waiting out librdkafka's 5 minutes.
            MessageTimeoutMs = 30_000,
        };
        foreach (var (key, value) in options.Errors.DeadLetterProducerProperties)
        {
            config.Set(key, value);
        }

        producer = new ProducerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) => Warn("error " + e.Code, e.ToString()))
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning)
                {
                    Warn(m.Facility, $"{m.Facility}: {m.Message}");
                }
            })
            .Build();
    }

    /// <summary>Records produced and not yet acknowledged (for status and tests).</summary>
    public int Pending { get; private set; }

    /// <summary>The connection and security settings the dead-letter producer and admin client share with the consumer.</summary>
    internal static Dictionary<string, string> ClientProperties(KafkaS3SinkOptions options)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal) { ["bootstrap.servers"] = options.BootstrapServers };
        foreach (var (key, value) in options.KafkaProperties)
        {
            if (SharedPropertyPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)))
            {
                properties[key] = value;
            }
        }

        return properties;
    }

    /// <summary>Makes sure the topic exists (creating it with one partition, as Kafka Connect does), in the background.</summary>
    public void Start(CancellationToken stoppingToken) => topicReady = Task.Run(() => EnsureTopicAsync(stoppingToken), stoppingToken);

    /// <summary>Produces a bad record; its offset holds the partition's commit point until acknowledged.</summary>
    public void Send(PartitionState state, Message<byte[], byte[]> original, KafkaRecord record, RecordErrorStage stage, Type executing, Exception error)
    {
        var headers = new Headers();
        foreach (var header in original.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }

        if (options.Errors.DeadLetterContextHeaders)
        {
            headers.Add(HeaderPrefix + "topic", Utf8(record.Topic));
            headers.Add(HeaderPrefix + "partition", Utf8(record.Partition.ToString(CultureInfo.InvariantCulture)));
            headers.Add(HeaderPrefix + "offset", Utf8(record.Offset.ToString(CultureInfo.InvariantCulture)));
            headers.Add(HeaderPrefix + "connector.name", Utf8(options.Name));
            headers.Add(HeaderPrefix + "task.id", Utf8("0"));
            headers.Add(HeaderPrefix + "stage", Utf8(RecordErrorPolicy.StageName(stage)));
            headers.Add(HeaderPrefix + "class.name", Utf8(executing.FullName ?? executing.Name));
            headers.Add(HeaderPrefix + "exception.class.name", Utf8(error.GetType().FullName ?? error.GetType().Name));
            headers.Add(HeaderPrefix + "exception.message", Utf8(error.Message));
            headers.Add(HeaderPrefix + "exception.stacktrace", Utf8(error.ToString()));
        }

        var message = new Message<byte[], byte[]>
        {
            Key = original.Key,
            Value = original.Value,
            Headers = headers,

            // Kafka Connect keeps the original timestamp; a record without one gets the producer's time.
            Timestamp = original.Timestamp.Type == TimestampType.NotAvailable ? Timestamp.Default : new Timestamp(original.Timestamp.UnixTimestampMs, TimestampType.CreateTime),
        };
        var delivery = new Delivery(state.TopicPartition, record.Offset, state.DeadLetterProduced(record.Offset), message, RecordErrorPolicy.Reason(stage));
        Pending++;
        if (topicReady is { IsCompletedSuccessfully: true })
        {
            Produce(delivery);
        }
        else
        {
            waiting.Add(delivery);
        }
    }

    /// <summary>
    /// On the housekeeping cadence: applies acknowledgements, produces again what failed once its backoff
    /// passed (if its partition is still this member's), and throws a permanent failure.
    /// </summary>
    public void Poll(IReadOnlyDictionary<TopicPartition, PartitionState> partitions)
    {
        if (topicReady is { IsFaulted: true } failed)
        {
            throw failed.Exception!.GetBaseException();
        }

        var now = time.GetTimestamp();
        while (reports.TryDequeue(out var report))
        {
            var delivery = report.Delivery;
            if (report.Error is null)
            {
                delivery.Pending.Remove(delivery.Offset);
                failing.Remove(delivery);
                Pending--;
                metrics.RecordDeadLettered(delivery.Reason);
                continue;
            }

            if (IsPermanent(report.Error))
            {
                throw new KafkaS3SinkException(
                    $"Producing record {delivery.Partition.Topic}[{delivery.Partition.Partition.Value}]@{delivery.Offset} to the dead-letter topic '{topic}' failed for good ({report.Error.Code}: {report.Error.Reason}); "
                    + "check the producer's ACLs (Write on the topic) and the topic's max.message.bytes, or set Errors.DeadLetterTopic (errors.deadletterqueue.topic.name) to another topic. Nothing past the record was committed.");
            }

            delivery.Attempts++;
            failing.Add(delivery);
            delivery.DueAt = now + (long)(retry.Backoff(delivery.Attempts).TotalSeconds * time.TimestampFrequency);
            waiting.Add(delivery);
            var text = $"{report.Error.Code}: {report.Error.Reason}";
            if (fault is null)
            {
                fault = retry.Faults.Begin($"dead-letter produce to '{topic}'", null, time.GetUtcNow(), text);
            }
            else
            {
                fault.Failed(text);
            }

            Warn("delivery " + report.Error.Code, $"producing to the dead-letter topic '{topic}' failed ({text}); retrying (records stay uncommitted)");
        }

        if (topicReady is not { IsCompletedSuccessfully: true } || waiting.Count == 0)
        {
            EndFaultIfClear();
            return;
        }

        for (var i = waiting.Count - 1; i >= 0; i--)
        {
            var delivery = waiting[i];
            if (delivery.DueAt > now)
            {
                continue;
            }

            waiting.RemoveAt(i);
            if (!partitions.TryGetValue(delivery.Partition, out var state) || !ReferenceEquals(state.DeadLettersPending, delivery.Pending))
            {
                // The partition left this member (or was assigned again): its next owner replays the record.
                failing.Remove(delivery);
                Pending--;
                continue;
            }

            Produce(delivery);
        }

        EndFaultIfClear();
    }

    /// <summary>Before a commit on revoke or stop: waits (bounded) for what is in flight, then applies the acknowledgements.</summary>
    public void Settle(IReadOnlyDictionary<TopicPartition, PartitionState> partitions, TimeSpan timeout)
    {
        if (Pending > 0)
        {
            producer.Flush(timeout);
        }

        Poll(partitions);
    }

    public void Dispose()
    {
        producer.Flush(TimeSpan.FromSeconds(5));
        producer.Dispose();
        fault?.Dispose();
    }

    private static bool IsPermanent(Error error) => error.IsFatal || error.Code is ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed
        or ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRecord or ErrorCode.TopicException;

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private void Produce(Delivery delivery)
    {
        try
        {
            producer.Produce(topic, delivery.Message, report => reports.Enqueue((delivery, report.Error.IsError ? report.Error : null)));
        }
        catch (ProduceException<byte[], byte[]> ex)
        {
            reports.Enqueue((delivery, ex.Error));
        }
        catch (KafkaException ex)
        {
            reports.Enqueue((delivery, ex.Error));
        }
    }

    private void EndFaultIfClear()
    {
        // The fault lasts until every delivery that failed has been acknowledged (or left with its partition).
        if (fault is not null && failing.Count == 0)
        {
            fault.Dispose();
            fault = null;
            Log.DeadLettersRecovered(logger, topic);
        }
    }

    private async Task EnsureTopicAsync(CancellationToken token)
    {
        using var admin = new AdminClientBuilder(ClientProperties(options)).Build();
        var attempt = 0;
        while (true)
        {
            try
            {
                var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
                if (metadata.Topics.Find(t => t.Topic == topic) is { Error.IsError: false, Partitions.Count: > 0 })
                {
                    return;
                }

                await admin.CreateTopicsAsync(
                    [new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = options.Errors.DeadLetterTopicReplicationFactor }],
                    new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(30), OperationTimeout = TimeSpan.FromSeconds(30) }).ConfigureAwait(false);
                Log.DeadLetterTopicCreated(logger, topic, options.Errors.DeadLetterTopicReplicationFactor);
                return;
            }
            catch (CreateTopicsException ex) when (ex.Results is [{ Error.Code: ErrorCode.TopicAlreadyExists }])
            {
                return;
            }
            catch (CreateTopicsException ex) when (ex.Results is [{ Error.Code: ErrorCode.InvalidReplicationFactor or ErrorCode.PolicyViolation or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.InvalidConfig }])
            {
                var error = ex.Results[0].Error;
                throw new KafkaS3SinkException(
                    $"The dead-letter topic '{topic}' does not exist and could not be created ({error.Code}: {error.Reason}): create it, or correct Errors.DeadLetterTopicReplicationFactor (errors.deadletterqueue.topic.replication.factor) or the client's ACLs (Create on the cluster).");
            }
            catch (KafkaException ex)
            {
                // Kafka unreachable, a timeout: retried; the records wait (uncommitted) meanwhile.
                attempt++;
                Warn("topic " + ex.Error.Code, $"checking the dead-letter topic '{topic}' failed ({ex.Error.Code}: {ex.Message}); retrying");
                await Task.Delay(retry.Backoff(attempt), time, token).ConfigureAwait(false);
            }
        }
    }

    private void Warn(string kind, string text)
    {
        if (throttle.ShouldLog("dead letters " + kind, out var suppressed))
        {
            Log.DeadLetterProblem(logger, text, suppressed);
        }
    }

    /// <summary>One bad record on its way to the dead-letter topic.</summary>
    private sealed class Delivery(TopicPartition partition, long offset, SortedSet<long> pending, Message<byte[], byte[]> message, string reason)
    {
        public TopicPartition Partition { get; } = partition;

        public long Offset { get; } = offset;

        /// <summary>The pending set of the partition state it holds back (shared across a reset, new on reassignment).</summary>
        public SortedSet<long> Pending { get; } = pending;

        public Message<byte[], byte[]> Message { get; } = message;

        public string Reason { get; } = reason;

        public int Attempts { get; set; } = 1;

        public long DueAt { get; set; }
    }
}
