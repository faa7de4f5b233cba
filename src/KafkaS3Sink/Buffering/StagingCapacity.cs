using System.Globalization;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Buffering;

/// <summary>Checks at start that the staging volume can hold what the quota settings ask for.</summary>
internal static class StagingCapacity
{
    /// <summary>Fails when the volume is smaller than <see cref="StagingOptions.MinFreeDiskBytes"/> (the sink would pause forever); warns when it is that full already.</summary>
    /// <exception cref="KafkaS3SinkException">The staging volume cannot work with these settings.</exception>
    public static void Check(StagingOptions staging, ILogger logger)
    {
        if (staging.MinFreeDiskBytes == 0)
        {
            return;
        }

        Directory.CreateDirectory(staging.Directory!);
        DriveInfo drive;
        try
        {
            drive = new DriveInfo(staging.Directory!);
            _ = drive.TotalSize;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return; // cannot tell: the free-space check at runtime does not pause on a failed probe either
        }

        if (drive.TotalSize <= staging.MinFreeDiskBytes)
        {
            throw new KafkaS3SinkException(string.Create(
                CultureInfo.InvariantCulture,
                $"The staging volume of '{staging.Directory}' has {drive.TotalSize:N0} bytes in all, not more than Staging.MinFreeDiskBytes ({staging.MinFreeDiskBytes:N0}): the sink would pause before staging anything. Lower Staging.MinFreeDiskBytes or stage on a larger volume (Staging.Directory)."));
        }

        if (drive.AvailableFreeSpace < staging.MinFreeDiskBytes)
        {
            Log.StagingVolumeFull(logger, staging.Directory!, drive.AvailableFreeSpace, staging.MinFreeDiskBytes);
        }
    }
}
