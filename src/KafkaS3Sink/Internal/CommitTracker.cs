using Confluent.Kafka;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Moves each partition's commit point over the prefix of its rotations that S3 acknowledged, and commits
/// those points to Kafka. A commit that
/// fails (rebalance in progress, coordinator moving or unreachable) is retried with backoff; the offsets
/// stay committable meanwhile.
/// </summary>
/// <remarks>
/// Commits run in the background, one at a time (a commit is a synchronous round trip to the group
/// coordinator: committing on the consumer thread held it for up to 40 % of its time while a burst of rotations
/// was acknowledged). librdkafka's commit is thread-safe; the rebalance callbacks and the close wait for a commit
/// in flight first, so commits stay ordered and none runs after the consumer is closed.
/// </remarks>
internal sealed class CommitTracker(string sinkName, UploadScheduler uploads, SinkMetrics metrics, RetryRunner retry, LogThrottle throttle, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// A new commit starts at most this often while uploads are running (each is a request to the group
    /// coordinator); when no upload is running, the last acknowledged rotation is committed at once.
    /// </summary>
    internal static readonly TimeSpan CommitInterval = TimeSpan.FromMilliseconds(200);

    private long nextCommit;
    private long nextAttempt;
    /// <summary>The background commit in flight: its task, the partitions and points it commits, and the same as offsets.</summary>
    private (Task Task, List<(PartitionState State, long Offset)> Batch, List<TopicPartitionOffset> Offsets)? pending;
    private int failures;

    /// <summary>
    /// Set when a partition the watchdog reported as stalled moves again (an upload acknowledged, a commit taken);
    /// the caller publishes the status at once and clears it, so health recovers with the partition, not on the
    /// next status tick (the commit may be visible in Kafka before that tick).
    /// </summary>
    public bool StalledPartitionMoved { get; set; }

    /// <summary>Whether a background commit is in flight (its answer not yet taken).</summary>
    public bool Busy => pending is not null;

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
                StalledPartitionMoved |= state.Stalled;
                popped = true;
            }

            if (popped)
            {
                uploads.Start(state);
            }

            state.CommitSkippedTail();
        }
    }

    /// <summary>
    /// Commits every committable offset in the background: at most every <see cref="CommitInterval"/> while uploads
    /// are running, at once when none is, one commit at a time, and not before a failed commit's backoff has passed.
    /// The consumer thread only starts the commit and, on a later tick, observes its result (offsets recorded as
    /// committed, rotations held behind a replay-unsafe one released); it does not wait for the round trip.
    /// </summary>
    /// <exception cref="KafkaException">The last background commit failed fatally.</exception>
    public void CommitDue(IConsumer<byte[], byte[]> consumer, IReadOnlyDictionary<TopicPartition, PartitionState> partitions)
    {
        if (!Observe(partitions, throwFatal: true))
        {
            return;
        }

        var start = time.GetTimestamp();
        if (start < nextAttempt || (start < nextCommit && uploads.InFlightSegments > 0))
        {
            return;
        }

        List<(PartitionState State, long Offset)>? batch = null;
        foreach (var state in partitions.Values)
        {
            if (state.CommitPoint > state.CommittedOffset)
            {
                (batch ??= []).Add((state, state.CommitPoint));
            }
        }

        if (batch is null)
        {
            return;
        }

        nextCommit = start + (long)(CommitInterval.TotalSeconds * time.TimestampFrequency);
        var offsets = batch.ConvertAll(b => new TopicPartitionOffset(b.State.TopicPartition, b.Offset));
        pending = (Task.Run(() => consumer.Commit(offsets)), batch, offsets);
    }

    /// <summary>
    /// Waits for a background commit in flight (before a rebalance callback commits, before the consumer closes),
    /// at most <paramref name="timeout"/>: true when none is running any more, false (and a warning naming
    /// <paramref name="when"/>) when it still runs. A failure is logged, never thrown.
    /// </summary>
    public bool WaitPending(TimeSpan timeout, string when, IReadOnlyDictionary<TopicPartition, PartitionState>? partitions = null)
    {
        if (pending is null)
        {
            return true;
        }

        try
        {
            if (!pending.Value.Task.Wait(timeout))
            {
                Log.CommitTimedOut(logger, sinkName, timeout, when);
                return false;
            }
        }
        catch (AggregateException)
        {
            // Observed below.
        }

        Observe(partitions, throwFatal: false);
        return true;
    }

    /// <summary>
    /// How long a rebalance callback, a stop or a close waits for a commit in flight. A commit waits for the group
    /// coordinator, so with the coordinator unreachable it can take as long as the outage: the sink must not wedge
    /// on it (it did not with the synchronous commits either only because those wedged the poll loop instead).
    /// </summary>
    internal static readonly TimeSpan PendingTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Commits offsets now and waits (rebalance callbacks, stop); a failure is logged and left to the next owner's
    /// replay. Not tried when a background commit is still running after <see cref="PendingTimeout"/> (commits stay
    /// in order); false then.
    /// </summary>
    public bool Commit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        // One commit at a time, in order: a background commit still in flight finishes first.
        if (!WaitPending(PendingTimeout, "before a final commit"))
        {
            return false;
        }

        try
        {
            consumer.Commit(offsets);
            Succeeded(offsets);
            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            Failed(ex);
            return false;
        }
    }

    /// <summary>Takes the result of a finished background commit; false while it is still running.</summary>
    private bool Observe(IReadOnlyDictionary<TopicPartition, PartitionState>? partitions, bool throwFatal)
    {
        if (pending is null)
        {
            return true;
        }

        var (task, batch, offsets) = pending.Value;
        if (!task.IsCompleted)
        {
            return false;
        }

        pending = null;
        if (task.IsCompletedSuccessfully)
        {
            Succeeded(offsets);
            var now = time.GetTimestamp();
            foreach (var (state, offset) in batch)
            {
                // Only partitions still owned as they were when the commit started (not revoked, reset or fenced since).
                if (partitions is not null && partitions.TryGetValue(state.TopicPartition, out var current) && ReferenceEquals(current, state)
                    && offset > state.CommittedOffset)
                {
                    state.CommittedOffset = offset;
                    state.LastProgress = now;
                    StalledPartitionMoved |= state.Stalled;

                    // A rotation held behind a replay-unsafe one that is now committed may start.
                    uploads.Start(state);
                }
            }

            return true;
        }

        var error = task.Exception!.GetBaseException();
        if (error is KafkaException { Error.IsFatal: false } retriable)
        {
            Failed(retriable);
        }
        else if (throwFatal)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        }
        else
        {
            Log.CommitFailed(logger, sinkName, error.Message, TimeSpan.Zero, 0);
        }

        return true;
    }

    private void Succeeded(List<TopicPartitionOffset> offsets)
    {
        metrics.Committed();
        Log.Committed(logger, string.Join(", ", offsets.Select(o => $"{o.Topic}[{o.Partition.Value}]@{o.Offset.Value}")));
        failures = 0;
        nextAttempt = 0;
    }

    /// <summary>
    /// E.g. RebalanceInProgress or the coordinator unreachable: the offsets stay committable and are retried after
    /// a backoff; a partition revoked meanwhile is committed (or given up) by the revoke handler. The objects are in
    /// S3 under deterministic keys, so a replay overwrites them identically.
    /// </summary>
    private void Failed(KafkaException ex)
    {
        failures++;
        var delay = retry.Backoff(failures);
        nextAttempt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        if (throttle.ShouldLog("commit " + ex.Error.Code, out var suppressed))
        {
            Log.CommitFailed(logger, sinkName, ex.Error.ToString(), delay, suppressed);
        }
    }
}
