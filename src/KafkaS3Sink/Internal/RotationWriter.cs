namespace KafkaS3Sink.Internal;

/// <summary>
/// Owns the open segments of every topic-partition: appends records to the segment of their path, keeps the
/// LRU that caps open segments, and rotates — seals every open segment of a topic-partition together and
/// hands the rotation to the <see cref="UploadScheduler"/>. Consumer thread only.
/// </summary>
internal sealed class RotationWriter(KafkaS3SinkOptions options, ISegmentBuffer buffer, UploadScheduler uploads, SinkMetrics metrics, TimeProvider time)
{
    /// <summary>Open segments of every topic-partition, most recently written first.</summary>
    private readonly LinkedList<OpenEntry> lru = new();

    /// <summary>Called when a staging write fails (ENOSPC, a read-only volume): partition, the offset to re-read from, the error.</summary>
    public Action<PartitionState, long, Exception>? WriteFailed { get; set; }

    /// <summary>Called after a rotation was sealed (the staging volume takes writes).</summary>
    public Action? Sealed { get; set; }

    /// <summary>Appends a record to its path's open segment; false when the write failed (already handled through <see cref="WriteFailed"/>).</summary>
    public bool Append(PartitionState state, string path, long offset, ReadOnlySpan<byte> payload, string? avroSchema)
    {
        state.Open.TryGetValue(path, out var entry);
        if (entry is not null && !SameSchema(entry.Value.AvroSchema, avroSchema))
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
                while (lru.Count >= options.Staging.MaxOpenSegments)
                {
                    Rotate(lru.Last!.Value.Owner, deterministic: false);
                }

                entry = lru.AddFirst(new OpenEntry(state, buffer.Open(new SegmentDescriptor(state.TopicPartition.Topic, state.TopicPartition.Partition.Value, path, offset)), avroSchema));
                state.Open[path] = entry;
            }
            else if (lru.First != entry)
            {
                lru.Remove(entry);
                lru.AddFirst(entry);
            }

            entry.Value.Segment.Append(offset, payload);
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
                if (entry.List is not null)
                {
                    lru.Remove(entry);
                }

                sealedSegments.Add(entry.Value.Segment.Seal());
                schemas.Add(entry.Value.AvroSchema);
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
        state.ResetOpen();
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
        foreach (var entry in state.Open.Values)
        {
            if (entry.List is not null)
            {
                lru.Remove(entry);
            }

            try
            {
                entry.Value.Segment.Discard();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The data is dropped either way; a file left behind is cleared at the next start.
            }
        }

        state.ResetOpen();
    }

    private static bool SameSchema(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.Ordinal);

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
