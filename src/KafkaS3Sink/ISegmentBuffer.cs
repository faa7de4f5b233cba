namespace KafkaS3Sink;

/// <summary>
/// Stages records of open output files (segments) until rotation, and keeps sealed segments until
/// they are uploaded. The default is a file-backed buffer on local disk; the local disk is a cache,
/// never the truth (Kafka's committed offsets and the objects in S3 are).
/// </summary>
public interface ISegmentBuffer : IDisposable
{
    /// <summary>Opens a new, empty segment for appending.</summary>
    /// <param name="descriptor">Which topic-partition, path and first offset the segment holds.</param>
    /// <returns>The open segment.</returns>
    IOpenSegment Open(SegmentDescriptor descriptor);

    /// <summary>Discards everything staged for a topic-partition (open and sealed), e.g. on assignment or loss.</summary>
    /// <param name="topic">Topic name.</param>
    /// <param name="partition">Partition number.</param>
    void DiscardPartition(string topic, int partition);

    /// <summary>What the buffer holds now. Read from the sink's consumer thread and by metrics.</summary>
    SegmentBufferStatistics Statistics { get; }
}

/// <summary>A snapshot of what a segment buffer holds.</summary>
/// <param name="OpenSegments">Segments open for appending.</param>
/// <param name="OpenHandles">File handles open for appending (0 for an in-memory buffer).</param>
/// <param name="StagedBytes">Bytes staged in open and sealed segments not yet deleted (file sizes, or memory held).</param>
public readonly record struct SegmentBufferStatistics(int OpenSegments, int OpenHandles, long StagedBytes);

/// <summary>Identifies a segment: the records of one topic-partition for one partition path.</summary>
/// <param name="Topic">Topic name.</param>
/// <param name="Partition">Partition number.</param>
/// <param name="PartitionPath">The encoded partition path.</param>
/// <param name="StartOffset">Offset of the segment's first record; part of the object key.</param>
public sealed record SegmentDescriptor(string Topic, int Partition, string PartitionPath, long StartOffset);

/// <summary>A segment open for appending.</summary>
public interface IOpenSegment
{
    /// <summary>The segment's identity.</summary>
    SegmentDescriptor Descriptor { get; }

    /// <summary>Records appended so far.</summary>
    long RecordCount { get; }

    /// <summary>Payload bytes appended so far.</summary>
    long Bytes { get; }

    /// <summary>Appends a record.</summary>
    /// <param name="offset">The record's Kafka offset.</param>
    /// <param name="payload">The record's payload.</param>
    void Append(long offset, ReadOnlySpan<byte> payload);

    /// <summary>Makes the segment durable and immutable (flush, fsync, atomic rename for files).</summary>
    /// <returns>The sealed segment.</returns>
    ISealedSegment Seal();

    /// <summary>Drops the segment and what it staged.</summary>
    void Discard();
}

/// <summary>A sealed, immutable segment waiting for upload.</summary>
public interface ISealedSegment
{
    /// <summary>The segment's identity.</summary>
    SegmentDescriptor Descriptor { get; }

    /// <summary>Number of records.</summary>
    long RecordCount { get; }

    /// <summary>Payload bytes.</summary>
    long Bytes { get; }

    /// <summary>Offset of the last record.</summary>
    long LastOffset { get; }

    /// <summary>Opens a reader over the records, in append order. May be called more than once, on any thread (uploads run on the thread pool).</summary>
    /// <returns>A reader; dispose it when done.</returns>
    ISegmentReader OpenReader();

    /// <summary>Deletes the segment once its object is in S3 (or when it is discarded). May be called on any thread, also while a reader is open or being opened; a second call does nothing.</summary>
    void Delete();
}

/// <summary>Reads a sealed segment's records in order.</summary>
public interface ISegmentReader : IDisposable
{
    /// <summary>Reads the next record.</summary>
    /// <param name="offset">The record's Kafka offset.</param>
    /// <param name="payload">The payload; valid until the next call.</param>
    /// <returns><see langword="false"/> at the end of the segment.</returns>
    bool TryRead(out long offset, out ReadOnlyMemory<byte> payload);
}
