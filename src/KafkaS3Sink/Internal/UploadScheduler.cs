using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Starts the uploads of sealed rotations and waits for them on stop and revoke. Uploads run on the thread
/// pool (at most <see cref="S3StorageOptions.MaxConcurrentUploads"/> objects at once, retried by the
/// uploader); this class is used from the consumer thread only.
/// </summary>
internal sealed class UploadScheduler(KafkaS3SinkOptions options, S3ObjectUploader uploader, TimeSpan drainTimeout, ILogger logger)
{
    /// <summary>Segments uploading beyond which consumption pauses until half of them are done.</summary>
    public const int MaxInFlightSegments = 256;

    /// <summary>Segments whose upload has started and whose rotation is not yet committed or dropped.</summary>
    public int InFlightSegments { get; private set; }

    /// <summary>Queues a sealed rotation and starts its upload when it may start.</summary>
    public void Enqueue(PartitionState state, RotationUpload upload)
    {
        state.InFlight.Enqueue(upload);
        Start(state);
    }

    /// <summary>
    /// Starts the uploads that may start: none before the partition's set-up (lease) is done; a rotation's upload waits while an earlier uncommitted rotation of
    /// the topic-partition was cut at a point a replay may not reproduce (cap, quota, clock), until that one is
    /// committed to Kafka (not just acknowledged by S3). With at most one such rotation uploaded and
    /// uncommitted, a replay overwrites every object it wrote (design invariant 6).
    /// </summary>
    public void Start(PartitionState state)
    {
        if (!state.Ready)
        {
            // No upload before the partition's lease is taken and an earlier owner's incomplete uploads are aborted
            // (its set-up); records are staged meanwhile. Started again when the set-up completes.
            return;
        }

        // An acknowledged replay-unsafe rotation counts until Kafka has its offset committed.
        var earlierDeterministic = state.CommittedOffset >= state.UncommittedCutAt;
        foreach (var upload in state.InFlight)
        {
            if (!earlierDeterministic)
            {
                return;
            }

            if (upload.Task is null)
            {
                upload.Task = UploadRotationAsync(state.Epoch, upload, state.Token);
                InFlightSegments += upload.Segments.Count;
            }

            earlierDeterministic = upload.Deterministic;
        }
    }

    /// <summary>Removes the oldest rotation of a partition (its upload finished).</summary>
    public RotationUpload Dequeue(PartitionState state)
    {
        var upload = state.InFlight.Dequeue();
        if (upload.Task is not null)
        {
            InFlightSegments -= upload.Segments.Count;
        }

        return upload;
    }

    /// <summary>Deletes the staged segments of rotations that will not be committed by this member.</summary>
    public void DropUncommitted(PartitionState state)
    {
        while (state.InFlight.Count > 0)
        {
            Dequeue(state).DeleteSegments();
        }
    }

    /// <summary>
    /// Waits for the started uploads of the partitions, all under one deadline (the drain timeout); what is
    /// not done by then is cancelled (and replayed by the next owner).
    /// </summary>
    public void Drain(IReadOnlyCollection<PartitionState> states)
    {
        var pending = states.Select(s => (State: s, Tasks: s.StartedTasks())).Where(p => p.Tasks.Length > 0).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        if (WaitQuietly([.. pending.SelectMany(p => p.Tasks)], drainTimeout))
        {
            return;
        }

        foreach (var (state, tasks) in pending)
        {
            if (!tasks.All(t => t.IsCompleted))
            {
                Log.UploadsAbandoned(logger, state.Name, drainTimeout);
                state.Cancel();
            }
        }

        WaitQuietly([.. pending.SelectMany(p => p.Tasks)], TimeSpan.FromSeconds(5));
    }

    /// <summary>Gives partitions up without committing: uploads cancelled (and awaited, bounded), staged rotations deleted.</summary>
    public void Abandon(IReadOnlyCollection<PartitionState> states)
    {
        foreach (var state in states)
        {
            state.Cancel();
        }

        WaitQuietly([.. states.SelectMany(s => s.StartedTasks())], drainTimeout);
        foreach (var state in states)
        {
            DropUncommitted(state);
        }
    }

    private Task UploadRotationAsync(long epoch, RotationUpload upload, CancellationToken token)
    {
        if (upload.Segments.Count == 0)
        {
            return Task.CompletedTask;
        }

        // One lease check per rotation, shared by its objects (each object then costs one conditional PUT).
        var first = upload.Segments[0].Descriptor;
        var ownership = Task.Run(() => uploader.CheckOwnershipAsync(first.Topic, first.Partition, epoch, token), token);

        // As many workers as objects may upload at once, each taking the next segment: a rotation of 100,000 segments
        // costs a few tasks, not a task, a key and a waiting request per segment until its turn.
        var workers = new Task[Math.Min(upload.Segments.Count, options.S3.MaxConcurrentUploads)];
        var cursor = new RotationCursor();
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => UploadSegmentsAsync(ownership, upload, cursor, epoch, token), token);
        }

        return Task.WhenAll(workers);
    }

    private async Task UploadSegmentsAsync(Task ownership, RotationUpload upload, RotationCursor cursor, long epoch, CancellationToken token)
    {
        await ownership.ConfigureAwait(false);
        int i;
        while (!cursor.Failed && (i = cursor.Next()) < upload.Segments.Count)
        {
            var segment = upload.Segments[i];
            var key = ObjectKeys.For(options.TopicsDir, segment.Descriptor, uploader.Extension, options.FilenameOffsetZeroPadWidth);
            try
            {
                await uploader.UploadAsync(segment, upload.AvroSchemas[i], key, epoch, token).ConfigureAwait(false);
            }
            catch
            {
                // The rotation is replayed as a whole: the other workers take no further segment.
                cursor.Failed = true;
                throw;
            }
        }
    }

    /// <summary>The next segment of a rotation to upload, shared by its workers.</summary>
    private sealed class RotationCursor
    {
        private int next = -1;
        private volatile bool failed;

        /// <summary>Whether an upload of the rotation failed (the rest is not started).</summary>
        public bool Failed
        {
            get => failed;
            set => failed = value;
        }

        public int Next() => Interlocked.Increment(ref next);
    }

    private static bool WaitQuietly(Task[] tasks, TimeSpan timeout)
    {
        try
        {
            return Task.WaitAll(tasks, timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }
}
