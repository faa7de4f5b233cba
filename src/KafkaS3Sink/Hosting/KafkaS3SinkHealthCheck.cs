using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KafkaS3Sink.Hosting;

/// <summary>
/// Unhealthy when a sink failed, when an S3 operation has kept failing longer than the sink's
/// <see cref="RetryOptions.UnhealthyAfter"/>, when the progress watchdog reports stalled partitions, or when a
/// sealed rotation has waited too long for its commit; degraded while S3 requests are being retried, while no
/// Kafka broker is reachable, while a subscribed topic does not exist, while backpressure pauses a sink, or while a
/// sink is fenced out of partitions.
/// </summary>
internal sealed class KafkaS3SinkHealthCheck(KafkaS3SinkRegistry registry, TimeProvider time, KafkaS3SinkHealthOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var degraded = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        foreach (var name in registry.Names)
        {
            var sink = registry.Get(name).Sink!;
            var status = sink.GetStatus();
            data[name] = status.State.ToString();
            if (status.State == SinkState.Failed)
            {
                problems.Add($"sink '{name}' failed: {status.Error}");
            }

            if (status.RetryingSince is { } failingSince)
            {
                var failingFor = now - failingSince;
                var what = $"sink '{name}': S3 has been failing for {Format(failingFor)}, retrying ({string.Join("; ", status.Retrying.Take(3))})";
                (failingFor >= sink.Options.Retry.UnhealthyAfter ? problems : degraded).Add(what);
            }

            if (status.StalledPartitions.Count > 0)
            {
                problems.Add($"sink '{name}' is not making progress: {string.Join("; ", status.StalledPartitions)}");
            }

            if (status.OldestUncommittedSince is { } since && now - since > options.StalledCommit)
            {
                problems.Add($"sink '{name}': a rotation sealed at {since:O} is not committed yet");
            }

            if (status.KafkaUnreachableSince is { } down)
            {
                degraded.Add($"sink '{name}': no Kafka broker reachable for {Format(now - down)}");
            }

            if (status.MissingTopics.Count > 0)
            {
                degraded.Add($"sink '{name}': topic(s) {string.Join(", ", status.MissingTopics)} do not exist in Kafka, so nothing is consumed from them (create them, or correct Topics / topics)");
            }

            if (status.FencedPartitions.Count > 0)
            {
                degraded.Add($"sink '{name}' was fenced out of {string.Join(", ", status.FencedPartitions)} by a newer owner (another sink or group writes the same prefix, or this member was replaced)");
            }

            if (status.BackpressurePaused)
            {
                degraded.Add($"sink '{name}' is paused by backpressure (staging quota, free disk, uploads in flight or a failed staging write)");
            }
        }

        var result = problems.Count > 0 ? HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data)
            : degraded.Count > 0 ? HealthCheckResult.Degraded(string.Join("; ", degraded), data: data)
            : HealthCheckResult.Healthy($"{data.Count} sink(s) running", data);
        return Task.FromResult(result);
    }

    private static string Format(TimeSpan span) => span.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture);
}

/// <summary>Thresholds of the KafkaS3Sink health check (the S3 failure budget and the stall timeout are each sink's <see cref="RetryOptions"/>).</summary>
public sealed class KafkaS3SinkHealthOptions
{
    /// <summary>How long a sealed rotation may wait for its commit before the check is unhealthy. Default 10 minutes.</summary>
    public TimeSpan StalledCommit { get; set; } = TimeSpan.FromMinutes(10);
}
