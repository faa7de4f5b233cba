namespace KafkaS3Sink.Upload;

/// <summary>What an uploader reports to the sink's metrics.</summary>
internal sealed record UploadEvents(Action<long> Uploaded, Action<TimeSpan, bool> Finished, Action<string> Retried);

/// <summary>A staged segment could not be read or formatted: the partition is re-read from its last commit.</summary>
internal sealed class StagedDataException(SegmentDescriptor segment, Exception inner)
    : KafkaS3SinkException($"The staged segment of {segment.Topic}[{segment.Partition}] path '{segment.PartitionPath}' from offset {segment.StartOffset} cannot be read: {inner.Message}", inner)
{
    /// <summary>The staged-data failure in an exception's chain, however it was wrapped (the SDK wraps what a body stream throws); null when there is none.</summary>
    public static StagedDataException? In(Exception? exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is StagedDataException staged)
            {
                return staged;
            }
        }

        return null;
    }
}

/// <summary>S3 refused a request for good (credentials, permissions, a missing bucket): the sink fails, saying what to fix.</summary>
internal sealed class S3PermanentException(string message, Exception inner) : KafkaS3SinkException(message, inner);
