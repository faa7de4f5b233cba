using Microsoft.Extensions.Logging;

namespace KafkaS3Sink;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Sink '{Sink}' starting: topics {Topics}, group '{GroupId}', staging in '{StagingDirectory}'.")]
    public static partial void Starting(ILogger logger, string sink, string topics, string groupId, string stagingDirectory);

    [LoggerMessage(2, LogLevel.Information, "Sink '{Sink}' stopped.")]
    public static partial void Stopped(ILogger logger, string sink);

    [LoggerMessage(3, LogLevel.Information, "Partitions assigned to sink '{Sink}': {Partitions}.")]
    public static partial void Assigned(ILogger logger, string sink, string partitions);

    [LoggerMessage(4, LogLevel.Information, "Partitions revoked from sink '{Sink}': {Partitions}.")]
    public static partial void Revoked(ILogger logger, string sink, string partitions);

    [LoggerMessage(5, LogLevel.Warning, "Partitions lost by sink '{Sink}': {Partitions}; their staged records are discarded and will be replayed by the new owner.")]
    public static partial void Lost(ILogger logger, string sink, string partitions);

    [LoggerMessage(6, LogLevel.Debug, "Uploaded s3 object '{Key}' ({Records} records, {Bytes} bytes).")]
    public static partial void Uploaded(ILogger logger, string key, long records, long bytes);

    [LoggerMessage(7, LogLevel.Warning, "Upload of '{Key}' failed (attempt {Attempt}); retrying in {Delay}.")]
    public static partial void UploadRetry(ILogger logger, Exception exception, string key, int attempt, TimeSpan delay);

    [LoggerMessage(8, LogLevel.Warning, "Aborting the multipart upload of '{Key}' failed; the bucket's lifecycle rule should clean it up.")]
    public static partial void AbortFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(9, LogLevel.Debug, "Committed offsets {Offsets}.")]
    public static partial void Committed(ILogger logger, string offsets);

    [LoggerMessage(10, LogLevel.Warning, "Offset commit failed for sink '{Sink}' ({Reason}); retrying in {Delay} ({Suppressed} similar warnings suppressed since the last one).")]
    public static partial void CommitFailed(ILogger logger, string sink, string reason, TimeSpan delay, int suppressed);

    [LoggerMessage(11, LogLevel.Warning, "Kafka consumer error: {Reason} ({Suppressed} similar warnings suppressed since the last one).")]
    public static partial void ConsumerError(ILogger logger, string reason, int suppressed);

    [LoggerMessage(12, LogLevel.Critical, "Sink '{Sink}' failed.")]
    public static partial void Failed(ILogger logger, Exception exception, string sink);

    [LoggerMessage(13, LogLevel.Warning, "In-flight uploads of {Partition} did not finish within {Timeout}; they were cancelled and will be replayed.")]
    public static partial void UploadsAbandoned(ILogger logger, string partition, TimeSpan timeout);

    [LoggerMessage(14, LogLevel.Warning, "Consumption paused: {Reason}. Staged data is being uploaded.")]
    public static partial void PausedConsumption(ILogger logger, string reason);

    [LoggerMessage(15, LogLevel.Information, "Consumption resumed; {StagedBytes} bytes staged.")]
    public static partial void ResumedConsumption(ILogger logger, long stagedBytes);

    [LoggerMessage(16, LogLevel.Error, "Appending the record at {Partition} offset {Offset} failed; the partition's open segments are discarded and re-read.")]
    public static partial void AppendFailed(ILogger logger, Exception exception, string partition, long offset);

    [LoggerMessage(17, LogLevel.Information, "Consumption paused by request.")]
    public static partial void OperatorPaused(ILogger logger);

    [LoggerMessage(18, LogLevel.Information, "Consumption resumed by request.")]
    public static partial void OperatorResumed(ILogger logger);

    [LoggerMessage(19, LogLevel.Warning, "Bucket '{Bucket}' does not honour conditional writes ({Reason}); writing without fencing older owners (S3.ConditionalWrites = Auto).")]
    public static partial void FencingUnsupported(ILogger logger, string bucket, string reason);

    [LoggerMessage(20, LogLevel.Information, "Conditional writes on bucket '{Bucket}': older owners of a partition are fenced (multipart completes fenced: {Multipart}).")]
    public static partial void FencingEnabled(ILogger logger, string bucket, bool multipart);

    [LoggerMessage(21, LogLevel.Warning, "Deleting the probe object '{Key}' failed.")]
    public static partial void ProbeCleanupFailed(ILogger logger, Exception exception, string key);

    [LoggerMessage(22, LogLevel.Error, "Fenced: {Reason} This sink stops writing the partition and drops its staged records; it commits nothing for it until the partition is assigned again.")]
    public static partial void Fenced(ILogger logger, string reason);

    [LoggerMessage(23, LogLevel.Information, "Sink '{Sink}' has a key converter but WriteEnvelope is off: keys are not written, so the key converter is not used.")]
    public static partial void KeyConverterUnused(ILogger logger, string sink);

    [LoggerMessage(24, LogLevel.Debug, "S3 {Operation} of '{Target}' failed ({Error}); retry {Attempt} in {Delay}.")]
    public static partial void S3RetryQuiet(ILogger logger, string operation, string target, int attempt, TimeSpan delay, string error);

    [LoggerMessage(25, LogLevel.Warning, "S3 {Operation} of '{Target}' failed ({Error}); failing for {FailingFor}, retry {Attempt} in {Delay}. Nothing is lost: staged records stay staged and nothing past S3 is committed ({Suppressed} similar warnings suppressed since the last one).")]
    public static partial void S3Retry(ILogger logger, string operation, string target, int attempt, TimeSpan failingFor, TimeSpan delay, string error, int suppressed);

    [LoggerMessage(26, LogLevel.Information, "S3 {Operation} of '{Target}' succeeded after failing for {FailingFor} ({Suppressed} similar recoveries not logged since the last one).")]
    public static partial void S3Recovered(ILogger logger, string operation, string target, TimeSpan failingFor, int suppressed);

    [LoggerMessage(27, LogLevel.Warning, "{Partition}: {Reason}; the partition's staged records are discarded and re-read from offset {Offset}.")]
    public static partial void PartitionReset(ILogger logger, Exception exception, string partition, string reason, long offset);

    [LoggerMessage(28, LogLevel.Warning, "Kafka brokers unreachable: {Reason}; the sink keeps retrying.")]
    public static partial void BrokersUnreachable(ILogger logger, string reason);

    [LoggerMessage(29, LogLevel.Information, "Kafka brokers reachable again after {Duration}.")]
    public static partial void BrokersReachable(ILogger logger, TimeSpan duration);

    [LoggerMessage(30, LogLevel.Warning, "Sink '{Sink}': leaving the consumer group failed; the group reassigns the partitions after session.timeout.ms.")]
    public static partial void CloseFailed(ILogger logger, Exception exception, string sink);

    [LoggerMessage(31, LogLevel.Information, "Aborted {Count} incomplete multipart upload(s) of {Partition} left by an earlier owner.")]
    public static partial void StaleUploadsAborted(ILogger logger, int count, string partition);

    [LoggerMessage(32, LogLevel.Warning, "{Partition}: no upload or commit for {Duration} while {Waiting} records wait (Retry.StallTimeout); {Detail}.")]
    public static partial void PartitionStalled(ILogger logger, string partition, TimeSpan duration, long waiting, string detail);

    [LoggerMessage(33, LogLevel.Information, "Cleared {Count} formatted object file(s) left in the staging folder by an earlier run.")]
    public static partial void StaleObjectFilesCleared(ILogger logger, int count);

    [LoggerMessage(34, LogLevel.Warning, "Listing incomplete multipart uploads in bucket '{Bucket}' is denied ({Error}); uploads left by earlier owners are not cleaned up (grant s3:ListBucketMultipartUploads, or keep a lifecycle rule that aborts them).")]
    public static partial void ListUploadsDenied(ILogger logger, string bucket, string error);

    [LoggerMessage(35, LogLevel.Warning, "The staging volume of '{Directory}' has {FreeBytes} bytes free, below Staging.MinFreeDiskBytes ({MinFreeBytes}): the sink stays paused until space is freed.")]
    public static partial void StagingVolumeFull(ILogger logger, string directory, long freeBytes, long minFreeBytes);

    [LoggerMessage(36, LogLevel.Warning, "Sink '{Sink}' did not stop within the host's shutdown timeout; it is abandoned. Nothing past what is in S3 was committed: the next start replays the rest. Keep the drain timeout below the host's ShutdownTimeout.")]
    public static partial void StopTimedOut(ILogger logger, string sink);

    [LoggerMessage(37, LogLevel.Error, "Bad record {Record} at stage {Stage} ({Class}) {Outcome} (errors.tolerance=all).{Content}")]
    public static partial void BadRecord(ILogger logger, Exception exception, string record, string stage, string @class, string outcome, string content);

    [LoggerMessage(38, LogLevel.Warning, "Bad record {Outcome} (errors.tolerance=all; {Suppressed} more since the last report; set Errors.LogErrors / errors.log.enable to log each): {Reason}")]
    public static partial void BadRecordsSkipped(ILogger logger, string reason, int suppressed, string outcome);

    [LoggerMessage(39, LogLevel.Warning, "Dead letters: {Problem} ({Suppressed} similar since the last report).")]
    public static partial void DeadLetterProblem(ILogger logger, string problem, int suppressed);

    [LoggerMessage(40, LogLevel.Information, "Producing to the dead-letter topic '{Topic}' works again.")]
    public static partial void DeadLettersRecovered(ILogger logger, string topic);

    [LoggerMessage(41, LogLevel.Information, "Created the dead-letter topic '{Topic}' (1 partition, replication factor {ReplicationFactor}).")]
    public static partial void DeadLetterTopicCreated(ILogger logger, string topic, short replicationFactor);

    [LoggerMessage(42, LogLevel.Warning, "Sink '{Sink}': Errors.DeadLetterTopic is set but Errors.Tolerance is None (errors.tolerance=none): a bad record stops the sink and nothing is dead-lettered. Set Errors.Tolerance = All to use the dead-letter topic.")]
    public static partial void DeadLetterTopicUnused(ILogger logger, string sink);

    [LoggerMessage(43, LogLevel.Information, "Sink '{Sink}' stopping: {Partitions} partition(s), {Uploading} rotation(s) uploading (given up to {DrainTimeout}); open segments are left for replay.")]
    public static partial void Stopping(ILogger logger, string sink, int partitions, int uploading, TimeSpan drainTimeout);

    [LoggerMessage(44, LogLevel.Warning, "Sink '{Sink}': leaving the consumer group (closing the Kafka consumer) did not finish within {Timeout}; the consumer is abandoned and the group reassigns its partitions after session.timeout.ms. Nothing uncommitted was committed: the next owner replays it.")]
    public static partial void CloseTimedOut(ILogger logger, string sink, TimeSpan timeout);

    [LoggerMessage(49, LogLevel.Warning, "Sink '{Sink}': a commit to the group coordinator did not finish within {Timeout} ({When}); going on without it. What it would have committed is left to the next owner's replay (same keys).")]
    public static partial void CommitTimedOut(ILogger logger, string sink, TimeSpan timeout, string when);

    [LoggerMessage(45, LogLevel.Information, "Sink '{Sink}' in the last {Interval}: {Records} records staged, {Objects} objects ({Bytes} bytes) uploaded, {Commits} commits; lag {Lag} records, {StagedBytes} bytes staged{Paused}.")]
    public static partial void Progress(ILogger logger, string sink, TimeSpan interval, long records, long objects, long bytes, long commits, long lag, long stagedBytes, string paused);

    [LoggerMessage(46, LogLevel.Information, "Worker '{WorkerId}' read the config topic '{Topic}': {Connectors} connector(s).")]
    public static partial void ConfigTopicLoaded(ILogger logger, string topic, int connectors, string workerId);

    [LoggerMessage(47, LogLevel.Warning, "Config topic '{Topic}': {Problem}.")]
    public static partial void ConfigTopicProblem(ILogger logger, string topic, string problem);

    [LoggerMessage(48, LogLevel.Error, "The config record '{Key}' could not take effect on this worker: {Reason}")]
    public static partial void ConfigRecordFailed(ILogger logger, Exception exception, string? key, string reason);

    [LoggerMessage(50, LogLevel.Warning, "Sink '{Sink}': the topic '{Topic}' does not exist in Kafka, so nothing is consumed from it: create it, or correct Topics (topics). A topic created later is picked up within topic.metadata.refresh.interval.ms (5 minutes by default).")]
    public static partial void TopicMissing(ILogger logger, string sink, string topic);

    [LoggerMessage(51, LogLevel.Information, "Sink '{Sink}': the topic '{Topic}' exists now.")]
    public static partial void TopicFound(ILogger logger, string sink, string topic);
}
