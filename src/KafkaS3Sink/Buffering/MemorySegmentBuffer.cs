using System.Buffers;
using System.Buffers.Binary;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// Stages segments in memory, in pooled chunks that grow from 4 KiB to 1 MiB per segment, so memory
/// grows with the bytes staged and the number of open segments (formatted objects are still written
/// to the staging folder before upload): for small deployments, and as the baseline the benchmarks
/// compare the file buffer against.
/// </summary>
internal sealed class MemorySegmentBuffer : ISegmentBuffer
{
    private const int FirstChunk = 4 * 1024;
    private const int MaxChunk = 1024 * 1024;
    private readonly OpenSegmentIndex<OpenMemorySegment> open = new();
    private long stagedBytes;

    public SegmentBufferStatistics Statistics => new(open.Count, 0, Interlocked.Read(ref stagedBytes));

    public IOpenSegment Open(SegmentDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var segment = new OpenMemorySegment(this, descriptor);
        open.Add(segment);
        return segment;
    }

    public void DiscardPartition(string topic, int partition)
    {
        foreach (var segment in open.OfPartition(topic, partition))
        {
            segment.Discard();
        }
    }

    public void Dispose()
    {
    }

    private void Closed(OpenMemorySegment segment) => open.Remove(segment);

    private static void ReturnChunks(List<byte[]> chunks)
    {
        foreach (var chunk in chunks)
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        chunks.Clear();
    }

    private sealed class OpenMemorySegment(MemorySegmentBuffer owner, SegmentDescriptor descriptor) : IOpenSegment
    {
        private readonly List<byte[]> chunks = [];
        private int used; // bytes used in the last chunk
        private long held;
        private long lastOffset = -1;
        private bool closed;

        public SegmentDescriptor Descriptor => descriptor;

        public long RecordCount { get; private set; }

        public long Bytes { get; private set; }

        public void Append(long offset, ReadOnlySpan<byte> payload)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            Span<byte> header = stackalloc byte[SegmentFileFormat.RecordHeaderSize];
            SegmentFileFormat.WriteRecordHeader(header, offset, payload);
            Write(header);
            Write(payload);
            RecordCount++;
            Bytes += payload.Length;
            lastOffset = offset;
        }

        public ISealedSegment Seal()
        {
            ObjectDisposedException.ThrowIf(closed, this);
            closed = true;
            owner.Closed(this);
            var total = LengthOfAll();
            return new SealedMemorySegment(owner, descriptor, [.. chunks], total, held, RecordCount, Bytes, lastOffset);
        }

        public void Discard()
        {
            if (closed)
            {
                return;
            }

            closed = true;
            owner.Closed(this);
            Interlocked.Add(ref owner.stagedBytes, -held);
            ReturnChunks(chunks);
        }

        private long LengthOfAll()
        {
            long total = 0;
            for (var i = 0; i < chunks.Count - 1; i++)
            {
                total += chunks[i].Length;
            }

            return total + used;
        }

        private void Write(ReadOnlySpan<byte> data)
        {
            while (data.Length > 0)
            {
                if (chunks.Count == 0 || used == chunks[^1].Length)
                {
                    var size = chunks.Count == 0 ? FirstChunk : Math.Min(chunks[^1].Length * 2, MaxChunk);
                    var chunk = ArrayPool<byte>.Shared.Rent(size);
                    chunks.Add(chunk);
                    used = 0;
                    held += chunk.Length;
                    Interlocked.Add(ref owner.stagedBytes, chunk.Length);
                }

                var last = chunks[^1];
                var n = Math.Min(data.Length, last.Length - used);
                data[..n].CopyTo(last.AsSpan(used));
                used += n;
                data = data[n..];
            }
        }
    }

    private sealed class SealedMemorySegment(
        MemorySegmentBuffer owner, SegmentDescriptor descriptor, List<byte[]> chunks, long length, long held, long records, long bytes, long lastOffset) : ISealedSegment
    {
        private int deleted;

        public SegmentDescriptor Descriptor => descriptor;

        public long RecordCount => records;

        public long Bytes => bytes;

        public long LastOffset => lastOffset;

        public ISegmentReader OpenReader()
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref deleted) == 1, this);
            return new MemorySegmentReader(chunks, length);
        }

        public void Delete()
        {
            if (Interlocked.Exchange(ref deleted, 1) == 0)
            {
                Interlocked.Add(ref owner.stagedBytes, -held);
                ReturnChunks(chunks);
            }
        }
    }

    private sealed class MemorySegmentReader(List<byte[]> chunks, long length) : ISegmentReader
    {
        private long position;
        private byte[] scratch = ArrayPool<byte>.Shared.Rent(4096);

        public bool TryRead(out long offset, out ReadOnlyMemory<byte> payload)
        {
            if (position >= length)
            {
                offset = -1;
                payload = default;
                return false;
            }

            Span<byte> header = stackalloc byte[SegmentFileFormat.RecordHeaderSize];
            Copy(header);
            var size = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            offset = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
            if (size > scratch.Length)
            {
                ArrayPool<byte>.Shared.Return(scratch);
                scratch = ArrayPool<byte>.Shared.Rent(size);
            }

            Copy(scratch.AsSpan(0, size));
            payload = scratch.AsMemory(0, size);
            return true;
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(scratch);
            scratch = [];
        }

        private void Copy(Span<byte> destination)
        {
            // Chunk sizes are powers of two from the pool; walk them to find the position.
            long start = 0;
            var written = 0;
            foreach (var chunk in chunks)
            {
                if (written == destination.Length)
                {
                    break;
                }

                var end = start + chunk.Length;
                var from = position + written;
                if (from < end)
                {
                    var inChunk = (int)(from - start);
                    var n = Math.Min(destination.Length - written, chunk.Length - inChunk);
                    chunk.AsSpan(inChunk, n).CopyTo(destination[written..]);
                    written += n;
                }

                start = end;
            }

            if (written < destination.Length)
            {
                throw new InvalidDataException("In-memory segment ends inside a record.");
            }

            position += destination.Length;
        }
    }
}
