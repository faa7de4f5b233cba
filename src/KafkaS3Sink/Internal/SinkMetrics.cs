using System.Diagnostics.Metrics;

namespace KafkaS3Sink.Internal;

/// <summary>
/// The sink's instruments, on a <see cref="Meter"/> named <see cref="MeterName"/>; every measurement
/// carries the tag <c>kafkas3sink.sink</c> with the sink's name.
/// </summary>
internal sealed class SinkMetrics : IDisposable
{
    public const string MeterName = "KafkaS3Sink";

    private readonly Meter meter;
    private readonly KeyValuePair<string, object?> sinkTag;
    private readonly Counter<long> recordsConsumed;
    private readonly Counter<long> uploads;
    private readonly Counter<long> uploadedBytes;
    private readonly Counter<long> commits;
    private readonly Counter<long> forcedRotations;
    private readonly Counter<long> pauses;

    private readonly Histogram<double> uploadDuration;
    private readonly Counter<long> s3Retries;
    private readonly Counter<long> uploadFailures;
    private readonly Counter<long> fenced;
    private readonly Counter<long> recordsSkipped;
    private readonly Counter<long> recordsDeadLettered;

    public SinkMetrics(string sinkName, Func<SegmentBufferStatistics> buffer, Func<long> objectBytes, Func<bool> paused, SinkControl control, TimeProvider time)
    {
        meter = new Meter(MeterName);
        sinkTag = new KeyValuePair<string, object?>("kafkas3sink.sink", sinkName);
        var tag = sinkTag;
        recordsConsumed = meter.CreateCounter<long>("kafkas3sink.records.consumed", "{record}", "Records consumed and staged.");
        uploads = meter.CreateCounter<long>("kafkas3sink.uploads", "{object}", "Objects uploaded to S3.");
        uploadedBytes = meter.CreateCounter<long>("kafkas3sink.upload.bytes", "By", "Object bytes uploaded to S3.");
        commits = meter.CreateCounter<long>("kafkas3sink.commits", "{commit}", "Offset commits that succeeded.");
        forcedRotations = meter.CreateCounter<long>("kafkas3sink.rotations.forced", "{rotation}", "Rotations forced by the open-segment cap, the disk quota or a full disk.");
        pauses = meter.CreateCounter<long>("kafkas3sink.pauses", "{pause}", "Times consumption was paused by backpressure (quota, free disk, write failure).");
        meter.CreateObservableGauge("kafkas3sink.segments.open", () => new Measurement<int>(buffer().OpenSegments, tag), "{segment}", "Segments open for appending.");
        meter.CreateObservableGauge("kafkas3sink.segments.handles", () => new Measurement<int>(buffer().OpenHandles, tag), "{handle}", "File handles open for appending.");
        meter.CreateObservableGauge("kafkas3sink.staged.bytes", () => new Measurement<long>(buffer().StagedBytes + objectBytes(), tag), "By", "Bytes staged locally (segments and object files).");
        uploadDuration = meter.CreateHistogram<double>("kafkas3sink.upload.duration", "s", "Time to format and upload one object, retries included.");
        s3Retries = meter.CreateCounter<long>("kafkas3sink.s3.retries", "{attempt}", "S3 requests that failed transiently and were retried (tag operation: PUT, UploadPart, lease GET, …).");
        fenced = meter.CreateCounter<long>("kafkas3sink.partitions.fenced", "{partition}", "Times a newer owner fenced this sink out of a topic-partition (conditional writes).");
        uploadFailures = meter.CreateCounter<long>("kafkas3sink.upload.failures", "{object}", "Objects whose upload failed for good (a permanent S3 error; the sink fails).");
        recordsSkipped = meter.CreateCounter<long>("kafkas3sink.records.skipped", "{record}", "Bad records not written to S3 with errors.tolerance=all, dead-lettered ones included (tag reason: conversion, key-conversion, partitioning, oversized).");
        recordsDeadLettered = meter.CreateCounter<long>("kafkas3sink.records.deadlettered", "{record}", "Bad records the dead-letter topic acknowledged (tag reason, as for records.skipped).");
        meter.CreateObservableGauge("kafkas3sink.consumer.lag", () => new Measurement<long>(control.Lag, tag), "{record}", "Records behind the end of the assigned partitions.");
        meter.CreateObservableGauge(
            "kafkas3sink.oldest_record.age",
            () => new Measurement<double>(control.OldestRecordNotInS3 is { } t ? Math.Max(0, (time.GetUtcNow() - t).TotalSeconds) : 0, tag),
            "s",
            "How long the oldest record not yet committed to S3 has been staged (0 when none waits).");
        meter.CreateObservableGauge("kafkas3sink.paused", () => new Measurement<int>(paused() ? 1 : 0, tag), "{state}", "1 while consumption is paused by backpressure.");
    }

    private long totalRecords;
    private long totalObjects;
    private long totalBytes;
    private long totalCommits;

    /// <summary>Totals since the sink started, for the progress line.</summary>
    public (long Records, long Objects, long Bytes, long Commits) Totals
        => (Volatile.Read(ref totalRecords), Interlocked.Read(ref totalObjects), Interlocked.Read(ref totalBytes), Volatile.Read(ref totalCommits));

    private long publishedRecords;

    /// <summary>
    /// Consumer thread only (a plain increment). The counter instrument gets the records in batches
    /// (<see cref="PublishConsumed"/>, every housekeeping tick): a measurement per record costs every listener
    /// (OpenTelemetry's aggregation) a call per record. The first record is published at once.
    /// </summary>
    public void RecordConsumed()
    {
        if (totalRecords++ == 0)
        {
            PublishConsumed();
        }
    }

    /// <summary>Publishes the records consumed since the last call to the counter instrument. Consumer thread only.</summary>
    public void PublishConsumed()
    {
        var pending = totalRecords - publishedRecords;
        if (pending > 0)
        {
            publishedRecords = totalRecords;
            recordsConsumed.Add(pending, sinkTag);
        }
    }

    public void Uploaded(long bytes)
    {
        Interlocked.Increment(ref totalObjects);
        Interlocked.Add(ref totalBytes, bytes);
        uploads.Add(1, sinkTag);
        uploadedBytes.Add(bytes, sinkTag);
    }

    /// <summary>Consumer thread only.</summary>
    public void Committed()
    {
        totalCommits++;
        commits.Add(1, sinkTag);
    }

    public void UploadFinished(TimeSpan duration, bool succeeded)
    {
        uploadDuration.Record(duration.TotalSeconds, sinkTag);
        if (!succeeded)
        {
            uploadFailures.Add(1, sinkTag);
        }
    }

    public void S3Retried(string operation) => s3Retries.Add(1, sinkTag, new KeyValuePair<string, object?>("operation", operation));

    public void ForcedRotation() => forcedRotations.Add(1, sinkTag);

    public void Paused() => pauses.Add(1, sinkTag);

    public void Fenced() => fenced.Add(1, sinkTag);

    public void RecordSkipped(string reason) => recordsSkipped.Add(1, sinkTag, new KeyValuePair<string, object?>("reason", reason));

    public void RecordDeadLettered(string reason) => recordsDeadLettered.Add(1, sinkTag, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => meter.Dispose();
}
