using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace KafkaS3Sink.Hosting;

/// <summary>
/// Unhealthy when a sink failed, when uploads keep failing, or when a sealed rotation has waited too long
/// for its commit; degraded while backpressure pauses a sink or while a sink is fenced out of partitions.
/// </summary>
internal sealed class KafkaS3SinkHealthCheck(KafkaS3SinkRegistry registry, TimeProvider time, KafkaS3SinkHealthOptions options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var degraded = new List<string>();
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var name in registry.Names)
        {
            var status = registry.Get(name).Sink!.GetStatus();
            data[name] = status.State.ToString();
            if (status.State == SinkState.Failed)
            {
                problems.Add($"sink '{name}' failed: {status.Error}");
            }

            if (status.ConsecutiveUploadFailures >= options.UploadFailures)
            {
                problems.Add($"sink '{name}': {status.ConsecutiveUploadFailures} upload attempts failed in a row");
            }

            if (status.OldestUncommittedSince is { } since && time.GetUtcNow() - since > options.StalledCommit)
            {
                problems.Add($"sink '{name}': a rotation sealed at {since:O} is not committed yet");
            }

            if (status.FencedPartitions.Count > 0)
            {
                degraded.Add($"sink '{name}' was fenced out of {string.Join(", ", status.FencedPartitions)} by a newer owner (another sink or group writes the same prefix, or this member was replaced)");
            }

            if (status.BackpressurePaused)
            {
                degraded.Add($"sink '{name}' is paused by backpressure (staging quota or free disk)");
            }
        }

        var result = problems.Count > 0 ? HealthCheckResult.Unhealthy(string.Join("; ", problems), data: data)
            : degraded.Count > 0 ? HealthCheckResult.Degraded(string.Join("; ", degraded), data: data)
            : HealthCheckResult.Healthy($"{data.Count} sink(s) running", data);
        return Task.FromResult(result);
    }
}

/// <summary>Thresholds of the KafkaS3Sink health check.</summary>
public sealed class KafkaS3SinkHealthOptions
{
    /// <summary>Failed upload attempts in a row that make the check unhealthy. Default 3.</summary>
    public int UploadFailures { get; set; } = 3;

    /// <summary>How long a sealed rotation may wait for its commit before the check is unhealthy. Default 10 minutes.</summary>
    public TimeSpan StalledCommit { get; set; } = TimeSpan.FromMinutes(10);
}
