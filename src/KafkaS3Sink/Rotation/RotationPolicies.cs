namespace KafkaS3Sink.Rotation;

/// <summary>Rotates after a number of payload bytes per topic-partition. Replay-safe.</summary>
internal sealed class ByteSizeRotationPolicy(long maxBytes) : IRotationPolicy
{
    public bool ShouldRotate(in RotationState state) => state.Bytes >= maxBytes;
}

/// <summary>
/// Confluent's <c>rotate.interval.ms</c>: rotates when a record's timestamp is at least the interval past
/// the first record's of the rotation. Decided from record timestamps only: replay-safe.
/// </summary>
internal sealed class RecordTimeSpanRotationPolicy(TimeSpan interval) : IRotationPolicy
{
    public bool ShouldRotate(in RotationState state) => state.LastTimestamp - state.FirstTimestamp >= interval;
}

/// <summary>
/// Confluent's <c>rotate.schedule.interval.ms</c>: rotates when the wall clock crosses a boundary of the
/// interval, aligned to midnight in the time zone (e.g. every hour on the hour in Asia/Seoul), counted
/// from when the rotation's first record was appended. Fires on quiet topics too. Reads the clock.
/// </summary>
internal sealed class ScheduledRotationPolicy(TimeSpan interval, TimeZoneInfo zone) : IRotationPolicy
{
    public bool ShouldRotate(in RotationState state) => false;

    public bool ShouldRotateOnTimer(in RotationState state, DateTimeOffset now)
        => state.RecordCount > 0 && now >= NextBoundary(state.FirstAppendTime);

    /// <summary>The first boundary strictly after <paramref name="time"/>, aligned in the zone's local time.</summary>
    internal DateTimeOffset NextBoundary(DateTimeOffset time)
    {
        var local = TimeZoneInfo.ConvertTime(time, zone);
        var midnight = new DateTimeOffset(local.Date, zone.GetUtcOffset(local.Date));
        var sinceMidnight = local - midnight;
        var boundary = midnight + TimeSpan.FromTicks(((sinceMidnight.Ticks / interval.Ticks) + 1) * interval.Ticks);
        return boundary.ToUniversalTime();
    }
}

/// <summary>Rotates a topic-partition that received no record for a while, so quiet topics still reach S3. Reads the clock.</summary>
internal sealed class IdleRotationPolicy(TimeSpan idle) : IRotationPolicy
{
    public bool ShouldRotate(in RotationState state) => false;

    public bool ShouldRotateOnTimer(in RotationState state, DateTimeOffset now)
        => state.RecordCount > 0 && now - state.LastAppendTime >= idle;
}

/// <summary>Rotates when any of its policies says so.</summary>
internal sealed class AnyOfRotationPolicy(IReadOnlyList<IRotationPolicy> policies) : IRotationPolicy
{
    private readonly IRotationPolicy[] all = [.. policies];

    public bool IsReplayDeterministic => all.All(p => p.IsReplayDeterministic);

    public bool ShouldRotate(in RotationState state)
    {
        foreach (var policy in all)
        {
            if (policy.ShouldRotate(state))
            {
                return true;
            }
        }

        return false;
    }

    public bool ShouldRotateOnTimer(in RotationState state, DateTimeOffset now)
    {
        foreach (var policy in all)
        {
            if (policy.ShouldRotateOnTimer(state, now))
            {
                return true;
            }
        }

        return false;
    }
}
