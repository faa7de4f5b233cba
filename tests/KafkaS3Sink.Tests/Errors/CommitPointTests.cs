using Confluent.Kafka;
using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Tests.Errors;

/// <summary>Where a partition's commit point may go with skipped and dead-lettered records.</summary>
public sealed class CommitPointTests
{
    [Fact]
    public void SkippedTail_WithNothingOpenOrUploading_IsCommitted()
    {
        var state = NewState();
        state.CommittableOffset = 10;
        state.OnSkipped(10);
        state.OnSkipped(11);

        state.CommitSkippedTail();

        state.CommitPoint.Should().Be(12);
    }

    [Fact]
    public void SkippedRecords_InsideADiscardedRotation_AreNotCommitted()
    {
        // Records 10..11 appended, 12 skipped, then the open rotation is discarded (a failed write): 10..12 are re-read.
        var state = NewState();
        state.CommittableOffset = 10;
        state.Open["p"] = null!;
        state.OnSkipped(12);

        state.ResetOpen();
        state.CommitSkippedTail();

        state.CommitPoint.Should().Be(10, "the skip lay inside the rotation that is re-read");
    }

    [Fact]
    public void SkippedTail_WhileARotationUploads_WaitsForIt()
    {
        var state = NewState();
        state.CommittableOffset = 5;
        state.InFlight.Enqueue(new RotationUpload(20, [], [], true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch));
        state.OnSkipped(20);

        state.CommitSkippedTail();

        state.CommitPoint.Should().Be(5);
    }

    [Fact]
    public void DeadLetter_HoldsTheCommitPointUntilAcknowledged()
    {
        var state = NewState();
        state.CommittableOffset = 3;
        state.OnSkipped(3);
        var pending = state.DeadLetterProduced(3);
        state.OnSkipped(4);
        state.DeadLetterProduced(4);

        state.CommitSkippedTail();
        state.CommitPoint.Should().Be(3, "the dead-letter topic has not acknowledged offset 3");

        pending.Remove(3);
        state.CommitPoint.Should().Be(4);
        pending.Remove(4);
        state.CommitPoint.Should().Be(5);
    }

    [Fact]
    public void DeadLetters_SurviveAReset()
    {
        var state = NewState();
        state.CommittableOffset = 7;
        state.DeadLetterProduced(7);
        var fresh = NewState();
        fresh.CommittableOffset = 9;

        fresh.InheritDeadLetters(state);

        fresh.CommitPoint.Should().Be(7);
    }

    private static PartitionState NewState() => new(new TopicPartition("orders", 0), Task.FromResult(0L), 0);
}
