using System.Globalization;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// Where a staged segment lives, built from the segment's parts only when a file is opened, renamed or deleted
/// (and not kept: with 100,000 open segments two full path strings each would be ~37 MB). The folder string is
/// shared by every segment of a topic-partition. Names: <c>{start offset:D20}-{hash of the partition path:x16}-{n}</c>,
/// <c>.tmp</c> while written, <c>.seg</c> once sealed.
/// </summary>
internal readonly record struct SegmentFileName(string Directory, long StartOffset, ulong PathHash, long Sequence)
{
    /// <summary>The file while it is written.</summary>
    public string Staging => Build(".tmp");

    /// <summary>The file once sealed (fsynced and renamed).</summary>
    public string Sealed => Build(".seg");

    private string Build(string extension)
        => string.Create(CultureInfo.InvariantCulture, $"{Directory}{Path.DirectorySeparatorChar}{StartOffset:D20}-{PathHash:x16}-{Sequence}{extension}");
}
