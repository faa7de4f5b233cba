using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Tests;

public sealed class KafkaS3SinkOptionsTests
{
    [Fact]
    public void Build_EverythingMissingOrWrong_ListsEachSettingOnce()
    {
        var builder = new KafkaS3SinkBuilder().Configure(o =>
        {
            o.FlushSize = 0;
            o.TopicsDir = "/abs/";
            o.S3.PartSize = 1024;
            o.S3.AccessKeyId = "only-the-id";
            o.KafkaProperties["enable.auto.commit"] = "true";
        });

        var act = () => builder.Build();

        var errors = act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors;
        errors.Select(e => e.Split(':')[0]).Should().BeEquivalentTo(
            "BootstrapServers", "GroupId", "Topics", "TopicsDir", "FlushSize (flush.size)", "KafkaProperties",
            "S3.BucketName", "S3.PartSize", "S3.AccessKeyId / S3.SecretAccessKey");
    }

    [Fact]
    public void Validate_ValidOptions_NoErrors()
    {
        var options = new KafkaS3SinkOptions { BootstrapServers = "localhost:9092", GroupId = "g" };
        options.Topics.Add("orders");
        options.S3.BucketName = "b";

        options.Validate().Should().BeEmpty();
    }

    [Theory]
    [InlineData("/abs", "starts or ends")]
    [InlineData("a//b", "empty, '.' or '..'")]
    [InlineData("a/../b", "empty, '.' or '..'")]
    [InlineData("a/\u0001", "control character")]
    public void PathValidation_UnsafeCustomPath_Rejected(string path, string reason)
    {
        var act = () => PathValidation.ThrowIfInvalid(path, TestRecords.Kafka("{}"));

        act.Should().Throw<RecordPartitioningException>().WithMessage($"*{reason}*");
    }

    [Fact]
    public void PathValidation_OverLongPath_Rejected()
    {
        var act = () => PathValidation.ThrowIfInvalid(new string('a', 600), TestRecords.Kafka("{}"));

        act.Should().Throw<RecordPartitioningException>().WithMessage("*longer than 512*");
    }
}
