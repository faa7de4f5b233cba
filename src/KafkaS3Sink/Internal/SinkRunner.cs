using Confluent.Kafka;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// The consume loop of one sink. Everything that touches the consumer (polling, rebalance
/// callbacks, commits) runs on the one thread that calls <see cref="Run"/>; uploads run on the
/// thread pool and are only observed from that thread, so no commit ever races a rebalance.
/// </summary>
internal sealed class SinkRunner
{
    private const int MaxInFlightSegments = 256;
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    private readonly KafkaS3SinkOptions options;
    private readonly IRecordConverter converter;
    private readonly IS3Partitioner partitioner;
    private readonly IRotationPolicy rotation;
    private readonly ISegmentBuffer buffer;
    private readonly S3ObjectUploader uploader;
    private readonly ILogger logger;
    private readonly TimeSpan drainTimeout;
    private readonly Dictionary<TopicPartition, PartitionState> partitions = [];
    private int inFlightSegments;

    public SinkRunner(
        KafkaS3SinkOptions options,
        IRecordConverter converter,
        IS3Partitioner partitioner,
        IRotationPolicy rotation,
        ISegmentBuffer buffer,
        S3ObjectUploader uploader,
        ILogger logger,
        TimeSpan drainTimeout)
    {
        this.options = options;
        this.converter = converter;
        this.partitioner = partitioner;
        this.rotation = rotation;
        this.buffer = buffer;
        this.uploader = uploader;
        this.logger = logger;
        this.drainTimeout = drainTimeout;
    }

    public void Run(CancellationToken stoppingToken)
    {
        using var consumer = BuildConsumer();
        consumer.Subscribe(options.Topics);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? result = null;
                try
                {
                    result = consumer.Consume(PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    Log.ConsumerError(logger, ex.Error.ToString());
                }

                if (result is { IsPartitionEOF: false, Message: not null })
                {
                    Process(result);
                }

                CommitCompleted(consumer);
                WaitWhileTooManyUploads(consumer, stoppingToken);
            }

            // Graceful stop: open segments are discarded (replayed later, same keys); finished
            // uploads are committed; unfinished ones get drainTimeout to finish.
            foreach (var state in partitions.Values)
            {
                state.DiscardOpen();
                DrainUploads(state);
            }

            CommitCompleted(consumer);
            partitions.Clear();
            consumer.Close();
        }
        finally
        {
            foreach (var state in partitions.Values)
            {
                state.Cancel();
            }
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
            .SetPartitionsRevokedHandler((c, revoked) => OnRevoked(c, revoked))
            .SetPartitionsLostHandler((_, lost) => OnLost(lost))
            .Build();
    }

    private void Process(ConsumeResult<byte[], byte[]> result)
    {
        var tp = result.TopicPartition;
        if (!partitions.TryGetValue(tp, out var state))
        {
            state = new PartitionState(tp);
            partitions[tp] = state;
        }

        var message = result.Message;
        var record = new KafkaRecord(
            tp.Topic,
            tp.Partition.Value,
            result.Offset.Value,
            message.Timestamp.UnixTimestampMs == 0 && message.Timestamp.Type == TimestampType.NotAvailable
                ? DateTimeOffset.UnixEpoch
                : DateTimeOffset.FromUnixTimeMilliseconds(message.Timestamp.UnixTimestampMs),
            // A null byte[] would convert to an empty ReadOnlyMemory, turning tombstones into empty values.
            message.Key is null ? null : (ReadOnlyMemory<byte>?)message.Key,
            message.Value is null ? null : (ReadOnlyMemory<byte>?)message.Value,
            ToHeaders(message.Headers));

        // Bad input stops the sink with a clear error naming the record (the default error policy).
        var converted = converter.Convert(record);
        var path = partitioner.GetPartitionPath(converted);
        PathValidation.ThrowIfInvalid(path, record);

        if (!state.Open.TryGetValue(path, out var segment))
        {
            segment = buffer.Open(new SegmentDescriptor(tp.Topic, tp.Partition.Value, path, record.Offset));
            state.Open[path] = segment;
        }

        segment.Append(record.Offset, converted.Payload.Span);
        state.OnAppended(record, converted.Payload.Length);

        if (rotation.ShouldRotate(state.RotationState()))
        {
            Rotate(state);
        }
    }

