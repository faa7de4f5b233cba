using Confluent.Kafka;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Moves each partition's commit point over the prefix of its rotations that S3 acknowledged, and commits
/// those points to Kafka — from the consumer thread only, so no commit races a rebalance. A commit that
/// fails (rebalance in progress, coordinator moving or unreachable) is retried with backoff; the offsets
/// stay committable meanwhile.
/// </summary>
internal sealed class CommitTracker(string sinkName, UploadScheduler uploads, SinkMetrics metrics, RetryRunner retry, LogThrottle throttle, TimeProvider time, ILogger logger)
{
    private long nextAttempt;
    private int failures;

    /// <summary>
    /// Pops every partition's acknowledged rotations in order. A rotation whose upload was refused by a newer
    /// owner, or whose staged data could not be read, is reported in <paramref name="problems"/> (the caller
    /// fences or resets the partition); any other failed upload is permanent and fails the sink.
    /// </summary>
    public void Collect(IEnumerable<PartitionState> states, List<(PartitionState State, Exception Reason)> problems)
    {
        foreach (var state in states)
        {
            var popped = false;
            while (state.InFlight.TryPeek(out var upload) && upload.Task is { IsCompleted: true } task)
            {
                if (!task.IsCompletedSuccessfully)
                {
                    var errors = task.Exception?.InnerExceptions ?? [];
                    if (errors.OfType<OwnershipLostException>().FirstOrDefault() is { } lost)
                    {
                        problems.Add((state, lost));
                        break;
                    }

                    if (errors.OfType<StagedDataException>().FirstOrDefault() is { } damaged)
                    {
                        problems.Add((state, damaged));
                        break;
                    }

                    if (task.IsCanceled || errors.All(e => e is OperationCanceledException))
                    {
                        // Cancelled with its partition (revoke, loss, reset): the partition is on its way out.
                        break;
                    }

                    var cause = errors.FirstOrDefault(e => e is not OperationCanceledException) ?? task.Exception?.GetBaseException();
                    throw new KafkaS3SinkException(
                        $"Uploading the rotation of {state.Name} ending before offset {upload.CommitOffset} failed: {cause?.Message} Nothing past the last committed offset was committed; the records are replayed from Kafka on restart.",
                        cause);
                }

                uploads.Dequeue(state).DeleteSegmentsInBackground();
                state.CommittableOffset = upload.CommitOffset;
                if (!upload.Deterministic)
                {
                    state.UncommittedCutAt = upload.CommitOffset;
                }

                state.LastProgress = time.GetTimestamp();
                popped = true;
            }

            if (popped)
            {
                uploads.Start(state);
            }

            state.CommitSkippedTail();
        }
    }

    /// <summary>Commits every committable offset, unless a failed commit's backoff has not passed.</summary>
    public void CommitDue(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState> states)
    {
        if (time.GetTimestamp() < nextAttempt)
        {
            return;
        }

        List<TopicPartitionOffset>? offsets = null;
        foreach (var state in states)
        {
            if (state.CommitPoint > state.CommittedOffset)
            {
                (offsets ??= []).Add(new TopicPartitionOffset(state.TopicPartition, state.CommitPoint));
            }
        }

        if (offsets is not null && Commit(consumer, offsets))
        {
            var now = time.GetTimestamp();
            foreach (var state in states)
            {
                if (state.CommitPoint > state.CommittedOffset)
                {
                    state.CommittedOffset = state.CommitPoint;
                    state.LastProgress = now;

                    // A rotation held behind a replay-unsafe one that is now committed may start.
                    uploads.Start(state);
                }
            }
        }
    }

    /// <summary>Commits offsets once (e.g. in the revoke callback); a failure is logged and left to the next owner's replay.</summary>
    public bool Commit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        try
        {
            consumer.Commit(offsets);
            metrics.Committed();
            Log.Committed(logger, string.Join(", ", offsets.Select(o => $"{o.Topic}[{o.Partition.Value}]@{o.Offset.Value}")));
            failures = 0;
            nextAttempt = 0;
            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // E.g. RebalanceInProgress or the coordinator unreachable: the offsets stay committable and are retried
            // after a backoff; a partition revoked meanwhile is committed (or given up) by the revoke handler. The
            // objects are in S3 under deterministic keys, so a replay overwrites them identically.
            failures++;
            var delay = retry.Backoff(failures);
            nextAttempt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
            if (throttle.ShouldLog("commit " + ex.Error.Code, out var suppressed))
            {
                Log.CommitFailed(logger, sinkName, ex.Error.ToString(), delay, suppressed);
            }

            return false;
        }
    }
}
