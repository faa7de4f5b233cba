using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Partitioning;

[Trait("Category", "Partitioning")]
public sealed class S3KeyEncodingTests
{
    [Theory]
    [InlineData("eu-west_1.x~", "eu-west_1.x~")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("../../x", "..%2F..%2Fx")]
    [InlineData("..", "%2E%2E")]
    [InlineData(".", "%2E")]
    [InlineData("", "__EMPTY__")]
    [InlineData("a=b", "a%3Db")]
    [InlineData("100%", "100%25")]
    [InlineData("new\nline", "new%0Aline")]
    [InlineData("tab\there", "tab%09here")]
    [InlineData("sp ace", "sp%20ace")]
    [InlineData("back\\slash", "back%5Cslash")]
    [InlineData("서울", "서울")]
    [InlineData("Zürich", "Zürich")]
    [InlineData("emoji😀", "emoji%F0%9F%98%80")]
    public void EncodeSegment_Value_StaysInsideOneSegment(string raw, string expected)
    {
        var encoded = S3KeyEncoding.EncodeSegment(raw);

        encoded.Should().Be(expected);
        encoded.Should().NotContain("/").And.NotContain("\\");
        encoded.Should().NotBe("..").And.NotBe(".");
        encoded.Any(char.IsControl).Should().BeFalse();
    }
}
