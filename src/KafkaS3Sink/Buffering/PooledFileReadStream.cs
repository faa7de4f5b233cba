using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// A forward-only read of a file through a buffer rented from the shared pool. A <see cref="FileStream"/> allocates
/// its buffer per instance, and a segment is opened twice per upload (the SDK reads a body to sign it and again to
/// send it): two 64 KiB arrays per object, alive for the whole upload, so a collection during it promotes them.
/// </summary>
internal sealed class PooledFileReadStream : Stream
{
    private readonly SafeFileHandle handle;
    private byte[] buffer;
    private int start;
    private int end;
    private long fileOffset;

    /// <param name="path">The file, opened for reading; it may be deleted while open.</param>
    /// <param name="bufferSize">Bytes read from the file at a time (at least this many are rented).</param>
    public PooledFileReadStream(string path, int bufferSize)
    {
        handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => fileOffset - (end - start);
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(buffer.Length == 0, this);
        if (start == end)
        {
            if (destination.Length >= buffer.Length)
            {
                // Larger than the buffer: straight into the caller's memory.
                var direct = RandomAccess.Read(handle, destination, fileOffset);
                fileOffset += direct;
                return direct;
            }

            start = 0;
            end = RandomAccess.Read(handle, buffer, fileOffset);
            fileOffset += end;
        }

        var n = Math.Min(end - start, destination.Length);
        buffer.AsSpan(start, n).CopyTo(destination);
        start += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && buffer.Length > 0)
        {
            handle.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }

        base.Dispose(disposing);
    }
}
