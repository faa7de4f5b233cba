using Confluent.Kafka;

namespace KafkaS3Sink.Internal;

/// <summary>
/// What the sink holds for one assigned topic-partition: its open segments (the open rotation), the FIFO
/// of sealed rotations being uploaded, its commit point, its lease and its progress. Owned by the consumer
/// thread; upload tasks only see the cancellation token.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Upload tasks may still hold the token after the state is dropped; a CancellationTokenSource without timers needs no disposal.")]
internal sealed class PartitionState
{
    private readonly CancellationTokenSource cts = new();
    private long bytes;
    private DateTimeOffset firstTimestamp;
    private DateTimeOffset lastTimestamp;
    private DateTimeOffset firstAppendTime;
    private DateTimeOffset lastAppendTime;

    public PartitionState(TopicPartition tp, Task<long> setup, long now)
    {
        TopicPartition = tp;
        Name = $"{tp.Topic}[{tp.Partition.Value}]";
        Setup = setup;
        LastProgress = now;
    }

    public TopicPartition TopicPartition { get; }

    /// <summary><c>topic[partition]</c>, for logs and status.</summary>
    public string Name { get; }

    /// <summary>Taking the lease and cleaning up an earlier owner's uploads; its result is the epoch. Records wait until it completes.</summary>
    public Task<long> Setup { get; }

    /// <summary>Whether <see cref="Setup"/> succeeded and <see cref="Epoch"/> is set.</summary>
    public bool Ready { get; private set; }

    /// <summary>This owner's lease epoch for the partition (0 without fencing); valid once <see cref="Ready"/>.</summary>
    public long Epoch { get; private set; }

    /// <summary>Open segments by partition path.</summary>
    public Dictionary<string, IOpenSegment> Open { get; } = new(StringComparer.Ordinal);

    /// <summary>The Avro writer schema of each open segment that stages Avro records (by partition path); null until the first.</summary>
    public Dictionary<string, string>? OpenAvroSchemas { get; private set; }

    /// <summary>Its place in the writer's LRU of topic-partitions with open segments; null while it has none.</summary>
    public LinkedListNode<PartitionState>? WriterNode { get; set; }

    /// <summary>The Avro writer schema of the open segment of a path; null when its records are staged as JSON.</summary>
    public string? AvroSchemaOf(string path) => OpenAvroSchemas is { } schemas && schemas.TryGetValue(path, out var schema) ? schema : null;

    /// <summary>Records the Avro writer schema of a newly opened segment.</summary>
    public void SetAvroSchema(string path, string? schema)
    {
        if (schema is not null)
        {
            (OpenAvroSchemas ??= new(StringComparer.Ordinal))[path] = schema;
        }
    }

    /// <summary>Sealed rotations, oldest first, until they are committed.</summary>
    public Queue<RotationUpload> InFlight { get; } = new();

    /// <summary>The offset after the last rotation S3 acknowledged; -1 before the first.</summary>
    public long CommittableOffset { get; set; } = -1;

    /// <summary>The offset last committed to Kafka by this member; -1 before the first.</summary>
    public long CommittedOffset { get; set; } = -1;

    /// <summary>
    /// The commit offset of the last rotation S3 acknowledged that a replay may cut elsewhere (schedule, idle,
    /// cap, quota); -1 when none. No further upload starts until Kafka has that offset committed: otherwise a
    /// failed commit (a rebalance in progress) would leave two such rotations in S3 and uncommitted.
    /// </summary>
    public long UncommittedCutAt { get; set; } = -1;

    /// <summary>The first offset consumed since assignment (where a replay of this member starts); -1 before the first record.</summary>
    public long StartOffset { get; set; } = -1;

    public long RecordCount { get; private set; }

    public long FirstOffset { get; private set; } = -1;

    public long LastOffset { get; private set; } = -1;

    /// <summary>The next offset to consume, as far as this sink has seen; -1 before the first record.</summary>
    public long Position { get; set; } = -1;

    /// <summary>When (timestamp) the partition last moved: assigned, a rotation uploaded or committed.</summary>
    public long LastProgress { get; set; }

    /// <summary>Whether the watchdog reported this partition as stalled (cleared by progress).</summary>
    public bool Stalled { get; set; }

    public CancellationToken Token => cts.Token;

