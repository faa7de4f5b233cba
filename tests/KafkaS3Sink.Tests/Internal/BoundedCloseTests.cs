using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Tests.Internal;

/// <summary>
/// Leaving the consumer group is bounded: librdkafka's close was seen to hang during a cooperative rebalance
/// (CI of 4fde048: a stopping sink never returned), and a sink must stop in bounded time.
/// </summary>
public sealed class BoundedCloseTests
{
    [Fact]
    public void Bounded_CloseThatFinishes_ReturnsTrueAndHasRun()
    {
        var ran = 0;

        var finished = PartitionAssignments.Bounded(() => Interlocked.Increment(ref ran), TimeSpan.FromSeconds(30));

        finished.Should().BeTrue();
        ran.Should().Be(1);
    }

    [Fact]
    public void Bounded_CloseThatHangs_ReturnsFalseAfterTheTimeout()
    {
        using var release = new ManualResetEventSlim();
        var started = System.Diagnostics.Stopwatch.StartNew();

        var finished = PartitionAssignments.Bounded(release.Wait, TimeSpan.FromMilliseconds(300));

        started.Stop();
        release.Set();
        finished.Should().BeFalse("the close is still running");
        started.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250), "it waits for the timeout, not less");
    }

    [Fact]
    public void Bounded_CloseThatThrows_RethrowsItsException()
    {
        var act = () => PartitionAssignments.Bounded(() => throw new InvalidOperationException("handler failed"), TimeSpan.FromSeconds(30));

        act.Should().Throw<InvalidOperationException>().WithMessage("handler failed");
    }
}
