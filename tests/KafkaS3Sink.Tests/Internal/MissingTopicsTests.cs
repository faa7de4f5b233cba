using Confluent.Kafka;
using KafkaS3Sink.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink.Tests.Internal;

/// <summary>The topics the client says it cannot find are listed until they are assigned.</summary>
public sealed class MissingTopicsTests
{
    [Fact]
    public void TheClientsUnknownTopicError_ListsTheTopic_AndAnAssignmentOfItClearsIt()
    {
        var control = new SinkControl();
        var missing = new MissingTopics("s", control, TimeProvider.System, NullLogger.Instance);

        missing.OnError(new Error(ErrorCode.UnknownTopicOrPart, "Subscribed topic not available: orders.v2: Broker: Unknown topic or partition")).Should().BeTrue();
        missing.OnError(new Error(ErrorCode.UnknownTopicOrPart, "Subscribed topic not available: audit: Broker: Unknown topic or partition")).Should().BeTrue();
        missing.OnError(new Error(ErrorCode.UnknownTopicOrPart, "Subscribed topic not available: orders.v2: Broker: Unknown topic or partition")).Should().BeTrue();
        missing.OnError(new Error(ErrorCode.UnknownTopicOrPart, "Fetch from broker 1 failed")).Should().BeFalse("not about a subscribed topic");
        missing.OnError(new Error(ErrorCode.Local_Transport, "Subscribed topic not available: x: y")).Should().BeFalse();
        control.MissingTopics.Should().Equal("audit", "orders.v2");

        missing.OnAssigned([new TopicPartition("orders.v2", 3), new TopicPartition("other", 0)]);

        control.MissingTopics.Should().Equal("audit");
    }
}
