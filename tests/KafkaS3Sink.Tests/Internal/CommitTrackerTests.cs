using System.Reflection;
using Amazon.Runtime;
using Amazon.S3;
using Confluent.Kafka;
using KafkaS3Sink.Internal;
using KafkaS3Sink.Resilience;
using KafkaS3Sink.Upload;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Tests.Internal;

/// <summary>
/// Commits run in the background: the consumer thread starts one and takes its result on a later tick, and waits
/// for one in flight only where order matters (callbacks, stop), bounded.
/// </summary>
public sealed class CommitTrackerTests
{
    private static readonly TopicPartition Tp = new("orders", 3);

    [Fact]
    public async Task CommitDue_StartsTheCommitWithoutWaitingForIt_AndRecordsItOnlyOnceKafkaAnswered()
    {
        using var release = new ManualResetEventSlim();
        var consumer = CommitOnlyConsumer.Create(release);
        var (tracker, partitions, state) = Build();
        state.CommittableOffset = 500;

        // The consumer's commit blocks until released: returning at all means the caller did not wait for it.
        var call = Task.Run(() => tracker.CommitDue(consumer, partitions));
        (await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(30)))).Should().BeSameAs(call, "CommitDue must not wait for Kafka's answer");

        state.CommittedOffset.Should().Be(-1, "Kafka has not answered yet");
        SpinWait.SpinUntil(() => CommitOnlyConsumer.Calls(consumer).Count == 1, TimeSpan.FromSeconds(30)).Should().BeTrue("the commit runs on another thread");
        tracker.CommitDue(consumer, partitions);
        SpinWait.SpinUntil(() => CommitOnlyConsumer.Calls(consumer).Count > 1, TimeSpan.FromMilliseconds(300)).Should().BeFalse("one commit at a time");

        release.Set();

        // A later tick takes the answer.
        SpinWait.SpinUntil(
            () =>
            {
                tracker.CommitDue(consumer, partitions);
                return state.CommittedOffset == 500;
            },
            TimeSpan.FromSeconds(30)).Should().BeTrue();
        CommitOnlyConsumer.Calls(consumer).Should().ContainSingle().Which.Should().Equal(new TopicPartitionOffset(Tp, 500));
    }

    [Fact]
    public void WaitPending_ACommitThatHangs_GivesUpAfterTheBound_AndAPartitionRevokedMeanwhileIsNotMarkedCommitted()
    {
        using var release = new ManualResetEventSlim();
        var consumer = CommitOnlyConsumer.Create(release);
        var (tracker, partitions, state) = Build();
        state.CommittableOffset = 700;
        tracker.CommitDue(consumer, partitions);

        tracker.WaitPending(TimeSpan.FromMilliseconds(200), "test").Should().BeFalse("the commit is still waiting for the coordinator");

        // The partition goes (revoked) before the commit is answered: its state is not touched afterwards.
        partitions.Clear();
        release.Set();
        tracker.WaitPending(TimeSpan.FromSeconds(30), "test", partitions).Should().BeTrue();
        state.CommittedOffset.Should().Be(-1);
    }

    [Fact]
    public void CommitDue_AFailedBackgroundCommit_IsRetriedAfterTheBackoff_NotCountedAsCommitted()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var consumer = CommitOnlyConsumer.Create(release: null, fail: new KafkaException(ErrorCode.RebalanceInProgress));
        var (tracker, partitions, state) = Build(time);
        state.CommittableOffset = 42;

        tracker.CommitDue(consumer, partitions);
        tracker.WaitPending(TimeSpan.FromSeconds(30), "test", partitions).Should().BeTrue();
        tracker.CommitDue(consumer, partitions);

        state.CommittedOffset.Should().Be(-1);
        SpinWait.SpinUntil(() => CommitOnlyConsumer.Calls(consumer).Count > 1, TimeSpan.FromMilliseconds(300)).Should().BeFalse("the next attempt waits for the backoff");
        time.Advance(TimeSpan.FromMinutes(1));
        tracker.CommitDue(consumer, partitions);
        SpinWait.SpinUntil(() => CommitOnlyConsumer.Calls(consumer).Count == 2, TimeSpan.FromSeconds(30)).Should().BeTrue("the backoff has passed");
    }

    private static (CommitTracker Tracker, Dictionary<TopicPartition, PartitionState> Partitions, PartitionState State) Build(TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var (_, uploads, metrics, retry, throttle) = SinkParts.Build(Tp.Topic, time);
        var tracker = new CommitTracker("t", uploads, metrics, retry, throttle, time, NullLogger.Instance);
        var state = new PartitionState(Tp, Task.FromResult(0L), time.GetTimestamp());
        return (tracker, new Dictionary<TopicPartition, PartitionState> { [Tp] = state }, state);
    }

    /// <summary>An <see cref="IConsumer{TKey, TValue}"/> that only commits: each commit waits for a release (or fails), and is recorded.</summary>
    public class CommitOnlyConsumer : DispatchProxy
    {
        private readonly List<List<TopicPartitionOffset>> calls = [];
        private ManualResetEventSlim? release;
        private Exception? fail;

        public static IConsumer<byte[], byte[]> Create(ManualResetEventSlim? release, Exception? fail = null)
        {
            var proxy = Create<IConsumer<byte[], byte[]>, CommitOnlyConsumer>();
            var self = (CommitOnlyConsumer)(object)proxy;
            self.release = release;
            self.fail = fail;
            return proxy;
        }

        public static List<List<TopicPartitionOffset>> Calls(IConsumer<byte[], byte[]> consumer)
        {
            var self = (CommitOnlyConsumer)(object)consumer;
            lock (self.calls)
            {
                return [.. self.calls];
            }
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is not { Name: "Commit" } || args is not [IEnumerable<TopicPartitionOffset> offsets])
            {
                throw new NotSupportedException(targetMethod?.Name);
            }

            lock (calls)
            {
                calls.Add([.. offsets]);
            }

            release?.Wait();
            return fail is null ? null : throw fail;
        }
    }
}
