namespace KafkaS3Sink.Formats;

/// <summary>Writes a sealed segment as JSON lines (one payload per line, <c>\n</c>-terminated), like Confluent's JsonFormat.</summary>
internal sealed class JsonLinesFormat(OutputCompression compression = OutputCompression.None) : IObjectFormat
{
    public string Extension => compression switch
    {
        OutputCompression.Gzip => "json.gz",
        OutputCompression.Zstd => "json.zst",
        _ => "json",
    };

    public string ContentType => compression switch
    {
        OutputCompression.Gzip => "application/gzip",
        OutputCompression.Zstd => "application/zstd",
        _ => "application/x-ndjson",
    };

    public void Write(ISealedSegment segment, Stream output)
    {
        using var destination = compression switch
        {
            OutputCompression.Gzip => new System.IO.Compression.GZipStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true),
            OutputCompression.Zstd => new ZstdSharp.CompressionStream(output, level: 3, leaveOpen: true),
            _ => (Stream)new NonClosingStream(output),
        };
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            destination.Write(payload.Span);
            destination.WriteByte((byte)'\n');
        }
    }
}

/// <summary>Passes writes through and leaves the inner stream open when disposed.</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => throw new NotSupportedException();
    }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    public override void WriteByte(byte value) => inner.WriteByte(value);
}

/// <summary>Turns a sealed segment into an object body.</summary>
internal interface IObjectFormat
{
    /// <summary>File extension without the dot, e.g. <c>json</c>.</summary>
    string Extension { get; }

    /// <summary>The object's Content-Type.</summary>
    string ContentType { get; }

    /// <summary>Writes the object body.</summary>
    void Write(ISealedSegment segment, Stream destination);
}
