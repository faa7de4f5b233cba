using Confluent.Kafka;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// The consume loop of one sink. Everything that touches the consumer (polling, rebalance
/// callbacks, pause/resume/seek, commits) runs on the one thread that calls <see cref="Run"/>;
/// uploads run on the thread pool and are only observed from that thread, so no commit ever races
/// a rebalance.
/// </summary>
internal sealed class SinkRunner
{
    private const int MaxInFlightSegments = 256;
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly ReadOnlyMemory<byte> NullPayload = "null"u8.ToArray();
    private static readonly TimeSpan DiskCheckInterval = TimeSpan.FromMilliseconds(250);

    private readonly KafkaS3SinkOptions options;
    private readonly IRecordConverter converter;
    private readonly IRecordConverter? keyConverter;
    private readonly IS3Partitioner partitioner;
    private readonly IRotationPolicy rotation;
    private readonly ISegmentBuffer buffer;
    private readonly S3ObjectUploader uploader;
    private readonly OwnershipFence fence;
    private readonly SinkMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TimeSpan drainTimeout;
    private readonly Dictionary<TopicPartition, PartitionState> partitions = [];

    /// <summary>Open segments of every topic-partition, most recently written first.</summary>
    private readonly LinkedList<OpenEntry> segmentLru = new();

    /// <summary>While paused: the first offset of each topic-partition that was not appended; consumption resumes there.</summary>
    private readonly Dictionary<TopicPartition, long> rewindTo = [];

    /// <summary>Assigned partitions a newer owner fenced: their records are dropped until the next assignment.</summary>
    private readonly HashSet<TopicPartition> fenced = [];

    private readonly SinkControl control;
    private IConsumer<byte[], byte[]>? consumer;
    private bool operatorPaused;
    private int inFlightSegments;
    private string? lastValidPath;
    private long nextDiskCheck;
    private bool lowDisk;
    private long nextTimerCheck;

    public SinkRunner(
        KafkaS3SinkOptions options,
        IRecordConverter converter,
        IRecordConverter? keyConverter,
        IS3Partitioner partitioner,
        IRotationPolicy rotation,
        ISegmentBuffer buffer,
        S3ObjectUploader uploader,
        OwnershipFence fence,
        SinkMetrics metrics,
        TimeProvider time,
        ILogger logger,
        TimeSpan drainTimeout,
        SinkControl control)
    {
        this.control = control;
        this.options = options;
        this.converter = converter;
        this.keyConverter = keyConverter;
        this.partitioner = partitioner;
        this.rotation = rotation;
        this.buffer = buffer;
        this.uploader = uploader;
        this.fence = fence;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        this.drainTimeout = drainTimeout;
    }

    /// <summary>Whether consumption is paused by backpressure.</summary>
    public bool Paused { get; private set; }

