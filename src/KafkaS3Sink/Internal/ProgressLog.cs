using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Internal;

/// <summary>
/// Every <see cref="KafkaS3SinkOptions.ProgressLogInterval"/>, one Information line per sink with what moved since
/// the last one, so the default log level shows a working backup without a line per object. Silent while nothing
/// moves and nothing waits. Consumer thread only.
/// </summary>
internal sealed class ProgressLog(KafkaS3SinkOptions options, SinkMetrics metrics, SinkControl control, TimeProvider time, ILogger logger)
{
    private (long Records, long Objects, long Bytes, long Commits) last;
    private long lastAt = time.GetTimestamp();

    /// <summary>Logs the line when the interval has passed.</summary>
    public void Tick(long now, long stagedBytes, bool paused)
    {
        if (options.ProgressLogInterval is not { } interval || time.GetElapsedTime(lastAt, now) < interval)
        {
            return;
        }

        var totals = metrics.Totals;
        var moved = (totals.Records - last.Records, totals.Objects - last.Objects, totals.Bytes - last.Bytes, totals.Commits - last.Commits);
        var elapsed = time.GetElapsedTime(lastAt, now);
        last = totals;
        lastAt = now;
        if (moved is (0, 0, 0, 0) && control.Lag == 0)
        {
            return;
        }

        Log.Progress(logger, options.Name, TimeSpan.FromSeconds(Math.Round(elapsed.TotalSeconds)), moved.Item1, moved.Item2, moved.Item3, moved.Item4, control.Lag, stagedBytes, paused ? " (paused)" : string.Empty);
    }
}
