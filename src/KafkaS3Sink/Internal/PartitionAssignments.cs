using Amazon.S3;
using Confluent.Kafka;
using KafkaS3Sink.Errors;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// The partitions a sink holds and how they come and go: set-up on assignment (lease, clean-up), the
/// rebalance callbacks (revoke: finish and commit; lost: give up), fencing by a newer owner, a reset to the
/// last commit when staged data cannot be read, and the graceful and failed ends. Consumer thread only.
/// </summary>
internal sealed class PartitionAssignments(
    string sinkName,
    ISegmentBuffer buffer,
    S3ObjectUploader uploader,
    OwnershipFence fence,
    RotationWriter writer,
    UploadScheduler uploads,
    CommitTracker commits,
    Backpressure backpressure,
    DeadLetterQueue? deadLetters,
    TimeSpan drainTimeout,
    SinkMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>
    /// How long leaving the group may take. A healthy close takes milliseconds (everything was committed before);
    /// librdkafka has been seen to hang in close while a cooperative rebalance was in progress, and a sink must
    /// stop in bounded time (a host's shutdown, a restart from the management API).
    /// </summary>
    internal static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The assigned partitions' state. Changed only here (every change forgets <see cref="last"/>); others read it.
    /// </summary>
    public Dictionary<TopicPartition, PartitionState> Partitions { get; } = [];

    /// <summary>The state <see cref="StateOf"/> returned last; forgotten whenever a state is dropped, replaced or fenced.</summary>
    private PartitionState? last;

    /// <summary>Assigned partitions a newer owner fenced: their records are dropped until the next assignment.</summary>
    public HashSet<TopicPartition> Fenced { get; } = [];

    /// <summary>The consumer, for the commits made from the callbacks.</summary>
    public IConsumer<byte[], byte[]>? Consumer { get; set; }

    /// <summary>
    /// Whether closing the consumer did not finish within <see cref="CloseTimeout"/>, or a background commit was
    /// still running when it was to be closed (<see cref="CommitTracker.PendingTimeout"/>): the consumer is left to
    /// itself (not disposed, which would race the close or the commit) and its late callbacks do nothing.
    /// </summary>
    public bool Abandoned => Volatile.Read(ref abandoned);

    private bool abandoned;

    /// <summary>
    /// The state of a consumed record's partition, created when its first record arrives; null while it is fenced.
    /// Records come in runs per partition (a fetch response holds one partition's batch), so the previous record's
    /// state is checked first: no <see cref="TopicPartition"/> is allocated and nothing is hashed for most records.
    /// </summary>
    public PartitionState? StateOf(string topic, int partition)
    {
        if (last is { } previous && previous.TopicPartition.Partition.Value == partition && string.Equals(previous.TopicPartition.Topic, topic, StringComparison.Ordinal))
        {
            return previous;
        }

        var tp = new TopicPartition(topic, partition);
        if (Fenced.Contains(tp))
        {
            // A newer owner writes this partition; its records are neither staged nor committed here.
            return null;
        }

        if (!Partitions.TryGetValue(tp, out var state))
        {
            state = NewPartitionState(tp);
            Partitions[tp] = state;
        }

        return last = state;
    }

    /// <summary>
    /// A new partition state whose set-up runs in the background: with fencing, take the lease (a
    /// compare-and-swap, retried while S3 fails); then abort incomplete uploads an earlier owner left.
    /// </summary>
    public PartitionState NewPartitionState(TopicPartition tp)
    {
        var setup = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var state = new PartitionState(tp, setup.Task, time.GetTimestamp());
        _ = Task.Run(async () =>
        {
            try
            {
                var epoch = fence.Enabled ? await fence.AcquireAsync(tp.Topic, tp.Partition.Value, state.Token).ConfigureAwait(false) : 0;
                try
                {
                    await uploader.AbortStaleUploadsAsync(tp.Topic, tp.Partition.Value, state.Token).ConfigureAwait(false);
                }
                catch (AmazonS3Exception ex)
                {
                    Log.AbortFailed(logger, ex, state.Name);
                }

                setup.TrySetResult(epoch);
            }
            catch (Exception ex)
            {
                setup.TrySetException(ex);
            }
        });
        return state;
    }

    /// <summary>
    /// A newer owner took the partition (its lease, or an object this sink was about to overwrite): stop
    /// writing it, drop what is staged, commit nothing more. It is cleared when the partition is assigned again.
    /// </summary>
    public void Fence(PartitionState state, OwnershipLostException reason)
    {
        Log.Fenced(logger, reason.Message);
        metrics.Fenced();
        writer.DiscardOpen(state);
        uploads.Abandon([state]);
        backpressure.Forget(state.TopicPartition);
        Partitions.Remove(state.TopicPartition);
        Fenced.Add(state.TopicPartition);
        last = null;
    }

    /// <summary>
    /// The partition's staged data cannot be trusted (a damaged segment, a failing disk): give up what is not
    /// committed and re-read the partition from its last commit point, as after a crash (same keys).
    /// </summary>
    public void Reset(PartitionState state, Exception reason)
    {
        var replay = state.ReplayOffset;
        Log.PartitionReset(logger, reason, state.Name, reason.Message, replay);
        writer.DiscardOpen(state);
        uploads.Abandon([state]);
        var fresh = new PartitionState(state.TopicPartition, Task.FromResult(state.Epoch), time.GetTimestamp())
        {
            CommittedOffset = state.CommittedOffset,
            CommittableOffset = state.CommittableOffset,
            StartOffset = replay,
        };
        fresh.MarkReady(state.Epoch);
        fresh.InheritDeadLetters(state);
        Partitions[state.TopicPartition] = fresh;
        last = null;
        if (replay >= 0)
        {
            backpressure.Rewind(state.TopicPartition, replay);
        }
    }

    public void OnAssigned(List<TopicPartition> assigned)
    {
        if (Abandoned)
        {
            return;
        }

        Log.Assigned(logger, sinkName, Describe(assigned));
        last = null;
        foreach (var tp in assigned)
        {
            // Consumption restarts at the committed offset, a rotation boundary: anything staged is stale.
            Fenced.Remove(tp);
            buffer.DiscardPartition(tp.Topic, tp.Partition.Value);
            Partitions[tp] = NewPartitionState(tp);
        }
    }

    public void OnRevoked(List<TopicPartitionOffset> revoked)
    {
        if (Abandoned)
        {
            return;
        }

        Log.Revoked(logger, sinkName, Describe(revoked.Select(r => r.TopicPartition)));

        // A commit in flight in the background finishes first (bounded: one that waits for an unreachable
        // coordinator may land after the callback; it only holds offsets S3 acknowledged).
        commits.WaitPending(CommitTracker.PendingTimeout, "revoke", Partitions);
        last = null;
        var states = new List<PartitionState>();
        foreach (var tpo in revoked)
        {
            backpressure.Forget(tpo.TopicPartition);
            Fenced.Remove(tpo.TopicPartition);
            if (Partitions.Remove(tpo.TopicPartition, out var state))
            {
                states.Add(state);
            }
        }

        // Stop appending, finish (or cancel) in-flight uploads before the callback returns, then commit what
        // S3 acknowledged; the rest is discarded and the new owner replays it.
        FinishAndCommit(states);
    }

    public void OnLost(List<TopicPartitionOffset> lost)
    {
        if (Abandoned)
        {
            return;
        }

        Log.Lost(logger, sinkName, Describe(lost.Select(l => l.TopicPartition)));
        commits.WaitPending(CommitTracker.PendingTimeout, "partitions lost");
        last = null;
        var states = new List<PartitionState>();
        foreach (var tpo in lost)
        {
            backpressure.Forget(tpo.TopicPartition);
            Fenced.Remove(tpo.TopicPartition);
            if (Partitions.Remove(tpo.TopicPartition, out var state))
            {
                states.Add(state);
            }
        }

        // Another member may own the Partitions already: commit nothing, stop uploading.
        foreach (var state in states)
        {
            writer.DiscardOpen(state);
        }

        uploads.Abandon(states);
    }

    /// <summary>
    /// Graceful stop: open segments are discarded (replayed later, same keys); uploads in flight get the drain
    /// timeout (one deadline for all Partitions); what S3 acknowledged is committed; then the member leaves.
    /// </summary>
    public void StopGracefully(IConsumer<byte[], byte[]> c)
    {
        Log.Stopping(logger, sinkName, Partitions.Count, Partitions.Values.Sum(s => s.InFlight.Count(u => u.Task is { IsCompleted: false })), drainTimeout);
        FinishAndCommit([.. Partitions.Values]);
        Partitions.Clear();
        last = null;

        // The consumer must not be closed (and then disposed) under a commit still running on another thread.
        if (!commits.WaitPending(CommitTracker.PendingTimeout, "stop"))
        {
            Volatile.Write(ref abandoned, true);
            return;
        }

        Close(c);
    }

    private void FinishAndCommit(List<PartitionState> states)
    {
        foreach (var state in states)
        {
            writer.DiscardOpen(state);
        }

        uploads.Drain(states);

        // Dead-lettered records hold the commit point until acknowledged: give those in flight a moment.
        if (deadLetters is not null)
        {
            var owned = new Dictionary<TopicPartition, PartitionState>(Partitions);
            foreach (var state in states)
            {
                owned[state.TopicPartition] = state;
            }

            deadLetters.Settle(owned, drainTimeout < TimeSpan.FromSeconds(5) ? drainTimeout : TimeSpan.FromSeconds(5));
        }

        var offsets = new List<TopicPartitionOffset>();
        foreach (var state in states)
        {
            while (state.InFlight.TryPeek(out var upload) && upload.Task is { IsCompletedSuccessfully: true })
            {
                uploads.Dequeue(state).DeleteSegments();
                state.CommittableOffset = upload.CommitOffset;
            }

            uploads.DropUncommitted(state);
            state.Cancel();
            state.CommitSkippedTail();
            if (state.CommitPoint > state.CommittedOffset)
            {
                offsets.Add(new TopicPartitionOffset(state.TopicPartition, state.CommitPoint));
            }
        }

        if (offsets.Count > 0)
        {
            commits.Commit(Consumer!, offsets);
        }
    }

    /// <summary>After a failure: cancel every upload and set-up and leave the group, so the Partitions move at once.</summary>
    public void LeaveAfterFailure(IConsumer<byte[], byte[]> c)
    {
        foreach (var state in Partitions.Values)
        {
            state.Cancel();
        }

        Partitions.Clear();
        last = null;
        try
        {
            // A background commit must not run into the close; one that hangs is left behind like a hung close.
            if (!commits.WaitPending(CommitTracker.PendingTimeout, "leaving after a failure"))
            {
                Volatile.Write(ref abandoned, true);
                return;
            }

            Close(c);
        }
        catch (Exception ex) when (ex is KafkaException or InvalidOperationException or ObjectDisposedException)
        {
            Log.CloseFailed(logger, ex, sinkName);
        }
    }

    /// <summary>
    /// Leaves the group (librdkafka's close, which serves the last rebalance callbacks), bounded by
    /// <see cref="CloseTimeout"/>. The close runs on a helper thread while this one waits, so the callbacks still
    /// never run concurrently with the consumer thread; past the timeout the consumer is abandoned (see
    /// <see cref="Abandoned"/>). Throws what the close threw.
    /// </summary>
    private void Close(IConsumer<byte[], byte[]> c)
    {
        if (!Bounded(c.Close, CloseTimeout))
        {
            Volatile.Write(ref abandoned, true);
            Log.CloseTimedOut(logger, sinkName, CloseTimeout);
        }
    }

    /// <summary>
    /// Runs <paramref name="close"/> on a helper thread and waits for it up to <paramref name="timeout"/>: true
    /// when it finished, false when it is still running; what it threw is rethrown.
    /// </summary>
    internal static bool Bounded(Action close, TimeSpan timeout)
    {
        var closing = Task.Factory.StartNew(close, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return closing.Wait(timeout);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }
    }

    public static string Describe(IEnumerable<TopicPartition> partitions)
    {
        var text = string.Join(", ", partitions.GroupBy(tp => tp.Topic).Select(g => $"{g.Key}[{string.Join(",", g.Select(tp => tp.Partition.Value).Order())}]"));
        return text.Length == 0 ? "none" : text;
    }
}
