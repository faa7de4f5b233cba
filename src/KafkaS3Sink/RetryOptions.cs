namespace KafkaS3Sink;

/// <summary>
/// How the sink rides out transient faults (S3 5xx/503/timeouts/refused or reset connections, Kafka
/// commit and coordinator errors): it retries with exponential backoff and full jitter for as long as it
/// runs, keeps what is staged and commits nothing past what is in S3. Permanent errors (rejected
/// credentials, a missing bucket, access denied) fail the sink at once, naming what to fix.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>The first backoff after a failure (<c>s3.retry.backoff.ms</c>); it doubles up to <see cref="MaxBackoff"/>. Default 200 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The longest backoff between two attempts. Default 10 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an S3 operation may keep failing before the sink reports itself Unhealthy (status and health
    /// check). The sink keeps retrying. Default 2 minutes.
    /// </summary>
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long an S3 operation may keep failing before the sink gives up and fails; <see langword="null"/>
    /// retries for as long as the sink runs. Default <see langword="null"/>.
    /// </summary>
    public TimeSpan? GiveUpAfter { get; set; }

    /// <summary>
    /// The progress watchdog: a topic-partition with records waiting (behind the end of its log, or staged in
    /// sealed rotations not yet in S3) that has uploaded and committed nothing for this long is reported as stalled (status and an Unhealthy health
    /// check naming it). Default 5 minutes.
    /// </summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(5);

    internal void Validate(List<string> errors)
    {
        if (InitialBackoff <= TimeSpan.Zero)
        {
            errors.Add($"Retry.InitialBackoff: must be positive (was {InitialBackoff}).");
        }

        if (MaxBackoff < InitialBackoff)
        {
            errors.Add($"Retry.MaxBackoff: must be at least Retry.InitialBackoff (was {MaxBackoff}).");
        }

        if (UnhealthyAfter <= TimeSpan.Zero)
        {
            errors.Add($"Retry.UnhealthyAfter: must be positive (was {UnhealthyAfter}).");
        }

        if (GiveUpAfter is { } giveUp && giveUp <= TimeSpan.Zero)
        {
            errors.Add($"Retry.GiveUpAfter: must be positive or null (was {giveUp}).");
        }

        if (StallTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Retry.StallTimeout: must be positive (was {StallTimeout}).");
        }
    }
}
