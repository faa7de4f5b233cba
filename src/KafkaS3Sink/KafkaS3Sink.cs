using Amazon.S3;
using KafkaS3Sink.Formats;
using KafkaS3Sink.Internal;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink;

/// <summary>
/// One sink: consumes its topics with a consumer group, stages records on local disk, uploads
/// finished files to S3 and commits offsets only after S3 acknowledged them. Made by <see cref="KafkaS3SinkBuilder"/>.
/// </summary>
public sealed class KafkaS3Sink : IDisposable
{
    private readonly KafkaS3SinkOptions options;
    private readonly IRecordConverter converter;
    private readonly IRecordConverter? keyConverter;
    private readonly IS3Partitioner partitioner;
    private readonly IRotationPolicy rotation;
    private readonly Func<KafkaS3SinkOptions, ISegmentBuffer> bufferFactory;
    private readonly IAmazonS3 s3;
    private readonly bool ownsS3;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TimeSpan drainTimeout;
    private readonly SinkControl control = new();
    private Func<SegmentBufferStatistics>? statistics;
    private Func<int>? uploadFailures;
    private volatile FaultRegistry faults = new();
    private int running;
    private volatile Exception? failure;
    private volatile bool stopped;

    internal KafkaS3Sink(
        KafkaS3SinkOptions options,
        IRecordConverter converter,
        IRecordConverter? keyConverter,
        IS3Partitioner partitioner,
        IRotationPolicy rotation,
        Func<KafkaS3SinkOptions, ISegmentBuffer> bufferFactory,
        IAmazonS3? s3,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        TimeSpan drainTimeout)
    {
        this.options = options;
        this.converter = converter;
        this.keyConverter = keyConverter;
        this.partitioner = partitioner;
        this.rotation = rotation;
        this.bufferFactory = bufferFactory;
        ownsS3 = s3 is null;
        this.s3 = s3 ?? S3ClientFactory.Create(options.S3);
        this.time = time;
        logger = loggerFactory.CreateLogger("KafkaS3Sink");
        this.drainTimeout = drainTimeout;
    }

    /// <summary>The sink's name.</summary>
    public string Name => options.Name;

    /// <summary>The validated options (for tests).</summary>
    internal KafkaS3SinkOptions Options => options;

    /// <summary>The partitioner (for tests).</summary>
    internal IS3Partitioner Partitioner => partitioner;

    /// <summary>Where the sink is in its life.</summary>
    public SinkState State => failure is not null ? SinkState.Failed
        : Volatile.Read(ref running) == 1 ? (control.OperatorPaused ? SinkState.Paused : SinkState.Running)
        : stopped ? SinkState.Stopped : SinkState.Created;

    /// <summary>Why the sink failed; <see langword="null"/> unless <see cref="State"/> is <see cref="SinkState.Failed"/>.</summary>
    public Exception? Failure => failure;

    /// <summary>Stops consuming (the consumer keeps polling, so it stays in its group) until <see cref="Resume"/>. Staged data stays staged.</summary>
    public void Pause() => control.PauseRequested = true;

    /// <summary>Resumes consuming after <see cref="Pause"/>.</summary>
    public void Resume() => control.PauseRequested = false;

