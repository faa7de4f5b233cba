namespace KafkaS3Sink.Configuration;

/// <summary>
/// The <c>kafkas3sink.*</c> keys: this sink's settings that Kafka Connect's S3 connector has no key for (the
/// staging disk, idle flush, fencing, the progress line), so a worker user can set them in a connector config.
/// </summary>
public static partial class KafkaConnectConfig
{
    /// <summary>The prefix of this sink's own connector-config keys.</summary>
    public const string SinkKeyPrefix = "kafkas3sink.";

    private static void ApplySinkKeys(KafkaS3SinkBuilder builder, ConnectConfigReader r)
    {
        var config = r.Config;
        var known = r.Known;
        var errors = r.Errors;
        long? Number(string key, long min)
        {
            var value = r.Long(key);
            if (value < min)
            {
                errors.Add($"{key}: must be at least {min} (was {value}).");
                return null;
            }

            return value;
        }

        var directory = r.Get("kafkas3sink.staging.directory");
        var maxStaged = Number("kafkas3sink.staging.max.staged.bytes", 1);
        var minFree = Number("kafkas3sink.staging.min.free.disk.bytes", 0);
        var maxOpen = Number("kafkas3sink.staging.max.open.segments", 1);
        var idle = Number("kafkas3sink.rotate.idle.interval.ms", 1);
        var progress = Number("kafkas3sink.progress.log.interval.ms", 0);
        var conditional = r.Get("kafkas3sink.s3.conditional.writes");
        ConditionalWrites? writes = null;
        if (conditional is not null)
        {
            if (Enum.TryParse<ConditionalWrites>(conditional, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(conditional, out _))
            {
                writes = parsed;
            }
            else
            {
                errors.Add($"kafkas3sink.s3.conditional.writes: '{conditional}' is not supported (supported: Auto, Required, Disabled).");
            }
        }

        foreach (var key in config.Keys.Where(k => k.StartsWith(SinkKeyPrefix, StringComparison.Ordinal) && !known.Contains(k)))
        {
            errors.Add($"{key}: unknown kafkas3sink.* setting (known: {string.Join(", ", known.Where(k => k.StartsWith(SinkKeyPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))}).");
            known.Add(key); // reported here, not again as an unknown Connect key
        }

        builder.Configure(o =>
        {
            if (!string.IsNullOrEmpty(directory))
            {
                // Relative to the process's current directory, like every path a user types.
                o.Staging.Directory = Path.GetFullPath(directory);
            }

            o.Staging.MaxStagedBytes = maxStaged ?? o.Staging.MaxStagedBytes;
            o.Staging.MinFreeDiskBytes = minFree ?? o.Staging.MinFreeDiskBytes;
            o.Staging.MaxOpenSegments = maxOpen is { } m ? (int)Math.Min(m, int.MaxValue) : o.Staging.MaxOpenSegments;
            o.IdleRotateInterval = idle is { } i ? TimeSpan.FromMilliseconds(i) : o.IdleRotateInterval;
            if (progress is { } p)
            {
                o.ProgressLogInterval = p == 0 ? null : TimeSpan.FromMilliseconds(p);
            }

            o.S3.ConditionalWrites = writes ?? o.S3.ConditionalWrites;
        });
    }
}
