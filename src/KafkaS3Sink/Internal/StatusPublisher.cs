using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Publishes what status, health and metrics read (<see cref="SinkControl"/>) on the timer cadence: lag,
/// the oldest waiting records, fenced partitions, operations failing in S3, the progress watchdog, and
/// whether the Kafka brokers are reachable (from the client's statistics).
/// </summary>
internal sealed class StatusPublisher(SinkControl control, FaultRegistry faults, RetryOptions retry, TimeProvider time, ILogger logger)
{
    private long? brokersDownSince;

    public void Publish(IConsumer<byte[], byte[]> consumer, IReadOnlyDictionary<TopicPartition, PartitionState> partitions, HashSet<TopicPartition> fenced, bool operatorPaused)
    {
        DateTimeOffset? oldestUncommitted = null;
        DateTimeOffset? oldestRecord = null;
        long lag = 0;
        List<string>? stalled = null;
        var now = time.GetTimestamp();
        foreach (var state in partitions.Values)
        {
            if (state.InFlight.TryPeek(out var upload) && (oldestUncommitted is null || upload.SealedAt < oldestUncommitted))
            {
                oldestUncommitted = upload.SealedAt;
            }

            var firstWaiting = upload is not null ? upload.FirstAppendTime
                : state.RecordCount > 0 ? state.RotationState().FirstAppendTime
                : (DateTimeOffset?)null;
            if (firstWaiting is not null && (oldestRecord is null || firstWaiting < oldestRecord))
            {
                oldestRecord = firstWaiting;
            }

            var partitionLag = Lag(consumer, state);
            lag += partitionLag;
            var idle = time.GetElapsedTime(state.LastProgress, now);

            // Waiting work: records not consumed yet, or sealed rotations not yet in S3 (consumed and staged, so not
            // in the lag). An open rotation alone is not waiting: it is sealed when the rotation policy says so.
            if ((partitionLag > 0 || upload is not null) && idle >= retry.StallTimeout && !operatorPaused)
            {
                var detail = Detail(state);
                var waiting = partitionLag + state.InFlight.Sum(u => u.Segments.Sum(segment => segment.RecordCount));
                (stalled ??= []).Add(string.Create(CultureInfo.InvariantCulture, $"{state.Name}: no upload or commit for {idle:hh\\:mm\\:ss}, {waiting:N0} records waiting ({partitionLag:N0} not consumed); {detail}"));
                if (!state.Stalled)
                {
                    state.Stalled = true;
                    Log.PartitionStalled(logger, state.Name, idle, waiting, detail);
                }
            }
            else
            {
                state.Stalled = false;
            }
        }

        control.OldestUncommitted = oldestUncommitted;
        control.OldestRecordNotInS3 = oldestRecord;
        control.Lag = lag;
        control.StalledPartitions = stalled ?? [];
        control.KafkaUnreachableSince = brokersDownSince is { } down ? time.GetUtcNow() - time.GetElapsedTime(down) : null;
        if (fenced.Count != control.FencedPartitions.Count)
        {
            control.FencedPartitions = [.. fenced.Select(tp => $"{tp.Topic}[{tp.Partition.Value}]").Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The client's statistics (every <c>statistics.interval.ms</c>): are any brokers up?</summary>
    public void OnStatistics(string json)
    {
        bool anyUp;
        string states;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (!doc.RootElement.TryGetProperty("brokers", out var brokers) || brokers.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            anyUp = false;
            var seen = new List<string>();
            foreach (var broker in brokers.EnumerateObject())
            {
                var state = broker.Value.TryGetProperty("state", out var s) ? s.GetString() : null;
                anyUp |= state == "UP";
                seen.Add($"{broker.Name} {state}");
            }

            if (seen.Count == 0)
            {
                return;
            }

            states = string.Join(", ", seen);
        }
        catch (JsonException)
        {
            return;
        }

        if (!anyUp && brokersDownSince is null)
        {
            brokersDownSince = time.GetTimestamp();
            Log.BrokersUnreachable(logger, states);
        }
        else if (anyUp && brokersDownSince is { } since)
        {
            brokersDownSince = null;
            Log.BrokersReachable(logger, time.GetElapsedTime(since));
        }
    }

    private string Detail(PartitionState state)
    {
        if (!state.Ready)
        {
            return "waiting for its lease in S3" + FaultOf(state);
        }

        return state.InFlight.Count > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{state.InFlight.Count} rotation(s) waiting for S3{FaultOf(state)}")
            : "nothing uploading (consumption paused or the fetch stalled)";
    }

    private string FaultOf(PartitionState state)
    {
        foreach (var fault in faults.Snapshot())
        {
            if (fault.Partition == state.Name)
            {
                return $" ({fault.What}: {fault.Error})";
            }
        }

        return string.Empty;
    }

    private static long Lag(IConsumer<byte[], byte[]> consumer, PartitionState state)
    {
        var watermarks = consumer.GetWatermarkOffsets(state.TopicPartition);
        var high = watermarks.High;
        if (high.IsSpecial)
        {
            return 0;
        }

        // Before its first record (just assigned, or its fetch failing) a partition is behind by all it holds.
        var position = state.Position >= 0 ? state.Position
            : state.CommittedOffset >= 0 ? state.CommittedOffset
            : watermarks.Low.IsSpecial ? 0 : watermarks.Low.Value;
        return Math.Max(0, high.Value - position);
    }
}