    /// <summary>A snapshot of the sink's state for status pages and health checks.</summary>
    /// <returns>The snapshot.</returns>
    public KafkaS3SinkStatus GetStatus()
    {
        var stats = statistics?.Invoke() ?? default;
        var failing = faults.Snapshot();
        return new KafkaS3SinkStatus(
            Name,
            State,
            failure?.Message,
            control.BackpressurePaused,
            stats.OpenSegments,
            stats.StagedBytes,
            uploadFailures?.Invoke() ?? 0,
            control.OldestUncommitted,
            control.FencedPartitions)
        {
            RetryingSince = failing.Count > 0 ? failing[0].Since : null,
            Retrying = [.. failing.Select(f => string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"{(f.Partition is null ? string.Empty : f.Partition + ": ")}{f.What} failing since {f.Since:O} ({f.Attempts} attempts): {f.Error}"))],
            LastError = faults.LastError,
            StalledPartitions = control.StalledPartitions,
            KafkaUnreachableSince = control.KafkaUnreachableSince,
            MissingTopics = control.MissingTopics,
            Lag = control.Lag,
            RecordsSkipped = control.RecordsSkipped,
            RecordErrors = control.RecordErrors,
        };
    }

    /// <summary>
    /// Runs the sink until <paramref name="stoppingToken"/> is cancelled (then stops gracefully:
    /// finished uploads are committed, open segments are left for replay) or the sink fails.
    /// </summary>
    /// <param name="stoppingToken">Stops the sink.</param>
    /// <returns>A task that completes when the sink stopped; it faults with the reason if the sink failed.</returns>
    /// <exception cref="InvalidOperationException">The sink is already running.</exception>
    public Task RunAsync(CancellationToken stoppingToken)
    {
        if (Interlocked.Exchange(ref running, 1) == 1)
        {
            throw new InvalidOperationException($"Sink '{Name}' is already running.");
        }

        // The consumer is driven from one dedicated thread: librdkafka's poll, rebalance callbacks and
        // commits must not interleave with other threads.
        return Task.Factory.StartNew(
            () =>
            {
                try
                {
                    Log.Starting(logger, Name, string.Join(",", options.Topics), options.GroupId, options.Staging.Directory!);
                    if (keyConverter is not null && !options.WriteEnvelope)
                    {
                        Log.KeyConverterUnused(logger, Name);
                    }

                    if (options.Errors.DeadLetterTopic is not null && options.Errors.Tolerance == ErrorTolerance.None)
                    {
                        Log.DeadLetterTopicUnused(logger, Name);
                    }
                    failure = null;
                    stopped = false;
                    var runFaults = new FaultRegistry();
                    faults = runFaults;
                    Buffering.StagingCapacity.Check(options.Staging, logger);
                    using var stagingLock = Buffering.StagingLock.Acquire(options.Staging.Directory!);
                    using var buffer = bufferFactory(options);
                    statistics = () => buffer.Statistics;
                    SinkRunner? runner = null;
                    S3ObjectUploader? uploader = null;
                    using var metrics = new SinkMetrics(
                        Name, () => buffer.Statistics, () => uploader?.StagedObjectBytes ?? 0, () => runner?.Paused ?? false, control, time);
                    var throttle = new LogThrottle(time, TimeSpan.FromSeconds(30));
                    var retry = new RetryRunner(options.Retry, options.S3.MaxRetries, time, logger, runFaults, throttle, metrics.S3Retried);
                    var fence = new Upload.OwnershipFence(s3, options.S3, options.TopicsDir, retry, time, logger);
                    try
                    {
                        fence.StartAsync(stoppingToken).GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        // Stopped while probing the bucket (or waiting for S3 to answer it): nothing was consumed.
                        Log.Stopped(logger, Name);
                        return;
                    }

                    using (uploader = new S3ObjectUploader(
                        s3, options, FormatFor(options), fence, retry, time, logger, new UploadEvents(metrics.Uploaded, metrics.UploadFinished, metrics.S3Retried)))
                    {
                        var u = uploader;
                        uploadFailures = () => u.ConsecutiveFailures;
                        runner = new SinkRunner(options, converter, keyConverter, partitioner, rotation, buffer, uploader, fence, retry, metrics, time, logger, drainTimeout, control, throttle);
                        try
                        {
                            runner.Run(stoppingToken);
                        }
                        finally
                        {
                            runner.Dispose();

                            // Give-ups of multipart uploads are aborted (retried) before the sink ends, bounded.
                            uploader.FinishAborts(TimeSpan.FromSeconds(10));
                        }
                    }

                    Log.Stopped(logger, Name);
                }
                catch (Exception ex)
                {
                    failure = ex;
                    Log.Failed(logger, ex, Name);
                    throw;
                }
                finally
                {
                    statistics = null;
                    uploadFailures = null;
                    control.Reset();
                    faults = new FaultRegistry();
                    stopped = true;
                    Volatile.Write(ref running, 0);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    private static IObjectFormat FormatFor(KafkaS3SinkOptions options) => options.Format switch
    {
        OutputFormat.Parquet => new ParquetFormat(options.Compression),
        OutputFormat.Avro => new AvroFormat(options.Compression),
        OutputFormat.Bytes => new JsonLinesFormat(options.Compression, options.BytesExtension, System.Text.Encoding.UTF8.GetBytes(options.BytesSeparator)),
        _ => new JsonLinesFormat(options.Compression),
    };

    /// <summary>Releases the S3 client if the sink created it.</summary>
    public void Dispose()
    {
        if (ownsS3)
        {
            s3.Dispose();
        }
    }
}

/// <summary>Where a sink is in its life.</summary>
public enum SinkState
{
    /// <summary>Built, not started.</summary>
    Created,

    /// <summary>Consuming and uploading.</summary>
    Running,

    /// <summary>Running, with consumption paused on request (<see cref="KafkaS3Sink.Pause"/>).</summary>
    Paused,

    /// <summary>Stopped after an error; see <see cref="KafkaS3Sink.Failure"/>.</summary>
    Failed,

    /// <summary>Stopped on request.</summary>
    Stopped,
}

/// <summary>A snapshot of a sink, for status pages and health checks. Holds no secrets.</summary>
/// <param name="Name">The sink's name.</param>
/// <param name="State">Where the sink is in its life.</param>
/// <param name="Error">Why it failed, when it did.</param>
/// <param name="BackpressurePaused">Whether consumption is paused because the staging quota or disk is full.</param>
/// <param name="OpenSegments">Segments open for appending.</param>
/// <param name="StagedBytes">Bytes staged in segments.</param>
/// <param name="ConsecutiveUploadFailures">Failed S3 request attempts since the last successful upload.</param>
/// <param name="OldestUncommittedSince">When the oldest rotation not yet committed was sealed; null when none waits.</param>
/// <param name="FencedPartitions">
/// Assigned partitions (<c>topic[partition]</c>) that a newer owner fenced with conditional writes: this sink drops
/// their records until they are assigned again. Empty when none (see docs/guarantees.md).
/// </param>
public sealed record KafkaS3SinkStatus(
    string Name,
    SinkState State,
    string? Error,
    bool BackpressurePaused,
    int OpenSegments,
    long StagedBytes,
    int ConsecutiveUploadFailures,
    DateTimeOffset? OldestUncommittedSince,
    IReadOnlyList<string> FencedPartitions)
{
    /// <summary>When the longest-failing S3 operation that is being retried started failing; null when none is failing.</summary>
    public DateTimeOffset? RetryingSince { get; init; }

    /// <summary>The S3 operations failing and being retried now, oldest first, each with its partition (if any) and last error.</summary>
    public IReadOnlyList<string> Retrying { get; init; } = [];

    /// <summary>The last transient error the sink retried (it may have cleared since); null when none.</summary>
    public string? LastError { get; init; }

    /// <summary>
    /// Partitions the progress watchdog reports: records behind the end of the log and no upload or commit for
    /// <see cref="RetryOptions.StallTimeout"/>, each with what it waits for. Empty when none.
    /// </summary>
    public IReadOnlyList<string> StalledPartitions { get; init; } = [];

    /// <summary>Since when no Kafka broker is reachable; null while one is.</summary>
    public DateTimeOffset? KafkaUnreachableSince { get; init; }

    /// <summary>
    /// Subscribed topics the Kafka cluster does not have: nothing is consumed from them until they exist (a topic
    /// created later is picked up within <c>topic.metadata.refresh.interval.ms</c>, 5 minutes by default). Empty when none.
    /// </summary>
    public IReadOnlyList<string> MissingTopics { get; init; } = [];

    /// <summary>Records behind the end of the assigned partitions.</summary>
    public long Lag { get; init; }

    /// <summary>Bad records skipped (dead-lettered ones included) since the sink started, with <see cref="ErrorTolerance.All"/>.</summary>
    public long RecordsSkipped { get; init; }

    /// <summary>The last bad record of each partition that had one: <c>topic[partition]: offset N (reason, outcome): why</c>. Empty when none.</summary>
    public IReadOnlyList<string> RecordErrors { get; init; } = [];
}