    private void Rotate(PartitionState state)
    {
        if (state.Open.Count == 0)
        {
            return;
        }

        var commitOffset = state.LastOffset + 1;
        var tasks = new List<Task>(state.Open.Count);
        var sealedSegments = new List<ISealedSegment>(state.Open.Count);
        foreach (var open in state.Open.Values)
        {
            var sealedSegment = open.Seal();
            sealedSegments.Add(sealedSegment);
            var key = ObjectKeys.For(options.TopicsDir, sealedSegment.Descriptor, uploader.Extension);
            var token = state.Token;
            tasks.Add(Task.Run(() => uploader.UploadAsync(sealedSegment, key, token), token));
        }

        inFlightSegments += tasks.Count;
        state.InFlight.Enqueue(new RotationUpload(commitOffset, sealedSegments, Task.WhenAll(tasks)));
        state.ResetOpen();
    }

    /// <summary>Moves each partition's commit point over the prefix of rotations S3 has acknowledged, then commits.</summary>
    private void CommitCompleted(IConsumer<byte[], byte[]> consumer)
    {
        List<TopicPartitionOffset>? offsets = null;
        foreach (var state in partitions.Values)
        {
            while (state.InFlight.TryPeek(out var upload) && upload.Task.IsCompleted)
            {
                state.InFlight.Dequeue();
                inFlightSegments -= upload.Segments.Count;
                if (!upload.Task.IsCompletedSuccessfully)
                {
                    throw new KafkaS3SinkException(
                        $"Uploading the rotation of {state.TopicPartition} ending before offset {upload.CommitOffset} failed; nothing past the last committed offset was committed.",
                        upload.Task.Exception?.GetBaseException());
                }

                foreach (var segment in upload.Segments)
                {
                    segment.Delete();
                }

                state.CommittableOffset = upload.CommitOffset;
            }

            if (state.CommittableOffset > state.CommittedOffset)
            {
                (offsets ??= []).Add(new TopicPartitionOffset(state.TopicPartition, state.CommittableOffset));
            }
        }

        if (offsets is null)
        {
            return;
        }

        try
        {
            consumer.Commit(offsets);
            foreach (var tpo in offsets)
            {
                if (partitions.TryGetValue(tpo.TopicPartition, out var state))
                {
                    state.CommittedOffset = tpo.Offset.Value;
                }
            }

            Log.Committed(logger, string.Join(", ", offsets));
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // E.g. RebalanceInProgress: the offsets stay committable and are retried after the next poll;
            // a partition revoked meanwhile is committed (or given up) by the revoke handler.
            Log.CommitFailed(logger, ex.Error.ToString());
        }
    }

    private void WaitWhileTooManyUploads(IConsumer<byte[], byte[]> consumer, CancellationToken stoppingToken)
    {
        while (inFlightSegments > MaxInFlightSegments && !stoppingToken.IsCancellationRequested)
        {
            var oldest = partitions.Values.Where(s => s.InFlight.Count > 0).Select(s => s.InFlight.Peek().Task).ToArray();
            if (oldest.Length == 0)
            {
                return;
            }

            Task.WaitAny(oldest, TimeSpan.FromMilliseconds(200));
            CommitCompleted(consumer);
        }
    }

    private void OnAssigned(List<TopicPartition> assigned)
    {
        Log.Assigned(logger, string.Join(", ", assigned));
        foreach (var tp in assigned)
        {
            // Consumption restarts at the committed offset, a rotation boundary: anything staged is stale.
            buffer.DiscardPartition(tp.Topic, tp.Partition.Value);
            partitions[tp] = new PartitionState(tp);
        }
    }

