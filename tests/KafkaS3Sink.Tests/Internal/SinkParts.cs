using Amazon.Runtime;
using Amazon.S3;
using KafkaS3Sink.Internal;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Tests.Internal;

/// <summary>The sink's internal stages wired for unit tests; S3 points at a closed port (nothing here uploads).</summary>
internal static class SinkParts
{
    public static (KafkaS3SinkOptions Options, UploadScheduler Uploads, SinkMetrics Metrics, RetryRunner Retry, LogThrottle Throttle) Build(string topic, TimeProvider time, Action<KafkaS3SinkOptions>? configure = null)
    {
        var options = new KafkaS3SinkOptions { Name = "t", BootstrapServers = "unused:9092", GroupId = "g" };
        options.Topics.Add(topic);
        options.S3.BucketName = "unused";
        options.Staging.Directory = Path.Combine(Path.GetTempPath(), "sink-parts-tests");
        configure?.Invoke(options);
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(30));
        var retry = new RetryRunner(new RetryOptions(), 3, time, NullLogger.Instance, new FaultRegistry(), throttle, _ => { });
        var s3 = new AmazonS3Client(new BasicAWSCredentials("a", "b"), new AmazonS3Config { ServiceURL = "http://127.0.0.1:9" });
        var fence = new OwnershipFence(s3, options.S3, options.TopicsDir, retry, time, NullLogger.Instance);
        var uploader = new S3ObjectUploader(s3, options, new global::KafkaS3Sink.Formats.JsonLinesFormat(), fence, retry, time, NullLogger.Instance, new UploadEvents(_ => { }, (_, _) => { }, _ => { }));
        var uploads = new UploadScheduler(options, uploader, TimeSpan.FromSeconds(1), NullLogger.Instance);
        var metrics = new SinkMetrics("t", () => default, () => 0, () => false, new SinkControl(), time);
        return (options, uploads, metrics, retry, throttle);
    }
}
