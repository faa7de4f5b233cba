using KafkaS3Sink.Upload;

namespace KafkaS3Sink.Formats;

/// <summary>
/// The body of an uncompressed JSON lines (or raw bytes) object, read straight from its sealed segment: each
/// payload followed by the separator, so the bytes are exactly what <see cref="JsonLinesFormat.Write"/> writes.
/// Its length is known and it is seekable (a seek re-reads from the start: the SDK reads the body once to sign
/// it and again to send it, and a retry starts over). A segment that cannot be read raises
/// <see cref="StagedDataException"/>, which is never retried.
/// </summary>
internal sealed class SegmentBodyStream(ISealedSegment segment, byte[] separator, long length) : Stream
{
    private ISegmentReader? reader;
    private ReadOnlyMemory<byte> pending;
    private int separatorLeft;
    private long position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var written = 0;
        try
        {
            while (written < buffer.Length)
            {
                if (!pending.IsEmpty)
                {
                    var n = Math.Min(pending.Length, buffer.Length - written);
                    pending.Span[..n].CopyTo(buffer[written..]);
                    pending = pending[n..];
                    written += n;
                }
                else if (separatorLeft > 0)
                {
                    var tail = separator.AsSpan(separator.Length - separatorLeft);
                    var n = Math.Min(tail.Length, buffer.Length - written);
                    tail[..n].CopyTo(buffer[written..]);
                    separatorLeft -= n;
                    written += n;
                }
                else
                {
                    reader ??= segment.OpenReader();
                    if (!reader.TryRead(out _, out pending))
                    {
                        break;
                    }

                    separatorLeft = separator.Length;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ObjectDisposedException)
        {
            throw new StagedDataException(segment.Descriptor, ex);
        }

        position += written;
        if (written == 0 && buffer.Length > 0 && position != length)
        {
            throw new StagedDataException(segment.Descriptor, new InvalidDataException($"the segment holds {position} bytes of body, not the {length} its records add up to."));
        }

        return written;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        if (target < position)
        {
            reader?.Dispose();
            reader = null;
            pending = default;
            separatorLeft = 0;
            position = 0;
        }

        Span<byte> skip = stackalloc byte[4096];
        while (position < target)
        {
            if (Read(skip[..(int)Math.Min(skip.Length, target - position)]) == 0)
            {
                break;
            }
        }

        return position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            reader?.Dispose();
            reader = null;
        }

        base.Dispose(disposing);
    }
}
