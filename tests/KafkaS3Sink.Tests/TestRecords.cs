using System.Text;
using KafkaS3Sink.Converters;

namespace KafkaS3Sink.Tests;

internal static class TestRecords
{
    public static KafkaRecord Kafka(string? json, int partition = 3, long offset = 42, DateTimeOffset? timestamp = null)
        => new("orders", partition, offset, timestamp ?? DateTimeOffset.UnixEpoch, null, json is null ? null : (ReadOnlyMemory<byte>?)Encoding.UTF8.GetBytes(json));

    public static SinkRecord Json(string json, int partition = 3, long offset = 42, DateTimeOffset? timestamp = null)
        => new JsonRecordConverter().Convert(Kafka(json, partition, offset, timestamp));
}
