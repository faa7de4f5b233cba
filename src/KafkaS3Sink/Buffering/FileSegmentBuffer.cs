using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// Stages segments as files under one folder: <c>&lt;root&gt;/&lt;topic&gt;/&lt;partition&gt;/&lt;start&gt;-&lt;pathhash&gt;-&lt;n&gt;.seg</c>
/// (<c>.tmp</c> while open). The folder is a cache: it is cleared when the buffer is created.
/// </summary>
internal sealed class FileSegmentBuffer : ISegmentBuffer
{
    private readonly string root;
    private readonly bool fsyncOnSeal;
    private long sequence;

    public FileSegmentBuffer(string root, bool fsyncOnSeal)
    {
        this.root = Path.GetFullPath(root);
        this.fsyncOnSeal = fsyncOnSeal;

        // The disk is a cache, not the truth: whatever a previous run left is replayed from Kafka.
        if (Directory.Exists(this.root))
        {
            Directory.Delete(this.root, recursive: true);
        }

        Directory.CreateDirectory(this.root);
    }

    public IOpenSegment Open(SegmentDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var dir = PartitionDirectory(descriptor.Topic, descriptor.Partition);
        Directory.CreateDirectory(dir);
        var pathHash = XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(descriptor.PartitionPath));
        var n = Interlocked.Increment(ref sequence);
        var baseName = string.Create(CultureInfo.InvariantCulture, $"{descriptor.StartOffset:D20}-{pathHash:x16}-{n}");
        return new OpenFileSegment(descriptor, Path.Combine(dir, baseName), fsyncOnSeal);
    }

    public void DiscardPartition(string topic, int partition)
    {
        var dir = PartitionDirectory(topic, partition);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public void Dispose()
    {
    }

    private string PartitionDirectory(string topic, int partition)
        => Path.Combine(root, topic, partition.ToString(CultureInfo.InvariantCulture));

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The stream is closed by Seal or Discard, one of which always ends a segment's life.")]
    private sealed class OpenFileSegment : IOpenSegment
    {
        private readonly string basePath;
        private readonly bool fsync;
        private FileStream? stream;
        private long lastOffset = -1;

        public OpenFileSegment(SegmentDescriptor descriptor, string basePath, bool fsync)
        {
            Descriptor = descriptor;
            this.basePath = basePath;
            this.fsync = fsync;
            stream = new FileStream(basePath + ".tmp", FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 16 * 1024);
            stream.Write(SegmentFileFormat.EncodeHeader(descriptor));
        }

        public SegmentDescriptor Descriptor { get; }

        public long RecordCount { get; private set; }

        public long Bytes { get; private set; }

        public void Append(long offset, ReadOnlySpan<byte> payload)
        {
            var s = stream ?? throw new InvalidOperationException("The segment is sealed or discarded.");
            Span<byte> header = stackalloc byte[SegmentFileFormat.RecordHeaderSize];
            SegmentFileFormat.WriteRecordHeader(header, offset, payload);
            s.Write(header);
            s.Write(payload);
            RecordCount++;
            Bytes += payload.Length;
            lastOffset = offset;
        }

        public ISealedSegment Seal()
        {
            var s = stream ?? throw new InvalidOperationException("The segment is sealed or discarded.");
            s.Flush(flushToDisk: fsync);
            s.Dispose();
            stream = null;
            var final = basePath + ".seg";
            File.Move(basePath + ".tmp", final);
            return new SealedFileSegment(Descriptor, final, RecordCount, Bytes, lastOffset);
        }

        public void Discard()
        {
            stream?.Dispose();
            stream = null;
            File.Delete(basePath + ".tmp");
        }
    }

    private sealed class SealedFileSegment(SegmentDescriptor descriptor, string path, long records, long bytes, long lastOffset) : ISealedSegment
    {
        public SegmentDescriptor Descriptor => descriptor;

        public long RecordCount => records;

        public long Bytes => bytes;

        public long LastOffset => lastOffset;

        public ISegmentReader OpenReader() => new FileSegmentReader(path, descriptor);

        public void Delete() => File.Delete(path);
    }

    private sealed class FileSegmentReader : ISegmentReader
    {
        private readonly FileStream stream;
        private readonly string path;
        private byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);

        public FileSegmentReader(string path, SegmentDescriptor expected)
        {
            this.path = path;
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 64 * 1024);
            var header = SegmentFileFormat.TryReadHeader(stream);
            if (header != expected)
            {
                stream.Dispose();
                throw new InvalidDataException($"Segment file '{path}' has a missing or corrupt header.");
            }
        }

        public bool TryRead(out long offset, out ReadOnlyMemory<byte> payload)
        {
            Span<byte> header = stackalloc byte[SegmentFileFormat.RecordHeaderSize];
            var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read == 0)
            {
                offset = -1;
                payload = default;
                return false;
            }

            if (read < header.Length)
            {
                throw new InvalidDataException($"Segment file '{path}' ends inside a record header.");
            }

            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(header);
            offset = BinaryPrimitives.ReadInt64LittleEndian(header[4..]);
            if (length > buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = ArrayPool<byte>.Shared.Rent(length);
            }

            if (stream.ReadAtLeast(buffer.AsSpan(0, length), length, throwOnEndOfStream: false) < length)
            {
                throw new InvalidDataException($"Segment file '{path}' ends inside the record at offset {offset}.");
            }

            var crc = Crc32C.Append(Crc32C.Compute(header.Slice(4, 8)), buffer.AsSpan(0, length));
            if (crc != BinaryPrimitives.ReadUInt32LittleEndian(header[12..]))
            {
                throw new InvalidDataException($"Segment file '{path}': checksum mismatch in the record at offset {offset}.");
            }

            payload = buffer.AsMemory(0, length);
            return true;
        }

        public void Dispose()
        {
            stream.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }
}
