using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Resilience;

/// <summary>
/// The one retry model of a sink: every S3 request (start-up probe, leases, object writes and their
/// parts) runs through <see cref="RunAsync{T}"/>. Transient failures are retried with exponential backoff
/// and jitter until the request succeeds, the caller cancels, or <see cref="RetryOptions.GiveUpAfter"/>
/// passes; each retry is counted and logged (rate-limited), and the failing operation shows in the
/// sink's status until it succeeds. Permanent failures are thrown at once.
/// </summary>
internal sealed class RetryRunner(RetryOptions options, int quietRetries, TimeProvider time, ILogger logger, FaultRegistry faults, LogThrottle throttle, Action<string> retried)
{
    /// <summary>What the sink's status reports about failing operations.</summary>
    public FaultRegistry Faults => faults;

    /// <summary>Runs <paramref name="operation"/> until it succeeds or fails permanently.</summary>
    /// <param name="what">The operation, e.g. <c>PUT</c> or <c>lease</c> (a metric tag and the log's kind).</param>
    /// <param name="target">The key (or lease) it works on, for the log.</param>
    /// <param name="partition">The topic-partition it serves (<c>topic[p]</c>), or null.</param>
    /// <param name="operation">The request.</param>
    /// <param name="cancellationToken">Stops retrying.</param>
    public async Task<T> RunAsync<T>(string what, string target, string? partition, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        ActiveFault? fault = null;
        long? firstFailure = null;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    return await operation(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (S3Errors.IsTransient(ex, cancellationToken, attempt))
                {
                    var now = time.GetTimestamp();
                    firstFailure ??= now;
                    var failingFor = time.GetElapsedTime(firstFailure.Value, now);
                    var error = S3Errors.Summary(ex, time.GetUtcNow());
                    if (fault is null)
                    {
                        fault = faults.Begin(what + " " + target, partition, time.GetUtcNow() - failingFor, error);
                    }
                    else
                    {
                        fault.Failed(error);
                    }

                    if (options.GiveUpAfter is { } giveUp && failingFor >= giveUp)
                    {
                        throw new KafkaS3SinkException($"S3 {what} of '{target}' kept failing for {failingFor:g} (Retry.GiveUpAfter = {giveUp:g}): {error}", ex);
                    }

                    retried(what);
                    var delay = Backoff(attempt);
                    if (attempt <= quietRetries)
                    {
                        Log.S3RetryQuiet(logger, what, target, attempt, delay, error);
                    }
                    else if (throttle.ShouldLog("s3 " + what, out var suppressed))
                    {
                        Log.S3Retry(logger, what, target, attempt, failingFor, delay, error, suppressed);
                    }

                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (fault is not null && firstFailure is not null)
            {
                fault.Dispose();
                if (throttle.ShouldLog("recovered " + what, out var suppressed))
                {
                    Log.S3Recovered(logger, what, target, time.GetElapsedTime(firstFailure.Value), suppressed);
                }
            }
        }
    }

    /// <summary>Runs a request that returns nothing (see <see cref="RunAsync{T}"/>).</summary>
    public Task RunAsync(string what, string target, string? partition, Func<CancellationToken, Task> operation, CancellationToken cancellationToken) =>
        RunAsync<bool>(
            what,
            target,
            partition,
            async ct =>
            {
                await operation(ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    /// <summary>Exponential from the initial backoff, capped, with equal jitter (half fixed, half random).</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponential = options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, options.MaxBackoff.TotalMilliseconds);
#pragma warning disable CA5394 // jitter, not security
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
#pragma warning restore CA5394
    }
}
