using KafkaS3Sink.Rotation;
using Microsoft.Extensions.Time.Testing;

namespace KafkaS3Sink.Tests.Rotation;

public sealed class RotationPolicyTests
{
    private static readonly DateTimeOffset Epoch = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    private static RotationState State(long count = 1, long bytes = 10, DateTimeOffset? firstTs = null, DateTimeOffset? lastTs = null, DateTimeOffset? firstAppend = null, DateTimeOffset? lastAppend = null)
        => new("t", 0, count, bytes, 1, 0, count - 1, firstTs ?? Epoch, lastTs ?? Epoch, firstAppend ?? Epoch, lastAppend ?? Epoch);

    [Fact]
    public void RecordCount_RotatesAtFlushSize()
    {
        IRotationPolicy policy = new RecordCountRotationPolicy(500);

        policy.ShouldRotate(State(count: 499)).Should().BeFalse();
        policy.ShouldRotate(State(count: 500)).Should().BeTrue();
        policy.IsReplayDeterministic.Should().BeTrue();
    }

    [Fact]
    public void Bytes_RotatesAtLimit()
    {
        IRotationPolicy policy = new ByteSizeRotationPolicy(1_000);

        policy.ShouldRotate(State(bytes: 999)).Should().BeFalse();
        policy.ShouldRotate(State(bytes: 1_000)).Should().BeTrue();
    }

    [Fact]
    public void RecordTimeSpan_UsesRecordTimestampsNotTheClock()
    {
        IRotationPolicy policy = new RecordTimeSpanRotationPolicy(TimeSpan.FromMinutes(10));

        policy.ShouldRotate(State(firstTs: Epoch, lastTs: Epoch.AddMinutes(9.99))).Should().BeFalse();
        policy.ShouldRotate(State(firstTs: Epoch, lastTs: Epoch.AddMinutes(10))).Should().BeTrue();
        policy.ShouldRotateOnTimer(State(firstTs: Epoch), Epoch.AddYears(1)).Should().BeFalse();
        policy.IsReplayDeterministic.Should().BeTrue();
    }

    [Fact]
    public void Idle_QuietTopicRotatesAfterIdleTime()
    {
        var time = new FakeTimeProvider(Epoch);
        IRotationPolicy policy = new IdleRotationPolicy(TimeSpan.FromSeconds(30));
        var state = State(lastAppend: time.GetUtcNow());

        time.Advance(TimeSpan.FromSeconds(29));
        policy.ShouldRotateOnTimer(state, time.GetUtcNow()).Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(1));
        policy.ShouldRotateOnTimer(state, time.GetUtcNow()).Should().BeTrue();
        policy.ShouldRotateOnTimer(State(count: 0), time.GetUtcNow()).Should().BeFalse("nothing open, nothing to flush");
        policy.ShouldRotate(state).Should().BeFalse();
    }

    [Fact]
    public void Schedule_HourlyInKolkata_AlignsToLocalHalfHourOffset()
    {
        // Asia/Kolkata is UTC+5:30: local hours start at :30 UTC.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        var policy = new ScheduledRotationPolicy(TimeSpan.FromHours(1), zone);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 27, 9, 10, 0, TimeSpan.Zero)); // 14:40 local
        var state = State(firstAppend: time.GetUtcNow());

        policy.NextBoundary(time.GetUtcNow()).Should().Be(new DateTimeOffset(2026, 11, 27, 9, 30, 0, TimeSpan.Zero));
        time.Advance(TimeSpan.FromMinutes(19));
        policy.ShouldRotateOnTimer(state, time.GetUtcNow()).Should().BeFalse();
        time.Advance(TimeSpan.FromMinutes(1));
        policy.ShouldRotateOnTimer(state, time.GetUtcNow()).Should().BeTrue("the clock crossed 15:00 local");
    }

    [Fact]
    public void Schedule_FiveMinutesInNewYorkAcrossDstEnd_AlignsToLocalClock()
    {
        // 2026-11-01 01:58 EDT (05:58 UTC); clocks fall back at 02:00 EDT -> 01:00 EST (06:00 UTC).
        var zone = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var policy = new ScheduledRotationPolicy(TimeSpan.FromMinutes(5), zone);

        policy.NextBoundary(new DateTimeOffset(2026, 11, 1, 5, 58, 0, TimeSpan.Zero))
            .Should().Be(new DateTimeOffset(2026, 11, 1, 6, 0, 0, TimeSpan.Zero));
        policy.NextBoundary(new DateTimeOffset(2026, 11, 1, 6, 2, 0, TimeSpan.Zero))
            .Should().Be(new DateTimeOffset(2026, 11, 1, 6, 5, 0, TimeSpan.Zero));
    }

    [Fact]
    public void AnyOf_FiresOnFirstAndIsDeterministicOnlyIfEveryShouldRotateIs()
    {
        var time = new FakeTimeProvider(Epoch);
        IRotationPolicy policy = new AnyOfRotationPolicy([new RecordCountRotationPolicy(3), new IdleRotationPolicy(TimeSpan.FromSeconds(5))]);

        policy.ShouldRotate(State(count: 2)).Should().BeFalse();
        policy.ShouldRotate(State(count: 3)).Should().BeTrue();
        policy.ShouldRotateOnTimer(State(count: 1, lastAppend: Epoch), time.GetUtcNow().AddSeconds(5)).Should().BeTrue();
        policy.IsReplayDeterministic.Should().BeTrue("idle rotations come from the timer, which the sink never treats as replay-safe");
        ((IRotationPolicy)new AnyOfRotationPolicy([new RecordCountRotationPolicy(3), new ClockReading()])).IsReplayDeterministic.Should().BeFalse();
    }

    private sealed class ClockReading : IRotationPolicy
    {
        public bool IsReplayDeterministic => false;

        public bool ShouldRotate(in RotationState state) => false;
    }
}
