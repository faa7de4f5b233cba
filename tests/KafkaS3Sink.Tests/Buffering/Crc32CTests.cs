using FluentAssertions;
using KafkaS3Sink.Buffering;
using Xunit;

namespace KafkaS3Sink.Tests.Buffering;

public sealed class Crc32CTests
{
    [Fact]
    public void Append_AgreesWithABitwiseReference_ForEveryLengthAroundTheLaneRuns()
    {
        var random = new Random(7);
        var data = new byte[(8 * 3 * Crc32C.Lane) + 17];
        random.NextBytes(data);
        for (var length = 0; length <= data.Length; length++)
        {
            var seed = (uint)random.Next();
            var span = data.AsSpan(length % 5, Math.Min(length, data.Length - (length % 5)));
            var expected = Reference(seed, span);
            Crc32C.Append(seed, span).Should().Be(expected, "for {0} bytes at offset {1}", span.Length, length % 5);
            Crc32C.AppendSerially(seed, span).Should().Be(expected, "serially, for {0} bytes", span.Length);
        }
    }

    [Fact]
    public void Append_InPieces_EqualsComputeOfTheWhole()
    {
        var random = new Random(11);
        var data = new byte[10_000];
        random.NextBytes(data);
        var crc = 0u;
        var at = 0;
        while (at < data.Length)
        {
            var n = Math.Min(random.Next(0, 1500), data.Length - at);
            crc = Crc32C.Append(crc, data.AsSpan(at, n));
            at += n;
        }

        crc.Should().Be(Crc32C.Compute(data)).And.Be(Reference(0, data));
    }

    // The textbook bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78), for checking the fast one.
    private static uint Reference(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }
}
