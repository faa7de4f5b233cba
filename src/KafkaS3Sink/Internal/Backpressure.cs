using System.Globalization;
using Confluent.Kafka;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Decides when consumption pauses and resumes, and where each paused partition is re-read from: the
/// staging quota and free disk (design invariant 8), too many uploads in flight, a failed staging write
/// (paused with backoff until the disk takes writes again) and the operator's pause. The consumer keeps polling throughout, so the member stays in its group.
/// Consumer thread only.
/// </summary>
internal sealed class Backpressure(
    KafkaS3SinkOptions options, ISegmentBuffer buffer, S3ObjectUploader uploader, UploadScheduler uploads, SinkControl control, SinkMetrics metrics, RetryRunner retry, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan DiskCheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>While paused: the first offset of each topic-partition that was not appended; consumption resumes there.</summary>
    private readonly Dictionary<TopicPartition, long> rewindTo = [];

    private IConsumer<byte[], byte[]>? consumer;
    private long nextDiskCheck;
    private bool lowDisk;
    private int writeFailures;
    private long writesRetryAt;

    /// <summary>Whether consumption is paused by backpressure (quota, disk, uploads, a failed write).</summary>
    public bool Paused { get; private set; }

    /// <summary>Whether consumption is paused on request.</summary>
    public bool OperatorPaused { get; private set; }

    /// <summary>Whether records must not be appended now.</summary>
    public bool Blocked => Paused || OperatorPaused;

    public void Attach(IConsumer<byte[], byte[]> c) => consumer = c;

    /// <summary>Staged bytes: segments plus formatted object files.</summary>
    public long StagedBytes => buffer.Statistics.StagedBytes + uploader.StagedObjectBytes;

    /// <summary>Whether appending <paramref name="payloadBytes"/> would pass the quota or the free-disk floor; sets the reason.</summary>
    public bool OverQuota(int payloadBytes, long now, out string? reason)
    {
        // With nothing staged a record is always accepted, or one larger than the quota would stall the sink.
        var staged = StagedBytes;
        if (staged > 0 && staged + payloadBytes + 16 > options.Staging.MaxStagedBytes)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"{staged:N0} bytes staged, the next record would pass Staging.MaxStagedBytes ({options.Staging.MaxStagedBytes:N0})");
            return true;
        }

        if (options.Staging.MinFreeDiskBytes > 0)
        {
            if (now >= nextDiskCheck)
            {
                nextDiskCheck = now + (long)(DiskCheckInterval.TotalSeconds * time.TimestampFrequency);
                lowDisk = FreeDiskBytes() < options.Staging.MinFreeDiskBytes;
            }

            if (lowDisk)
            {
                reason = string.Create(CultureInfo.InvariantCulture, $"{FreeDiskBytes():N0} bytes free on the staging volume of '{options.Staging.Directory}', below Staging.MinFreeDiskBytes ({options.Staging.MinFreeDiskBytes:N0}); {staged:N0} bytes staged by this sink");
                return true;
            }
        }

        reason = null;
        return false;
    }

    /// <summary>Pauses every assigned partition; <paramref name="rotateAll"/> seals what is staged so uploads free space.</summary>
    public void Pause(string reason, Action? rotateAll)
    {
        if (Paused)
        {
            return;
        }

        Paused = true;
        metrics.Paused();
        consumer!.Pause(consumer.Assignment);
        Log.PausedConsumption(logger, reason);
        rotateAll?.Invoke();
    }

    /// <summary>A staging write failed: pause, and do not resume before a backoff (retry model) has passed.</summary>
    public void WriteFailed(string reason)
    {
        writeFailures++;
        var delay = retry.Backoff(writeFailures);
        writesRetryAt = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        Pause(string.Create(CultureInfo.InvariantCulture, $"a staging write failed ({reason}); appends are tried again in {delay.TotalSeconds:0.0} s"), null);
    }

    /// <summary>A segment was sealed: the staging volume takes writes again.</summary>
    public void WritesSucceeded() => writeFailures = 0;

    /// <summary>A record that was fetched but not appended: the partition is re-read from it.</summary>
    public void NotAppended(TopicPartition tp, long offset)
    {
        if (!rewindTo.TryGetValue(tp, out var existing) || offset < existing)
        {
            rewindTo[tp] = offset;
            consumer!.Seek(new TopicPartitionOffset(tp, offset));
        }
    }

    /// <summary>Re-reads a partition from <paramref name="offset"/> (after a reset): through the pause bookkeeping while paused, at once otherwise.</summary>
    public void Rewind(TopicPartition tp, long offset)
    {
        if (Blocked)
        {
            NotAppended(tp, offset);
        }
        else
        {
            consumer!.Seek(new TopicPartitionOffset(tp, offset));
        }
    }

    /// <summary>A partition left this member: forget where it was to be re-read from.</summary>
    public void Forget(TopicPartition tp)
    {
        rewindTo.Remove(tp);
    }

    /// <summary>On the housekeeping cadence: the operator's pause, too many uploads, and resuming under the low watermarks.</summary>
    public void Update()
    {
        ApplyOperatorPause();
        if (!Paused)
        {
            if (uploads.InFlightSegments > UploadScheduler.MaxInFlightSegments)
            {
                Pause(string.Create(CultureInfo.InvariantCulture, $"{uploads.InFlightSegments} segments are uploading (more than {UploadScheduler.MaxInFlightSegments})"), null);
            }

            control.BackpressurePaused = Paused;
            return;
        }

        var staged = StagedBytes;
        var diskOk = options.Staging.MinFreeDiskBytes == 0 || FreeDiskBytes() >= options.Staging.MinFreeDiskBytes;
        if (staged < options.Staging.EffectiveResumeStagedBytes && diskOk
            && uploads.InFlightSegments <= UploadScheduler.MaxInFlightSegments / 2
            && time.GetTimestamp() >= writesRetryAt)
        {
            Paused = false;
            lowDisk = false;
            Log.ResumedConsumption(logger, staged);
            if (!OperatorPaused)
            {
                ResumeAll();
            }
        }
        else
        {
            // Partitions assigned while paused start paused too.
            consumer!.Pause(consumer.Assignment);
        }

        control.BackpressurePaused = Paused;
    }

    private void ApplyOperatorPause()
    {
        var requested = control.PauseRequested;
        if (requested && !OperatorPaused)
        {
            OperatorPaused = true;
            consumer!.Pause(consumer.Assignment);
            Log.OperatorPaused(logger);
        }
        else if (!requested && OperatorPaused)
        {
            OperatorPaused = false;
            Log.OperatorResumed(logger);
            if (!Paused)
            {
                ResumeAll();
            }
        }
        else if (OperatorPaused && !Paused)
        {
            // Partitions assigned while paused start paused too.
            consumer!.Pause(consumer.Assignment);
        }

        control.OperatorPaused = OperatorPaused;
    }

    private void ResumeAll()
    {
        rewindTo.Clear();
        consumer!.Resume(consumer.Assignment);
    }

    private long FreeDiskBytes()
    {
        try
        {
            return new DriveInfo(options.Staging.Directory!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue; // cannot tell: do not pause on a failed probe
        }
    }
}
