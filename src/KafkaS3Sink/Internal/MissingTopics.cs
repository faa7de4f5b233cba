using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Subscribed topics the cluster does not have (a misspelt <c>Topics</c>, or a topic not created yet). The Kafka
/// client says so in an error (<c>Subscribed topic not available: t: Broker: Unknown topic or partition</c>) and
/// then consumes nothing from it, which looked like a healthy, idle sink. From that error on, the topic is listed
/// in the status (<see cref="SinkControl.MissingTopics"/>, health Degraded) until a partition of it is assigned or
/// the cluster's metadata has it (asked every 30 s, off the consumer thread).
/// </summary>
internal sealed class MissingTopics(string sinkName, SinkControl control, TimeProvider time, ILogger logger)
{
    private const string ClientPrefix = "Subscribed topic not available: ";
    private static readonly TimeSpan RecheckEvery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, bool> missing = new(StringComparer.Ordinal);
    private long nextCheck = long.MinValue;
    private Task check = Task.CompletedTask;

    /// <summary>Takes the client's errors: true when it said a subscribed topic does not exist.</summary>
    public bool OnError(Error error)
    {
        if (error.Code != ErrorCode.UnknownTopicOrPart || !error.Reason.StartsWith(ClientPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = error.Reason.AsSpan(ClientPrefix.Length);
        var end = rest.IndexOf(": ", StringComparison.Ordinal);
        var topic = (end < 0 ? rest : rest[..end]).ToString();
        if (missing.TryAdd(topic, true))
        {
            Log.TopicMissing(logger, sinkName, topic);
            Publish();
        }

        return true;
    }

    /// <summary>A topic with an assigned partition exists.</summary>
    public void OnAssigned(IEnumerable<TopicPartition> assigned)
    {
        if (missing.IsEmpty)
        {
            return;
        }

        foreach (var topic in assigned.Select(tp => tp.Topic).Distinct(StringComparer.Ordinal))
        {
            Found(topic);
        }
    }

    /// <summary>On the housekeeping cadence: every 30 s while topics are missing, asks the cluster whether they exist now.</summary>
    public void Tick(IConsumer<byte[], byte[]> consumer)
    {
        var now = time.GetTimestamp();
        if (missing.IsEmpty || now < nextCheck || !check.IsCompleted)
        {
            return;
        }

        nextCheck = now + (long)(RecheckEvery.TotalSeconds * time.TimestampFrequency);
        var topics = missing.Keys.ToArray();
        var handle = consumer.Handle;
        check = Task.Run(() =>
        {
            try
            {
                using var admin = new DependentAdminClientBuilder(handle).Build();
                foreach (var topic in topics)
                {
                    var metadata = admin.GetMetadata(topic, MetadataTimeout);
                    if (metadata.Topics.Any(t => t.Topic == topic && t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0))
                    {
                        Found(topic);
                    }
                }
            }
            catch (KafkaException)
            {
                // No answer (brokers unreachable, shown on their own): asked again in 30 s.
            }
        });
    }

    /// <summary>Waits for a metadata request in flight (bounded by its timeout), before the consumer's handle is closed.</summary>
    public void WaitForCheck() => ((IAsyncResult)check).AsyncWaitHandle.WaitOne(MetadataTimeout * 2);

    private void Found(string topic)
    {
        if (missing.TryRemove(topic, out _))
        {
            Log.TopicFound(logger, sinkName, topic);
            Publish();
        }
    }

    private void Publish() => control.MissingTopics = [.. missing.Keys.Order(StringComparer.Ordinal)];
}
