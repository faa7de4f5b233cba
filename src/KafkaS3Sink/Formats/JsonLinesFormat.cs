namespace KafkaS3Sink.Formats;

/// <summary>
/// Writes a sealed segment as its payloads, each followed by a separator: JSON lines (<c>\n</c>, like
/// Confluent's JsonFormat) or raw bytes (like its ByteArrayFormat), optionally gzip- or zstd-compressed.
/// </summary>
internal sealed class JsonLinesFormat(OutputCompression compression = OutputCompression.None, string baseExtension = "json", byte[]? separator = null) : IObjectFormat
{
    private readonly byte[] separator = separator ?? "\n"u8.ToArray();

    public string Extension => compression switch
    {
        OutputCompression.Gzip => baseExtension + ".gz",
        OutputCompression.Zstd => baseExtension + ".zst",
        _ => baseExtension,
    };

    public string ContentType => compression switch
    {
        OutputCompression.Gzip => "application/gzip",
        OutputCompression.Zstd => "application/zstd",
        _ => baseExtension == "json" ? "application/x-ndjson" : "application/octet-stream",
    };

    /// <summary>Uncompressed, the body is the payloads each followed by the separator: read straight from the segment.</summary>
    public Stream? OpenDirect(ISealedSegment segment) =>
        compression == OutputCompression.None ? new SegmentBodyStream(segment, separator, segment.Bytes + (segment.RecordCount * separator.Length)) : null;

    public void Write(ISealedSegment segment, string? avroSchema, Stream output)
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
            destination.Write(separator);
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
    /// <param name="segment">The staged records.</param>
    /// <param name="avroSchema">
    /// The Avro writer schema when the records are staged as Avro binary (Avro and Parquet output of an
    /// Avro converter); <see langword="null"/> when they are staged as JSON.
    /// </param>
    /// <param name="destination">Where the body goes (readable and seekable).</param>
    void Write(ISealedSegment segment, string? avroSchema, Stream destination);

    /// <summary>
    /// The body read straight from the segment, when the format can (no second staged copy): a seekable stream of
    /// known length; <see langword="null"/> when the body must be written first (compression, Parquet, Avro).
    /// </summary>
    Stream? OpenDirect(ISealedSegment segment) => null;
}
