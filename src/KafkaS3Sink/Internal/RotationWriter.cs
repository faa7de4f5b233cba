namespace KafkaS3Sink.Internal;

/// <summary>
/// Owns the open segments of every topic-partition: appends records to the segment of their path, keeps the
/// LRU that caps open segments, and rotates — seals every open segment of a topic-partition together and
/// hands the rotation to the <see cref="UploadScheduler"/>. Consumer thread only.
/// </summary>
internal sealed class RotationWriter(KafkaS3SinkOptions options, ISegmentBuffer buffer, UploadScheduler uploads, SinkMetrics metrics, TimeProvider time)
{
    /// <summary>
    /// Topic-partitions with open segments, most recently written first. The cap rotates whole topic-partitions,
    /// so it orders them, not segments: a node per open segment would cost 64 bytes each at 100,000 open files.
    /// </summary>
    private readonly LinkedList<PartitionState> lru = new();

    /// <summary>Open segments of every topic-partition.</summary>
    private int openSegments;

    /// <summary>Called when a staging write fails (ENOSPC, a read-only volume): partition, the offset to re-read from, the error.</summary>
    public Action<PartitionState, long, Exception>? WriteFailed { get; set; }

    /// <summary>Called after a rotation was sealed (the staging volume takes writes).</summary>
    public Action? Sealed { get; set; }

    /// <summary>Appends a record to its path's open segment; false when the write failed (already handled through <see cref="WriteFailed"/>).</summary>
    public bool Append(PartitionState state, string path, long offset, ReadOnlySpan<byte> payload, string? avroSchema)
    {
        state.Open.TryGetValue(path, out var segment);
        if (segment is not null && !SameSchema(state.AvroSchemaOf(path), avroSchema))
        {
            // A file has one schema: a new writer schema starts a new rotation (a function of the records, so
            // a replay cuts at the same offset). Rotating closes every open segment of the partition.
            Rotate(state, deterministic: true);
            segment = null;
        }

        try
        {
            if (segment is null)
            {
                // Open-segment cap: before opening one more, rotate the whole topic-partition written least
                // recently (possibly this one; the record then starts its next rotation).
                while (openSegments >= options.Staging.MaxOpenSegments)
                {
                    Rotate(lru.Last!.Value, deterministic: false);
                }

                segment = buffer.Open(new SegmentDescriptor(state.TopicPartition.Topic, state.TopicPartition.Partition.Value, path, offset));
                state.Open[path] = segment;
                state.SetAvroSchema(path, avroSchema);
                openSegments++;
            }

            if (state.WriterNode is null)
            {
                state.WriterNode = lru.AddFirst(state);
            }
            else if (lru.First != state.WriterNode)
            {
                lru.Remove(state.WriterNode);
                lru.AddFirst(state.WriterNode);
            }

            segment.Append(offset, payload);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Failed(state, offset, ex);
            return false;
        }
    }

    /// <summary>Seals every open segment of the topic-partition and queues the rotation's upload.</summary>
    public void Rotate(PartitionState state, bool deterministic)
    {
        if (state.Open.Count == 0)
        {
            LeaveLru(state);
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
            foreach (var (path, segment) in state.Open)
            {
                sealedSegments.Add(segment.Seal());
                schemas.Add(state.AvroSchemaOf(path));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            foreach (var segment in sealedSegments)
            {
                segment.Delete();
            }

            Failed(state, state.FirstOffset, ex);
            return;
        }

        uploads.Enqueue(state, new RotationUpload(state.LastOffset + 1, sealedSegments, schemas, deterministic, time.GetUtcNow(), state.RotationState().FirstAppendTime));
        ResetOpen(state);
        Sealed?.Invoke();
    }

    /// <summary>Rotates every topic-partition that holds records (e.g. to free space under backpressure).</summary>
    public void RotateAll(IEnumerable<PartitionState> states)
    {
        foreach (var state in states)
        {
            Rotate(state, deterministic: false);
        }
    }

    /// <summary>Rotations the policy wants without a new record (schedule, idle). Never replay-safe.</summary>
    public void RotateOnTimers(IEnumerable<PartitionState> states, IRotationPolicy rotation)
    {
        var utcNow = time.GetUtcNow();
        foreach (var state in states)
        {
            if (state.RecordCount > 0 && rotation.ShouldRotateOnTimer(state.RotationState(), utcNow))
            {
                Rotate(state, deterministic: false);
            }
        }
    }

    /// <summary>Drops the open segments of a topic-partition (they are replayed from Kafka).</summary>
    public void DiscardOpen(PartitionState state)
    {
        foreach (var segment in state.Open.Values)
        {
            try
            {
                segment.Discard();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The data is dropped either way; a file left behind is cleared at the next start.
            }
        }

        ResetOpen(state);
    }

    private static bool SameSchema(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.Ordinal);

    /// <summary>The topic-partition's open segments were sealed or discarded: it leaves the LRU.</summary>
    private void ResetOpen(PartitionState state)
    {
        openSegments -= state.Open.Count;
        LeaveLru(state);
        state.ResetOpen();
    }

    private void LeaveLru(PartitionState state)
    {
        if (state.WriterNode is not null)
        {
            lru.Remove(state.WriterNode);
            state.WriterNode = null;
        }
    }

    /// <summary>
    /// A segment of the topic-partition could not be written: its open segments cannot be trusted. Discard
    /// them and let the caller re-read from the start of the open rotation.
    /// </summary>
    private void Failed(PartitionState state, long fallbackOffset, Exception ex)
    {
        var rewind = state.RecordCount > 0 ? state.FirstOffset : fallbackOffset;
        DiscardOpen(state);
        WriteFailed?.Invoke(state, rewind, ex);
    }
}
