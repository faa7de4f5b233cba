using KafkaS3Sink.Upload;

namespace KafkaS3Sink.Tests.Upload;

public sealed class ObjectKeysTests
{
    [Theory]
    [InlineData("topics", "partition=3", 42, "topics/orders/partition=3/orders+3+0000000042.json")]
    [InlineData("backup", "year=2026/month=11", 12345678901, "backup/orders/year=2026/month=11/orders+3+12345678901.json")]
    [InlineData("", "", 0, "orders/orders+3+0000000000.json")]
    public void For_Descriptor_ConfluentLayout(string topicsDir, string path, long start, string expected)
        => ObjectKeys.For(topicsDir, new SegmentDescriptor("orders", 3, path, start), "json").Should().Be(expected);

    [Fact]
    public void For_PadWidth_AsConfigured()
        => ObjectKeys.For("t", new SegmentDescriptor("o", 0, "p=1", 42), "json", offsetPadWidth: 19).Should().Be("t/o/p=1/o+0+0000000000000000042.json");
}
