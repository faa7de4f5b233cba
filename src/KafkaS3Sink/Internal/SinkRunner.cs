using Confluent.Kafka;
using KafkaS3Sink.Errors;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// The consume loop of one sink and its rebalance callbacks. Everything that touches the consumer
/// (polling, callbacks, pause/resume/seek, commits) runs on the one thread that calls <see cref="Run"/>;
/// uploads and partition set-up run on the thread pool and are only observed from that thread, so no
/// commit ever races a rebalance. The stages it drives, each in its own file: <see cref="RotationWriter"/>
/// (open segments, rotation), <see cref="UploadScheduler"/>, <see cref="CommitTracker"/>,
/// <see cref="Backpressure"/>, <see cref="StatusPublisher"/> and <see cref="PartitionAssignments"/> (the callbacks). The per-record path is <see cref="Process"/>;
/// everything else runs on a cadence (<see cref="Housekeeping"/>).
/// </summary>
internal sealed class SinkRunner : IDisposable
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The poll timeout while uploads or a commit are in flight: with no records arriving, housekeeping (which
    /// notices finished uploads and commits them) runs after each poll, so a long timeout would delay the commit
    /// of the last rotations by up to 100 ms each step.
    /// </summary>
    private static readonly TimeSpan BusyPollTimeout = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan HousekeepingInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan StatusInterval = TimeSpan.FromMilliseconds(100);

    private readonly KafkaS3SinkOptions options;
    private readonly IRotationPolicy rotation;
    private readonly SinkMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly LogThrottle throttle;
    private readonly UploadScheduler uploads;
    private readonly RotationWriter writer;
    private readonly CommitTracker commits;
    private readonly Backpressure backpressure;
    private readonly StatusPublisher status;
    private readonly ProgressLog progress;
    private readonly PartitionAssignments assignments;
    private readonly RecordPreparer preparer;
    private readonly DeadLetterQueue? deadLetters;
    private readonly MissingTopics missingTopics;

    private readonly List<(PartitionState State, Exception Reason)> problems = [];
    private IConsumer<byte[], byte[]>? consumer;
    private long nextHousekeeping;
    private long nextStatus;

    // The clock as the per-record path sees it, read again when the millisecond changes (see RefreshClock).
    private long clockTick = long.MinValue;
    private long now;
    private DateTimeOffset utcNow;

    public SinkRunner(
        KafkaS3SinkOptions options,
        IRecordConverter converter,
        IRecordConverter? keyConverter,
        IS3Partitioner partitioner,
        IRotationPolicy rotation,
        ISegmentBuffer buffer,
        S3ObjectUploader uploader,
        OwnershipFence fence,
        RetryRunner retry,
        SinkMetrics metrics,
        TimeProvider time,
        ILogger logger,
        TimeSpan drainTimeout,
        SinkControl control,
        LogThrottle throttle)
    {
        this.options = options;
        this.rotation = rotation;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        this.throttle = throttle;
        uploads = new UploadScheduler(options, uploader, drainTimeout, logger);
        writer = new RotationWriter(options, buffer, uploads, metrics, time);
        commits = new CommitTracker(options.Name, uploads, metrics, retry, throttle, time, logger);
        backpressure = new Backpressure(options, buffer, uploader, uploads, control, metrics, retry, time, logger);
        status = new StatusPublisher(control, retry.Faults, options.Retry, time, logger);
        progress = new ProgressLog(options, metrics, control, time, logger);
        missingTopics = new MissingTopics(options.Name, control, time, logger);
        if (options.Errors.DeadLetterTopic is not null && options.Errors.Tolerance == ErrorTolerance.All)
        {
            deadLetters = new DeadLetterQueue(options, retry, throttle, metrics, time, logger);
        }

        preparer = new RecordPreparer(options, converter, keyConverter, partitioner, new RecordErrorPolicy(options.Errors, deadLetters, metrics, control, throttle, logger));
        assignments = new PartitionAssignments(options.Name, buffer, uploader, fence, writer, uploads, commits, backpressure, deadLetters, drainTimeout, metrics, time, logger);
        writer.WriteFailed = OnWriteFailed;
        writer.Sealed = backpressure.WritesSucceeded;
    }

    /// <summary>Whether consumption is paused by backpressure.</summary>
    public bool Paused => backpressure.Paused;

    public void Run(CancellationToken stoppingToken)
    {
        deadLetters?.Start(stoppingToken);
        var c = BuildConsumer();
        consumer = c;
        assignments.Consumer = c;
        backpressure.Attach(c);
        var left = false;
        try
        {
            c.Subscribe(options.Topics);
            while (!stoppingToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? result = null;
                try
                {
                    result = c.Consume(uploads.InFlightSegments > 0 || commits.Busy ? BusyPollTimeout : PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    missingTopics.OnError(ex.Error);
                    ConsumerError(ex.Error.Code.ToString(), ex.Error.ToString());
                }

                RefreshClock(force: result is null);
                if (result is { IsPartitionEOF: false, Message: not null })
                {
                    Process(result);
                }

                if (result is null || now >= nextHousekeeping)
                {
                    Housekeeping(now);
                }
            }

            assignments.StopGracefully(c);
            left = true;
        }
        finally
        {
            metrics.PublishConsumed();
            if (!left)
            {
                assignments.LeaveAfterFailure(c);
            }

            consumer = null;
            missingTopics.WaitForCheck();

            // An abandoned close may still be running: disposing the handle under it could crash the process.
            if (!assignments.Abandoned)
            {
                c.Dispose();
            }
        }
    }

    /// <summary>Flushes (bounded) and closes the dead-letter producer.</summary>
    public void Dispose() => deadLetters?.Dispose();

    private IConsumer<byte[], byte[]> BuildConsumer()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnablePartitionEof = false,

            // Throughput: librdkafka's default (1 s) stops fetching whenever its queue is full, so fetching and
            // processing take turns; 10 ms keeps the queue filled while the sink works (see docs/configuration.md).
            FetchQueueBackoffMs = 10,

            // Health: the statistics say whether any broker is up.
            StatisticsIntervalMs = 1000,
        };
        foreach (var (key, value) in options.KafkaProperties)
        {
            config.Set(key, value);
        }

        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) =>
            {
                missingTopics.OnError(e);
                ConsumerError(e.Code.ToString(), e.ToString());
            })
            .SetLogHandler((_, m) =>
            {
                if (m.Level <= SyslogLevel.Warning)
                {
                    ConsumerError(m.Facility, $"{m.Facility}: {m.Message}");
                }
            })
            .SetStatisticsHandler((_, json) => status.OnStatistics(json))
            .SetPartitionsAssignedHandler((_, assigned) =>
            {
                missingTopics.OnAssigned(assigned);
                assignments.OnAssigned(assigned);
            })
            .SetPartitionsRevokedHandler((_, revoked) => assignments.OnRevoked(revoked))
            .SetPartitionsLostHandler((_, lost) => assignments.OnLost(lost))
            .Build();
    }

    /// <summary>The per-record path: convert, partition, append, and rotate when the policy says so.</summary>
    private void Process(ConsumeResult<byte[], byte[]> result)
    {
        // result.Topic and .Partition, not result.TopicPartition: that property allocates a new object per call.
        var state = assignments.StateOf(result.Topic, result.Partition.Value);
        if (state is null)
        {
            return;
        }

        // Records are staged before the partition's lease is taken (set-up still running): staging is local, only
        // the uploads wait for the lease (UploadScheduler.Start). Holding the partition instead re-fetched what it
        // had fetched, up to max.partition.fetch.bytes per partition, at every assignment.
        var tp = state.TopicPartition;
        var offset = result.Offset.Value;
        if (state.StartOffset < 0)
        {
            state.StartOffset = offset;
        }

        state.Position = offset + 1;
        if (backpressure.Blocked)
        {
            // Fetched before the pause took effect: not appended, re-read after resume.
            backpressure.NotAppended(tp, offset);
            return;
        }

        if (!preparer.TryPrepare(state, result, out var prepared))
        {
            return;
        }

        var (record, path, payload, avroSchema) = prepared;

        // Backpressure: a record that would pass the quota is not appended; the partition is re-read from it.
        if (backpressure.OverQuota(payload.Length, now, out var reason))
        {
            backpressure.Pause(reason!, () => writer.RotateAll(assignments.Partitions.Values));
            backpressure.NotAppended(tp, offset);
            return;
        }

        if (!writer.Append(state, path, offset, payload.Span, avroSchema))
        {
            return;
        }

        state.OnAppended(record, payload.Length, utcNow);
        metrics.RecordConsumed();
        if (rotation.ShouldRotate(state.RotationState()))
        {
            writer.Rotate(state, deterministic: rotation.IsReplayDeterministic);
        }
    }

    /// <summary>
    /// Reads the clock (monotonic and UTC) when forced or when the coarse millisecond tick has moved: at hundreds of
    /// thousands of records a second, reading both clocks for every record was 7 % of the consumer thread (a
    /// sampled profile, 200 B records: clock_gettime under a hypervisor), and nothing per record needs finer time
    /// than a millisecond (append times for time-based rotation, the housekeeping cadence, the disk check).
    /// </summary>
    private void RefreshClock(bool force)
    {
        var tick = Environment.TickCount64;
        if (force || tick != clockTick)
        {
            clockTick = tick;
            now = time.GetTimestamp();
            utcNow = time.GetUtcNow();
        }
    }

    /// <summary>Every 20 ms (or when a poll returned nothing): set-ups, commits, backpressure; every 100 ms (and at once when a stalled partition moves again) timers and status.</summary>
    private void Housekeeping(long now)
    {
        nextHousekeeping = now + Ticks(HousekeepingInterval);
        metrics.PublishConsumed();
        var partitions = assignments.Partitions;
        foreach (var state in partitions.Values)
        {
            if (!state.Ready && state.Setup.IsCompleted && TryMakeReady(state))
            {
                // Rotations sealed while the lease was being taken start uploading now.
                uploads.Start(state);
            }
        }

        deadLetters?.Poll(partitions);
        problems.Clear();
        commits.Collect(partitions.Values, problems);
        foreach (var (state, reason) in problems)
        {
            if (reason is OwnershipLostException lost)
            {
                assignments.Fence(state, lost);
            }
            else
            {
                assignments.Reset(state, reason);
            }
        }

        // A stalled partition that moved again is shown as moving before its commit starts: a reader that sees the
        // commit in Kafka sees the status that follows it.
        if (commits.StalledPartitionMoved)
        {
            PublishStatus();
        }

        commits.CommitDue(consumer!, partitions);
        backpressure.Update();
        if (now >= nextStatus || commits.StalledPartitionMoved)
        {
            nextStatus = now + Ticks(StatusInterval);
            writer.RotateOnTimers(partitions.Values, rotation);
            PublishStatus();
            progress.Tick(now, backpressure.StagedBytes, backpressure.Blocked);
            missingTopics.Tick(consumer!);
        }
    }

    private void PublishStatus()
    {
        commits.StalledPartitionMoved = false;
        status.Publish(consumer!, assignments.Partitions, assignments.Fenced, backpressure.OperatorPaused);
    }

    /// <summary>Whether the partition's set-up (lease) is done; throws its permanent failure.</summary>
    private static bool TryMakeReady(PartitionState state)
    {
        if (state.Setup.IsCompletedSuccessfully)
        {
            state.MarkReady(state.Setup.Result);
            return true;
        }

        if (state.Setup.IsFaulted && !state.Token.IsCancellationRequested)
        {
            var cause = state.Setup.Exception!.GetBaseException();
            throw new KafkaS3SinkException($"{state.Name}: the partition could not be set up: {cause.Message}", cause);
        }

        return false;
    }

    /// <summary>A staging write failed: the partition is re-read from its open rotation once the disk takes writes again.</summary>
    private void OnWriteFailed(PartitionState state, long rewind, Exception ex)
    {
        if (throttle.ShouldLog("append", out _))
        {
            Log.AppendFailed(logger, ex, state.Name, rewind);
        }

        backpressure.WriteFailed(ex.Message);
        backpressure.NotAppended(state.TopicPartition, rewind);
    }

    private void ConsumerError(string kind, string reason)
    {
        if (throttle.ShouldLog("kafka " + kind, out var suppressed))
        {
            Log.ConsumerError(logger, reason, suppressed);
        }
    }

    private long Ticks(TimeSpan interval) => (long)(interval.TotalSeconds * time.TimestampFrequency);
}