    private void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> revoked)
    {
        Log.Revoked(logger, string.Join(", ", revoked.Select(r => r.TopicPartition)));
        var offsets = new List<TopicPartitionOffset>();
        foreach (var tpo in revoked)
        {
            if (!partitions.Remove(tpo.TopicPartition, out var state))
            {
                continue;
            }

            // Stop appending, finish (or cancel) in-flight uploads before the callback returns, then
            // commit what S3 acknowledged; the open segments are discarded and the new owner replays them.
            state.DiscardOpen();
            DrainUploads(state);
            foreach (var upload in state.InFlight)
            {
                inFlightSegments -= upload.Segments.Count;
                if (!upload.Task.IsCompletedSuccessfully)
                {
                    break;
                }

                state.CommittableOffset = upload.CommitOffset;
            }

            state.InFlight.Clear();
            if (state.CommittableOffset > state.CommittedOffset)
            {
                offsets.Add(new TopicPartitionOffset(state.TopicPartition, state.CommittableOffset));
            }

            buffer.DiscardPartition(tpo.Topic, tpo.Partition.Value);
        }

        if (offsets.Count > 0)
        {
            try
            {
                consumer.Commit(offsets);
                Log.Committed(logger, string.Join(", ", offsets));
            }
            catch (KafkaException ex) when (!ex.Error.IsFatal)
            {
                // The objects are in S3 with deterministic keys: the new owner overwrites them identically.
                Log.CommitFailed(logger, ex.Error.ToString());
            }
        }
    }

    private void OnLost(List<TopicPartitionOffset> lost)
    {
        Log.Lost(logger, string.Join(", ", lost.Select(l => l.TopicPartition)));
        foreach (var tpo in lost)
        {
            if (!partitions.Remove(tpo.TopicPartition, out var state))
            {
                continue;
            }

            // Another member may own the partition already: commit nothing, stop uploading.
            state.DiscardOpen();
            state.Cancel();
            WaitQuietly(state.InFlight.Select(u => u.Task).ToArray(), drainTimeout);
            foreach (var upload in state.InFlight)
            {
                inFlightSegments -= upload.Segments.Count;
            }

            state.InFlight.Clear();
            buffer.DiscardPartition(tpo.Topic, tpo.Partition.Value);
        }
    }

    private void DrainUploads(PartitionState state)
    {
        var tasks = state.InFlight.Select(u => u.Task).ToArray();
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

    private sealed record RotationUpload(long CommitOffset, List<ISealedSegment> Segments, Task Task);

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Upload tasks may still hold the token after the state is dropped; a CancellationTokenSource without timers needs no disposal.")]
    private sealed class PartitionState(TopicPartition tp)
    {
        private CancellationTokenSource cts = new();

        public TopicPartition TopicPartition { get; } = tp;

        public Dictionary<string, IOpenSegment> Open { get; } = new(StringComparer.Ordinal);

        public Queue<RotationUpload> InFlight { get; } = new();

        public long CommittableOffset { get; set; } = -1;

        public long CommittedOffset { get; set; } = -1;

        public long LastOffset { get; private set; } = -1;

        public CancellationToken Token => cts.Token;

        private long recordCount;
        private long bytes;
        private long firstOffset = -1;
        private DateTimeOffset firstTimestamp;
        private DateTimeOffset lastTimestamp;

        public void OnAppended(KafkaRecord record, int payloadBytes)
        {
            if (recordCount == 0)
            {
                firstOffset = record.Offset;
                firstTimestamp = record.Timestamp;
            }

            recordCount++;
            bytes += payloadBytes;
            LastOffset = record.Offset;
            lastTimestamp = record.Timestamp;
        }

        public RotationState RotationState() => new(
            TopicPartition.Topic, TopicPartition.Partition.Value, recordCount, bytes, Open.Count, firstOffset, LastOffset, firstTimestamp, lastTimestamp);

        public void ResetOpen()
        {
            Open.Clear();
            recordCount = 0;
            bytes = 0;
            firstOffset = -1;
        }

        public void DiscardOpen()
        {
            foreach (var segment in Open.Values)
            {
                segment.Discard();
            }

            ResetOpen();
        }

        public void Cancel()
        {
            cts.Cancel();
        }
    }
}
