using System.Buffers;
using System.Buffers.Binary;

namespace KafkaS3Sink.Buffering;

/// <summary>The sealed side of <see cref="FileSegmentBuffer"/>: completing a seal, reading and deleting segments (upload threads).</summary>
internal sealed partial class FileSegmentBuffer
{
    /// <summary>
    /// The sealed side of a segment: it takes no more records. With <c>FsyncOnSeal</c> its seal completes (fsync, then
    /// the rename from <c>.tmp</c> to <c>.seg</c>) on its first read, on the upload's thread; until then, if that fails,
    /// and without <c>FsyncOnSeal</c>, the file keeps its <c>.tmp</c> name. Thread-safe: the upload reads it while the
    /// consumer thread may delete it (both lock the segment, which nothing else locks: a private class).
    /// </summary>
    private sealed partial class FileSegment
    {
        private bool renamed;
        private bool deleted;

        public long LastOffset => lastOffset;

        public ISegmentReader OpenReader() => new FileSegmentReader(Complete(), Descriptor, fileLength);

        public void Delete()
        {
            lock (this)
            {
                if (deleted)
                {
                    return;
                }

                deleted = true;
                Interlocked.Add(ref Owner.stagedBytes, -fileLength);
                DeleteQuietly(renamed ? Name.Sealed : Name.Staging);
            }
        }

        /// <summary>With <c>FsyncOnSeal</c>, makes the file durable (fsync) and gives it its sealed name, once; returns its path.</summary>
        private string Complete()
        {
            lock (this)
            {
                ObjectDisposedException.ThrowIf(deleted, this);
                var name = Name;
                if (renamed)
                {
                    return name.Sealed;
                }

                var stagingPath = name.Staging;
                if (!Owner.fsyncOnSeal)
                {
                    // Without the fsync the rename would mark nothing: the folder is a cache cleared at start, so
                    // a .tmp and a .seg file are alike after a crash. One metadata operation less per object.
                    return stagingPath;
                }

                using (var handle = File.OpenHandle(stagingPath, FileMode.Open, FileAccess.ReadWrite))
                {
                    RandomAccess.FlushToDisk(handle);
                }

                var sealedPath = name.Sealed;
                File.Move(stagingPath, sealedPath);
                renamed = true;
                return sealedPath;
            }
        }
    }

    private sealed class FileSegmentReader : ISegmentReader
    {
        private readonly PooledFileReadStream stream;
        private readonly string path;
        private byte[] buffer = ArrayPool<byte>.Shared.Rent(4096);

        public FileSegmentReader(string path, SegmentDescriptor expected, long fileLength)
        {
            this.path = path;

            // The read buffer is rented (no larger than the file): the SDK reads a body twice (signing, sending), and
            // a buffer allocated per reader would be two 64 KiB arrays per object, promoted by any collection during
            // the upload.
            var bufferSize = (int)Math.Clamp(fileLength, 4096, 64 * 1024);
            stream = new PooledFileReadStream(path, bufferSize);
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
