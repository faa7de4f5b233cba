namespace KafkaS3Sink.Formats;

/// <summary>Writes a sealed segment as JSON lines (one payload per line, <c>\n</c>-terminated), like Confluent's JsonFormat.</summary>
internal sealed class JsonLinesFormat : IObjectFormat
{
    public string Extension => "json";

    public string ContentType => "application/x-ndjson";

    public void Write(ISealedSegment segment, Stream destination)
    {
        using var reader = segment.OpenReader();
        while (reader.TryRead(out _, out var payload))
        {
            destination.Write(payload.Span);
            destination.WriteByte((byte)'\n');
        }
    }
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
