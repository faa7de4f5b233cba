namespace KafkaS3Sink.Buffering;

/// <summary>
/// An exclusive lock on a staging folder for the life of a sink run. Two sinks (in one process or two) must
/// never share a folder: each clears it when it starts. On Linux and macOS .NET implements the exclusive
/// share mode with an advisory lock, so a second .NET process gets a clear error instead of deleting the
/// first one's segments.
/// </summary>
internal sealed class StagingLock : IDisposable
{
    private readonly FileStream stream;

    private StagingLock(FileStream stream) => this.stream = stream;

    public static StagingLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, ".lock");
        try
        {
            return new StagingLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException ex)
        {
            throw new KafkaS3SinkException(
                $"The staging folder '{directory}' is in use by another sink (Staging.Directory must be unique per sink and process).", ex);
        }
    }

    public void Dispose() => stream.Dispose();
}
