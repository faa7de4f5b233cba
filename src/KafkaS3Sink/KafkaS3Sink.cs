using Amazon.S3;
using KafkaS3Sink.Formats;
using KafkaS3Sink.Internal;
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
    private readonly IS3Partitioner partitioner;
    private readonly IRotationPolicy rotation;
    private readonly Func<KafkaS3SinkOptions, ISegmentBuffer> bufferFactory;
    private readonly IAmazonS3 s3;
    private readonly bool ownsS3;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly TimeSpan drainTimeout;
    private int running;

    internal KafkaS3Sink(
        KafkaS3SinkOptions options,
        IRecordConverter converter,
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
                    using var buffer = bufferFactory(options);
                    SinkRunner? runner = null;
                    S3ObjectUploader? uploader = null;
                    using var metrics = new SinkMetrics(
                        Name, () => buffer.Statistics, () => uploader?.StagedObjectBytes ?? 0, () => runner?.Paused ?? false);
                    using (uploader = new S3ObjectUploader(s3, options.S3, options.Staging.Directory!, new JsonLinesFormat(), time, logger, metrics.Uploaded))
                    {
                        runner = new SinkRunner(options, converter, partitioner, rotation, buffer, uploader, metrics, time, logger, drainTimeout);
                        runner.Run(stoppingToken);
                    }
                    Log.Stopped(logger, Name);
                }
                catch (Exception ex)
                {
                    Log.Failed(logger, ex, Name);
                    throw;
                }
                finally
                {
                    Volatile.Write(ref running, 0);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>Releases the S3 client if the sink created it.</summary>
    public void Dispose()
    {
        if (ownsS3)
        {
            s3.Dispose();
        }
    }
}
