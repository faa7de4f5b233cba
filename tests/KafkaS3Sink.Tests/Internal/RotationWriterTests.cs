using Confluent.Kafka;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Tests.Internal;

/// <summary>
/// The open-segment cap rotates whole topic-partitions, the one written least recently first; the writer counts open
/// segments across them. Partitions are not ready (no lease), so rotations queue and nothing uploads.
/// </summary>
public sealed class RotationWriterTests
{
    [Fact]
    public void Append_BeyondTheCap_RotatesTheTopicPartitionWrittenLeastRecently_AndOnlyIt()
    {
        var (writer, a, b, c) = Build(maxOpenSegments: 3);
        Append(writer, a, "p=1", 0);
        Append(writer, b, "p=1", 0);
        Append(writer, a, "p=2", 1); // a holds the oldest segment, but b is the topic-partition written least recently

        Append(writer, c, "p=1", 0); // a fourth segment: b (one segment) rotates, a stays open

        b.Open.Should().BeEmpty();
        b.InFlight.Should().ContainSingle().Which.Segments.Select(s => s.Descriptor.PartitionPath).Should().Equal("p=1");
        a.Open.Keys.Should().BeEquivalentTo("p=1", "p=2");
        a.InFlight.Should().BeEmpty();
        c.Open.Keys.Should().Equal("p=1");

        // Three open again: the next new segment rotates a (written before c), with both its segments.
        Append(writer, b, "p=3", 1);
        a.Open.Should().BeEmpty();
        a.InFlight.Should().ContainSingle().Which.Segments.Select(s => s.Descriptor.PartitionPath).Should().BeEquivalentTo("p=1", "p=2");
        a.InFlight.Single().Segments.Sum(s => s.RecordCount).Should().Be(2);
        c.Open.Keys.Should().Equal("p=1");
        b.Open.Keys.Should().Equal("p=3");
    }

    [Fact]
    public void Append_ToAnOpenSegment_NeverRotates_AndARotationFreesItsSegmentsFromTheCount()
    {
        var (writer, a, b, _) = Build(maxOpenSegments: 2);
        Append(writer, a, "p=1", 0);
        Append(writer, b, "p=1", 0);
        for (var offset = 1; offset < 50; offset++)
        {
            Append(writer, offset % 2 == 0 ? a : b, "p=1", offset);
        }

        a.InFlight.Should().BeEmpty();
        b.InFlight.Should().BeEmpty();

        writer.Rotate(a, deterministic: true);
        Append(writer, b, "p=2", 50); // a's segment left the count: b's second segment fits

        b.Open.Should().HaveCount(2);
        b.InFlight.Should().BeEmpty();
        a.InFlight.Should().ContainSingle();
    }

    private static void Append(RotationWriter writer, PartitionState state, string path, long offset)
    {
        writer.Append(state, path, offset, "{}"u8, avroSchema: null).Should().BeTrue();
        state.OnAppended(new KafkaRecord(state.TopicPartition.Topic, state.TopicPartition.Partition.Value, offset, DateTimeOffset.UnixEpoch, null, null), 2, DateTimeOffset.UnixEpoch);
    }

    private static (RotationWriter Writer, PartitionState A, PartitionState B, PartitionState C) Build(int maxOpenSegments)
    {
        var time = TimeProvider.System;
        var (options, uploads, metrics, _, _) = SinkParts.Build("orders", time, o => o.Staging.MaxOpenSegments = maxOpenSegments);
        var writer = new RotationWriter(options, new MemorySegmentBuffer(), uploads, metrics, time);
        PartitionState State(int partition) => new(new TopicPartition("orders", partition), new TaskCompletionSource<long>().Task, time.GetTimestamp());
        return (writer, State(0), State(1), State(2));
    }
}