    /// <summary>The offset a replay of this member's uncommitted work starts from.</summary>
    public long ReplayOffset => CommittableOffset >= 0 ? CommittableOffset : StartOffset;

    /// <summary>Marks the setup done with the epoch it returned.</summary>
    public void MarkReady(long epoch)
    {
        Epoch = epoch;
        Ready = true;
    }

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

    /// <summary>
    /// The offset after the last record that was not written (an ignored tombstone, a skipped or dead-lettered
    /// bad record); -1 before the first. Records are seen in order (a rewind seeks back before anything later is
    /// processed), so with no open and no in-flight rotation everything before it is in S3 or skipped.
    /// </summary>
    public long SkippedThrough { get; private set; } = -1;

    /// <summary>Offsets of this partition's records produced to the dead-letter topic and not yet acknowledged; null before the first.</summary>
    public SortedSet<long>? DeadLettersPending { get; private set; }

    /// <summary>What may be committed: <see cref="CommittableOffset"/>, but never past a dead-lettered record the topic has not acknowledged.</summary>
    public long CommitPoint => DeadLettersPending is { Count: > 0 } pending ? Math.Min(CommittableOffset, pending.Min) : CommittableOffset;

    /// <summary>A record that is not written (e.g. an ignored tombstone) still moves the commit point past it.</summary>
    public void OnSkipped(long offset)
    {
        LastOffset = offset;
        SkippedThrough = offset + 1;
    }

    /// <summary>
    /// A skipped record is being produced to the dead-letter topic: commits stay before it until the topic
    /// acknowledges it (its offset leaves the returned set, which the delivery holds).
    /// </summary>
    public SortedSet<long> DeadLetterProduced(long offset)
    {
        var pending = DeadLettersPending ??= [];
        pending.Add(offset);
        return pending;
    }

    /// <summary>After a reset: the dead-lettered records still unacknowledged keep holding the commit point.</summary>
    public void InheritDeadLetters(PartitionState previous) => DeadLettersPending = previous.DeadLettersPending;

    /// <summary>
    /// With nothing open and nothing uploading, skipped records past the last rotation are done: the commit
    /// point moves past them (a replay from there writes the same keys, as skipping changes none).
    /// </summary>
    public void CommitSkippedTail()
    {
        if (Open.Count == 0 && InFlight.Count == 0 && SkippedThrough > CommittableOffset)
        {
            CommittableOffset = SkippedThrough;
        }
    }

    public RotationState RotationState() => new(
        TopicPartition.Topic, TopicPartition.Partition.Value, RecordCount, bytes, Open.Count, FirstOffset, LastOffset, firstTimestamp, lastTimestamp, firstAppendTime, lastAppendTime);

    /// <summary>
    /// The open rotation was sealed (its commit offset covers the skipped records in it) or discarded (they are
    /// re-read). With nothing open, the skipped records since the last rotation stay skipped.
    /// </summary>
    public void ResetOpen()
    {
        if (Open.Count > 0)
        {
            SkippedThrough = -1;
        }

        Open.Clear();
        OpenAvroSchemas?.Clear();
        RecordCount = 0;
        bytes = 0;
        FirstOffset = -1;
    }

    public Task[] StartedTasks() => InFlight.Select(u => u.Task).OfType<Task>().ToArray();

    public void Cancel() => cts.Cancel();
}

/// <summary>The sealed segments of one rotation of a topic-partition and their upload.</summary>
internal sealed class RotationUpload(long commitOffset, List<ISealedSegment> segments, List<string?> avroSchemas, bool deterministic, DateTimeOffset sealedAt, DateTimeOffset firstAppendTime)
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

    /// <summary>Deletes the staged segments (after commit, or when the rotation is given up).</summary>
    public void DeleteSegments()
    {
        foreach (var segment in Segments)
        {
            segment.Delete();
        }
    }

    /// <summary>
    /// Deletes the staged segments on the thread pool: unlinking is blocking file-system work the consumer thread
    /// does not wait for. A failure leaves a file behind, which the next start clears (the disk is a cache).
    /// </summary>
    public void DeleteSegmentsInBackground() => ThreadPool.UnsafeQueueUserWorkItem(
        static upload =>
        {
            try
            {
                upload.DeleteSegments();
            }
            catch (Exception)
            {
                // Nothing to recover: the object is in S3 and the staged copy is only a cache.
            }
        },
        this,
        preferLocal: false);
}
