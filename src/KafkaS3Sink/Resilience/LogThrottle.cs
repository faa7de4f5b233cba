using System.Collections.Concurrent;

namespace KafkaS3Sink.Resilience;

/// <summary>
/// Rate-limits repeated warnings: the first of a kind is logged, later ones of the same kind within the
/// window are counted, and the next one logged after the window says how many were suppressed.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan window)
{
    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);

    /// <summary>Whether to log a message of this kind now; <paramref name="suppressed"/> tells how many were held back before it.</summary>
    public bool ShouldLog(string kind, out int suppressed)
    {
        var now = time.GetTimestamp();
        var entry = entries.GetOrAdd(kind, static _ => new Entry());
        lock (entry)
        {
            if (entry.LoggedAt != 0 && time.GetElapsedTime(entry.LoggedAt, now) < window)
            {
                entry.Suppressed++;
                suppressed = 0;
                return false;
            }

            suppressed = entry.Suppressed;
            entry.Suppressed = 0;
            entry.LoggedAt = now;
            return true;
        }
    }

    private sealed class Entry
    {
        public long LoggedAt { get; set; }

        public int Suppressed { get; set; }
    }
}