    public void Run(CancellationToken stoppingToken)
    {
        using var c = BuildConsumer();
        consumer = c;
        c.Subscribe(options.Topics);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? result = null;
                try
                {
                    result = c.Consume(PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConsumerError(logger, ex.Error.ToString());
                }

                if (result is { IsPartitionEOF: false, Message: not null })
                {
                    Process(result);
                }

                ApplyOperatorPause();
                CheckTimers();
                CommitCompleted();
                UpdateBackpressure();
                WaitWhileTooManyUploads(stoppingToken);
            }

            // Graceful stop: open segments are discarded (replayed later, same keys); finished
            // uploads are committed; unfinished ones get drainTimeout to finish.
            foreach (var state in partitions.Values)
            {
                DiscardOpen(state);
                DrainUploads(state);
            }

            CommitCompleted();
            foreach (var state in partitions.Values)
            {
                DropUncommitted(state);
            }

            partitions.Clear();
            c.Close();
        }
        finally
        {
            foreach (var state in partitions.Values)
            {
                state.Cancel();
            }

            consumer = null;
        }
    }

    private IConsumer<byte[], byte[]> BuildConsumer()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnablePartitionEof = false,
        };
        foreach (var (key, value) in options.KafkaProperties)
        {
            config.Set(key, value);
        }

        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) => Log.ConsumerError(logger, e.ToString()))
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning)
                {
                    Log.ConsumerError(logger, $"{m.Facility}: {m.Message}");
                }
            })
            .SetPartitionsAssignedHandler((_, assigned) => OnAssigned(assigned))
            .SetPartitionsRevokedHandler((_, revoked) => OnRevoked(revoked))
            .SetPartitionsLostHandler((_, lost) => OnLost(lost))
            .Build();
    }

    private void Process(ConsumeResult<byte[], byte[]> result)
    {
        var tp = result.TopicPartition;
        var offset = result.Offset.Value;
        if (fenced.Contains(tp))
        {
            // A newer owner writes this partition; its records are neither staged nor committed here.
            return;
        }

        if (!partitions.TryGetValue(tp, out var state))
        {
            state = NewPartitionState(tp);
            partitions[tp] = state;
        }

        state.Position = offset + 1;
        if (Paused || operatorPaused)
        {
            // Fetched before the pause took effect: not appended, re-read after resume.
            NotAppended(tp, offset);
            return;
        }

        var message = result.Message;
        var record = new KafkaRecord(
            tp.Topic,
            tp.Partition.Value,
            offset,
            message.Timestamp.Type == TimestampType.NotAvailable
                ? DateTimeOffset.UnixEpoch
                : DateTimeOffset.FromUnixTimeMilliseconds(message.Timestamp.UnixTimestampMs),

            // A null byte[] would convert to an empty ReadOnlyMemory, turning tombstones into empty values.
            message.Key is null ? null : (ReadOnlyMemory<byte>?)message.Key,
            message.Value is null ? null : (ReadOnlyMemory<byte>?)message.Value,
            ToHeaders(message.Headers));

        // Tombstones: behavior.on.null.values. Ignored records count as done: the next rotation commits past them.
        SinkRecord converted;
        if (record.Value is null)
        {
            switch (options.NullValues)
            {
                case NullValueBehavior.Ignore:
                    state.OnSkipped(offset);
                    return;
                case NullValueBehavior.Write:
                    converted = new SinkRecord(record, NullPayload, null);
                    break;
                default:
                    throw new RecordConversionException(record, "the value is null (a tombstone); set NullValues (behavior.on.null.values) to Ignore or Write to accept tombstones.");
            }
        }
        else
        {
            // Bad input stops the sink with a clear error naming the record (the default error policy).
            converted = converter.Convert(record);
        }

        var path = partitioner.GetPartitionPath(converted);
        if (!ReferenceEquals(path, lastValidPath))
        {
            PathValidation.ThrowIfInvalid(path, record);
            lastValidPath = path;
        }

        // Backpressure: a record that would pass the quota is not appended; the partition is re-read from it.
        // What is staged: the raw value (Bytes output), the value in its envelope, or the converted value.
        // Avro values keep their writer schema in Avro and Parquet files (one schema per segment).
        var avro = options.Format is OutputFormat.Avro or OutputFormat.Parquet && !options.WriteEnvelope ? converted.Avro : null;
        var payload = options.Format == OutputFormat.Bytes ? record.Value ?? ReadOnlyMemory<byte>.Empty
            : options.WriteEnvelope ? Formats.RecordEnvelope.Wrap(converted, ConvertKey(record))
            : avro is not null ? avro.Datum
            : converted.Payload;
        if (OverQuota(payload.Length))
        {
            Pause("staged bytes above Staging.MaxStagedBytes or free disk below Staging.MinFreeDiskBytes");
            NotAppended(tp, offset);
            return;
        }

        state.Open.TryGetValue(path, out var entry);
        if (entry is not null && !SameSchema(entry.AvroSchema, avro?.Schema))
        {
            // A file has one schema: a new writer schema starts a new rotation (a function of the records, so
            // a replay cuts at the same offset). Rotating closes every open segment of the partition.
            Rotate(state, deterministic: true);
            entry = null;
        }

        try
        {
            if (entry is null)
            {
                // Open-segment cap: before opening one more, rotate the whole topic-partition holding the
                // least recently written segment (possibly this one; the record then starts its next rotation).
                while (segmentLru.Count >= options.Staging.MaxOpenSegments)
                {
                    Rotate(segmentLru.Last!.Value.Owner, deterministic: false);
                }

                entry = new OpenEntry(state, buffer.Open(new SegmentDescriptor(tp.Topic, tp.Partition.Value, path, offset)), avro?.Schema);
                state.Open[path] = entry;
                segmentLru.AddFirst(entry.Node);
            }
            else if (segmentLru.First != entry.Node)
            {
                segmentLru.Remove(entry.Node);
                segmentLru.AddFirst(entry.Node);
            }

            entry.Segment.Append(offset, payload.Span);
        }
        catch (IOException ex)
        {
            RewindAfterWriteFailure(state, offset, ex);
            return;
        }

        state.OnAppended(record, payload.Length, time.GetUtcNow());
        metrics.RecordConsumed();

        if (rotation.ShouldRotate(state.RotationState()))
        {
            Rotate(state, deterministic: rotation.IsReplayDeterministic);
        }
    }

    /// <summary>The key as the key converter reads it; null without one or for a null key (the envelope's default encoding).</summary>
    private ReadOnlyMemory<byte>? ConvertKey(KafkaRecord record)
    {
        if (keyConverter is null || record.Key is null)
        {
            return null;
        }

        try
        {
            return keyConverter.Convert(new KafkaRecord(record.Topic, record.Partition, record.Offset, record.Timestamp, record.Key, record.Key, record.Headers)).Payload;
        }
        catch (RecordConversionException ex)
        {
            throw new RecordConversionException(record, $"the key cannot be read by the key converter ({ex.Message})", ex);
        }
    }

    private static bool SameSchema(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.Ordinal);

    /// <summary>About every 100 ms: rotations the policy wants without a new record (schedule, idle). Never replay-safe.</summary>
    private void CheckTimers()
    {
        var now = time.GetTimestamp();
        if (now < nextTimerCheck)
        {
            return;
        }

        nextTimerCheck = now + (time.TimestampFrequency / 10);
        PublishStatus();
        var utcNow = time.GetUtcNow();
        foreach (var state in partitions.Values)
        {
            if (state.RecordCount > 0 && rotation.ShouldRotateOnTimer(state.RotationState(), utcNow))
            {
                Rotate(state, deterministic: false);
            }
        }
    }

    private void Rotate(PartitionState state, bool deterministic)
    {
        if (state.Open.Count == 0)
        {
            return;
        }

        if (!deterministic)
        {
            metrics.ForcedRotation();
        }

        var sealedSegments = new List<ISealedSegment>(state.Open.Count);
        var schemas = new List<string?>(state.Open.Count);
        try
        {
            foreach (var entry in state.Open.Values)
            {
                segmentLru.Remove(entry.Node);
                sealedSegments.Add(entry.Segment.Seal());
                schemas.Add(entry.AvroSchema);
            }
        }
        catch (IOException ex)
        {
            foreach (var segment in sealedSegments)
            {
                segment.Delete();
            }

            RewindAfterWriteFailure(state, state.FirstOffset, ex);
            return;
        }

        state.InFlight.Enqueue(new RotationUpload(state.LastOffset + 1, sealedSegments, schemas, deterministic, time.GetUtcNow(), state.RotationState().FirstAppendTime));
        state.ResetOpen();
        StartUploads(state);
    }

    /// <summary>
    /// Starts the uploads that may start: a rotation's upload waits while an earlier uncommitted rotation of
    /// the topic-partition was cut at a point a replay may not reproduce (cap, quota, clock). With at most one
    /// such rotation uploaded and uncommitted, a replay overwrites every object it wrote (design invariant 6).
    /// </summary>
    private void StartUploads(PartitionState state)
    {
        var earlierDeterministic = true;
        foreach (var upload in state.InFlight)
        {
            if (!earlierDeterministic)
            {
                return;
            }

            if (upload.Task is null)
            {
                upload.Task = UploadRotationAsync(state.Epoch, upload, state.Token);
                inFlightSegments += upload.Segments.Count;
            }

            earlierDeterministic = upload.Deterministic;
        }
    }

    /// <summary>Uploads every object of a rotation (with fencing, each write checks the partition is still ours).</summary>
    private Task UploadRotationAsync(long epoch, RotationUpload upload, CancellationToken token)
    {
        var tasks = new Task[upload.Segments.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            var segment = upload.Segments[i];
            var schema = upload.AvroSchemas[i];
            var key = ObjectKeys.For(options.TopicsDir, segment.Descriptor, uploader.Extension, options.FilenameOffsetZeroPadWidth);
            tasks[i] = Task.Run(() => uploader.UploadAsync(segment, schema, key, epoch, token), token);
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>A partition state; with fencing, holding a freshly taken lease.</summary>
    private PartitionState NewPartitionState(TopicPartition tp) =>
        new(tp) { Epoch = fence.Enabled ? fence.AcquireAsync(tp.Topic, tp.Partition.Value, CancellationToken.None).GetAwaiter().GetResult() : 0 };

    /// <summary>
    /// A newer owner took the partition (its lease, or an object this sink was about to overwrite): stop
    /// writing it, drop what is staged, commit nothing more. It is cleared when the partition is assigned again.
    /// </summary>
    private void Fence(PartitionState state, OwnershipLostException reason)
    {
        Log.Fenced(logger, reason.Message);
        metrics.Fenced();
        Abandon(state);
        rewindTo.Remove(state.TopicPartition);
        partitions.Remove(state.TopicPartition);
        fenced.Add(state.TopicPartition);
    }

    /// <summary>Moves each partition's commit point over the prefix of rotations S3 has acknowledged, then commits.</summary>
    private void CommitCompleted()
    {
        List<TopicPartitionOffset>? offsets = null;
        List<(PartitionState, OwnershipLostException)>? lostOwnership = null;
        foreach (var state in partitions.Values)
        {
            var popped = false;
            while (state.InFlight.TryPeek(out var upload) && upload.Task is { IsCompleted: true } task)
            {
                if (task.Exception?.InnerExceptions.OfType<OwnershipLostException>().FirstOrDefault() is { } lostTo)
                {
                    (lostOwnership ??= []).Add((state, lostTo));
                    break;
                }

                state.InFlight.Dequeue();
                inFlightSegments -= upload.Segments.Count;
                if (!task.IsCompletedSuccessfully)
                {
                    throw new KafkaS3SinkException(
                        $"Uploading the rotation of {state.TopicPartition} ending before offset {upload.CommitOffset} failed; nothing past the last committed offset was committed.",
                        task.Exception?.GetBaseException());
                }

                foreach (var segment in upload.Segments)
                {
                    segment.Delete();
                }

                state.CommittableOffset = upload.CommitOffset;
                popped = true;
            }

            if (lostOwnership?.Exists(l => l.Item1 == state) == true)
            {
                continue;
            }

            if (state.CommittableOffset > state.CommittedOffset)
            {
                (offsets ??= []).Add(new TopicPartitionOffset(state.TopicPartition, state.CommittableOffset));
            }

            if (popped)
            {
                StartUploads(state);
            }
        }

        foreach (var (state, reason) in lostOwnership ?? [])
        {
            Fence(state, reason);
        }

        if (offsets is null)
        {
            return;
        }

        if (Commit(offsets))
        {
            foreach (var tpo in offsets)
            {
                if (partitions.TryGetValue(tpo.TopicPartition, out var state))
                {
                    state.CommittedOffset = tpo.Offset.Value;
                }
            }
        }
    }

    private bool Commit(List<TopicPartitionOffset> offsets)
    {
        try
        {
            consumer!.Commit(offsets);
            metrics.Committed();
            Log.Committed(logger, string.Join(", ", offsets));
            return true;
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // E.g. RebalanceInProgress: the offsets stay committable and are retried after the next poll;
            // a partition revoked meanwhile is committed (or given up) by the revoke handler. Objects are
            // in S3 under deterministic keys, so a replay overwrites them identically.
            Log.CommitFailed(logger, ex.Error.ToString());
            return false;
        }
    }

    private bool OverQuota(int payloadBytes)
    {
        // With nothing staged a record is always accepted, or one larger than the quota would stall the sink.
        var staged = buffer.Statistics.StagedBytes + uploader.StagedObjectBytes;
        if (staged > 0 && staged + payloadBytes + 16 > options.Staging.MaxStagedBytes)
        {
            return true;
        }

        if (options.Staging.MinFreeDiskBytes > 0)
        {
            var now = time.GetTimestamp();
            if (now >= nextDiskCheck)
            {
                nextDiskCheck = now + (long)(DiskCheckInterval.TotalSeconds * time.TimestampFrequency);
                lowDisk = FreeDiskBytes() < options.Staging.MinFreeDiskBytes;
            }

            return lowDisk;
        }

        return false;
    }

    private long FreeDiskBytes()
    {
        try
        {
            return new DriveInfo(options.Staging.Directory!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue; // cannot tell: do not pause on a failed probe
        }
    }

    private void Pause(string reason)
    {
        if (Paused)
        {
            return;
        }

        Paused = true;
        metrics.Paused();
        var assignment = consumer!.Assignment;
        consumer.Pause(assignment);
        Log.PausedConsumption(logger, reason, buffer.Statistics.StagedBytes + uploader.StagedObjectBytes);

        // Free space: seal everything staged so its uploads can start (and, once committed, delete it).
        foreach (var state in partitions.Values)
        {
            Rotate(state, deterministic: false);
        }
    }

    /// <summary>Pause and resume requested through <see cref="KafkaS3Sink.Pause"/> (e.g. by the controller).</summary>
    private void ApplyOperatorPause()
    {
        var requested = control.PauseRequested;
        if (requested && !operatorPaused)
        {
            operatorPaused = true;
            consumer!.Pause(consumer.Assignment);
            Log.OperatorPaused(logger);
        }
        else if (!requested && operatorPaused)
        {
            operatorPaused = false;
            Log.OperatorResumed(logger);
            if (!Paused)
            {
                rewindTo.Clear();
                consumer!.Resume(consumer.Assignment);
            }
        }
        else if (operatorPaused && !Paused)
        {
            // Partitions assigned while paused start paused too.
            consumer!.Pause(consumer.Assignment);
        }

        control.OperatorPaused = operatorPaused;
        control.BackpressurePaused = Paused;
    }

    /// <summary>Status for the controller, health check and metrics; refreshed with the timers, not per record.</summary>
    private void PublishStatus()
    {
        control.OldestUncommitted = OldestUncommitted();
        control.OldestRecordNotInS3 = OldestRecordNotInS3();
        control.Lag = Lag();
        if (fenced.Count != control.FencedPartitions.Count)
        {
            control.FencedPartitions = [.. fenced.Select(tp => $"{tp.Topic}[{tp.Partition.Value}]").Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>The append time of the oldest record not yet committed (open or uploading).</summary>
    private DateTimeOffset? OldestRecordNotInS3()
    {
        DateTimeOffset? oldest = null;
        foreach (var state in partitions.Values)
        {
            var candidate = state.InFlight.TryPeek(out var upload) ? upload.FirstAppendTime
                : state.RecordCount > 0 ? state.RotationState().FirstAppendTime
                : (DateTimeOffset?)null;
            if (candidate is not null && (oldest is null || candidate < oldest))
            {
                oldest = candidate;
            }
        }

        return oldest;
    }

    /// <summary>Records behind the end of each assigned partition (from the cached high watermarks).</summary>
    private long Lag()
    {
        long lag = 0;
        foreach (var state in partitions.Values)
        {
            var high = consumer!.GetWatermarkOffsets(state.TopicPartition).High;
            if (!high.IsSpecial && state.Position >= 0)
            {
                lag += Math.Max(0, high.Value - state.Position);
            }
        }

        return lag;
    }

    private DateTimeOffset? OldestUncommitted()
    {
        DateTimeOffset? oldest = null;
        foreach (var state in partitions.Values)
        {
            if (state.InFlight.TryPeek(out var upload) && (oldest is null || upload.SealedAt < oldest))
            {
                oldest = upload.SealedAt;
            }
        }

        return oldest;
    }

    private void NotAppended(TopicPartition tp, long offset)
    {
        if (!rewindTo.TryGetValue(tp, out var existing) || offset < existing)
        {
            rewindTo[tp] = offset;
            consumer!.Seek(new TopicPartitionOffset(tp, offset));
        }
    }

    private void UpdateBackpressure()
    {
        if (!Paused)
        {
            return;
        }

        var staged = buffer.Statistics.StagedBytes + uploader.StagedObjectBytes;
        var diskOk = options.Staging.MinFreeDiskBytes == 0 || FreeDiskBytes() >= options.Staging.MinFreeDiskBytes;
        if (staged < options.Staging.EffectiveResumeStagedBytes && diskOk)
        {
            Paused = false;
            lowDisk = false;
            Log.ResumedConsumption(logger, staged);
            if (!operatorPaused)
            {
                rewindTo.Clear();
                consumer!.Resume(consumer.Assignment);
            }
        }
        else
        {
            // Partitions assigned while paused start paused too.
            consumer!.Pause(consumer.Assignment);
        }
    }

    private void WaitWhileTooManyUploads(CancellationToken stoppingToken)
    {
        while (inFlightSegments > MaxInFlightSegments && !stoppingToken.IsCancellationRequested)
        {
            var oldest = partitions.Values
                .Select(s => s.InFlight.Count > 0 ? s.InFlight.Peek().Task : null)
                .OfType<Task>()
                .ToArray();
            if (oldest.Length == 0)
            {
                return;
            }

            Task.WaitAny(oldest, TimeSpan.FromMilliseconds(200));
            CommitCompleted();
        }
    }

    private void OnAssigned(List<TopicPartition> assigned)
    {
        Log.Assigned(logger, string.Join(", ", assigned));

        // With fencing, take every assigned partition's lease at once (one compare-and-swap each).
        var epochs = fence.Enabled
            ? Task.WhenAll(assigned.Select(tp => fence.AcquireAsync(tp.Topic, tp.Partition.Value, CancellationToken.None))).GetAwaiter().GetResult()
            : new long[assigned.Count];
        for (var i = 0; i < assigned.Count; i++)
        {
            // Consumption restarts at the committed offset, a rotation boundary: anything staged is stale.
            var tp = assigned[i];
            fenced.Remove(tp);
            buffer.DiscardPartition(tp.Topic, tp.Partition.Value);
            partitions[tp] = new PartitionState(tp) { Epoch = epochs[i] };
        }
    }

    private void OnRevoked(List<TopicPartitionOffset> revoked)
    {
        Log.Revoked(logger, string.Join(", ", revoked.Select(r => r.TopicPartition)));
        var offsets = new List<TopicPartitionOffset>();
        foreach (var tpo in revoked)
        {
            rewindTo.Remove(tpo.TopicPartition);
            fenced.Remove(tpo.TopicPartition);
            if (!partitions.Remove(tpo.TopicPartition, out var state))
            {
                continue;
            }

            // Stop appending, finish (or cancel) in-flight uploads before the callback returns, then
            // commit what S3 acknowledged; the rest is discarded and the new owner replays it.
            DiscardOpen(state);
            DrainUploads(state);
            while (state.InFlight.TryPeek(out var upload) && upload.Task is { IsCompletedSuccessfully: true })
            {
                state.InFlight.Dequeue();
                inFlightSegments -= upload.Segments.Count;
                foreach (var segment in upload.Segments)
                {
                    segment.Delete();
                }

                state.CommittableOffset = upload.CommitOffset;
            }

            DropUncommitted(state);
            if (state.CommittableOffset > state.CommittedOffset)
            {
                offsets.Add(new TopicPartitionOffset(state.TopicPartition, state.CommittableOffset));
            }
        }

        if (offsets.Count > 0)
        {
            Commit(offsets);
        }
    }

    private void OnLost(List<TopicPartitionOffset> lost)
    {
        Log.Lost(logger, string.Join(", ", lost.Select(l => l.TopicPartition)));
        foreach (var tpo in lost)
        {
            rewindTo.Remove(tpo.TopicPartition);
            fenced.Remove(tpo.TopicPartition);
            if (!partitions.Remove(tpo.TopicPartition, out var state))
            {
                continue;
            }

            // Another member may own the partition already: commit nothing, stop uploading.
            Abandon(state);
        }
    }

    /// <summary>Gives a partition up without committing: open segments discarded, uploads cancelled, staged rotations deleted.</summary>
    private void Abandon(PartitionState state)
    {
        DiscardOpen(state);
        state.Cancel();
        WaitQuietly(state.StartedTasks(), drainTimeout);
        DropUncommitted(state);
    }

    private void DiscardOpen(PartitionState state)
    {
        foreach (var entry in state.Open.Values)
        {
            if (entry.Node.List is not null)
            {
                segmentLru.Remove(entry.Node);
            }

            entry.Segment.Discard();
        }

        state.ResetOpen();
    }

    /// <summary>
    /// A segment of the topic-partition could not be written (e.g. ENOSPC): its open segments cannot be
    /// trusted. Discard them, re-read from the start of the open rotation, and pause until uploads free space.
    /// </summary>
    private void RewindAfterWriteFailure(PartitionState state, long fallbackOffset, IOException ex)
    {
        var rewind = state.RecordCount > 0 ? state.FirstOffset : fallbackOffset;
        Log.AppendFailed(logger, ex, state.TopicPartition.ToString(), rewind);
        DiscardOpen(state);
        Pause("a segment could not be written: " + ex.Message);
        NotAppended(state.TopicPartition, rewind);
    }

    /// <summary>Deletes the staged segments of rotations that will not be committed by this member.</summary>
    private void DropUncommitted(PartitionState state)
    {
        foreach (var upload in state.InFlight)
        {
            if (upload.Task is not null)
            {
                inFlightSegments -= upload.Segments.Count;
            }

            foreach (var segment in upload.Segments)
            {
                segment.Delete();
            }
        }

        state.InFlight.Clear();
    }

    private void DrainUploads(PartitionState state)
    {
        var tasks = state.StartedTasks();
        if (tasks.Length == 0)
        {
            return;
        }

        if (!WaitQuietly(tasks, drainTimeout))
        {
            Log.UploadsAbandoned(logger, state.TopicPartition.ToString(), drainTimeout);
            state.Cancel();
            WaitQuietly(tasks, TimeSpan.FromSeconds(5));
        }
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

    private static KeyValuePair<string, byte[]>[] ToHeaders(Headers? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return [];
        }

        var list = new KeyValuePair<string, byte[]>[headers.Count];
        for (var i = 0; i < headers.Count; i++)
        {
            list[i] = new KeyValuePair<string, byte[]>(headers[i].Key, headers[i].GetValueBytes());
        }

        return list;
    }

    private sealed class RotationUpload(long commitOffset, List<ISealedSegment> segments, List<string?> avroSchemas, bool deterministic, DateTimeOffset sealedAt, DateTimeOffset firstAppendTime)
    {
        public DateTimeOffset SealedAt { get; } = sealedAt;

        public DateTimeOffset FirstAppendTime { get; } = firstAppendTime;

        public long CommitOffset { get; } = commitOffset;

        public List<ISealedSegment> Segments { get; } = segments;

        /// <summary>The Avro writer schema of each segment's records; null where they are staged as JSON.</summary>
        public List<string?> AvroSchemas { get; } = avroSchemas;

        /// <summary>Whether a replay from the previous commit point cuts this rotation at the same offset.</summary>
        public bool Deterministic { get; } = deterministic;

        /// <summary>The upload of every segment; null until it may start.</summary>
        public Task? Task { get; set; }
    }

    private sealed class OpenEntry
    {
        public OpenEntry(PartitionState owner, IOpenSegment segment, string? avroSchema)
        {
            Owner = owner;
            Segment = segment;
            AvroSchema = avroSchema;
            Node = new LinkedListNode<OpenEntry>(this);
        }

        public PartitionState Owner { get; }

        public IOpenSegment Segment { get; }

        /// <summary>The Avro writer schema of the staged records; null when they are staged as JSON.</summary>
        public string? AvroSchema { get; }

        public LinkedListNode<OpenEntry> Node { get; }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Upload tasks may still hold the token after the state is dropped; a CancellationTokenSource without timers needs no disposal.")]
    private sealed class PartitionState(TopicPartition tp)
    {
        private readonly CancellationTokenSource cts = new();
        private long bytes;
        private DateTimeOffset firstTimestamp;
        private DateTimeOffset lastTimestamp;
        private DateTimeOffset firstAppendTime;
        private DateTimeOffset lastAppendTime;

        public TopicPartition TopicPartition { get; } = tp;

        public Dictionary<string, OpenEntry> Open { get; } = new(StringComparer.Ordinal);

        public Queue<RotationUpload> InFlight { get; } = new();

        public long CommittableOffset { get; set; } = -1;

        /// <summary>This owner's lease epoch for the partition (0 without fencing).</summary>
        public long Epoch { get; init; }

        public long CommittedOffset { get; set; } = -1;

        public long RecordCount { get; private set; }

        public long FirstOffset { get; private set; } = -1;

        public long LastOffset { get; private set; } = -1;

        /// <summary>The next offset to consume, as far as this sink has seen; -1 before the first record.</summary>
        public long Position { get; set; } = -1;

        public CancellationToken Token => cts.Token;

        public void OnAppended(KafkaRecord record, int payloadBytes, DateTimeOffset now)
        {
            if (RecordCount == 0)
            {
                FirstOffset = record.Offset;
                firstTimestamp = record.Timestamp;
                firstAppendTime = now;
            }

            lastAppendTime = now;

            RecordCount++;
            bytes += payloadBytes;
            LastOffset = record.Offset;
            lastTimestamp = record.Timestamp;
        }

        /// <summary>A record that is not written (e.g. an ignored tombstone) still moves the commit point past it.</summary>
        public void OnSkipped(long offset) => LastOffset = offset;

        public RotationState RotationState() => new(
            TopicPartition.Topic, TopicPartition.Partition.Value, RecordCount, bytes, Open.Count, FirstOffset, LastOffset, firstTimestamp, lastTimestamp, firstAppendTime, lastAppendTime);

        public void ResetOpen()
        {
            Open.Clear();
            RecordCount = 0;
            bytes = 0;
            FirstOffset = -1;
        }

        public Task[] StartedTasks() => InFlight.Select(u => u.Task).OfType<Task>().ToArray();

        public void Cancel() => cts.Cancel();
    }
}
