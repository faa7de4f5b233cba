using FluentAssertions;
using KafkaS3Sink.Buffering;
using Xunit;

namespace KafkaS3Sink.Tests.Buffering;

public sealed class PooledFileReadStreamTests : IDisposable
{
    private readonly string file = Path.Combine(Path.GetTempPath(), "pooled-read-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => File.Delete(file);

    [Theory]
    [InlineData(4096, 1)]
    [InlineData(4096, 2)]
    [InlineData(65536, 3)]
    public void ReadsInAnyChunkSizes_GiveTheFileBackByteForByte(int bufferSize, int seed)
    {
        var random = new Random(seed);
        var content = new byte[200_003];
        random.NextBytes(content);
        File.WriteAllBytes(file, content);

        using var stream = new PooledFileReadStream(file, bufferSize);
        var read = new MemoryStream();
        var chunk = new byte[150_000];
        while (true)
        {
            // Smaller and larger than the buffer, so both the buffered and the direct path run.
            var want = random.Next(4) == 0 ? random.Next(bufferSize, chunk.Length) : random.Next(1, 300);
            var n = stream.Read(chunk, 0, want);
            if (n == 0)
            {
                break;
            }

            n.Should().BeInRange(1, want);
            read.Write(chunk, 0, n);
            stream.Position.Should().Be(read.Length);
        }

        read.ToArray().Should().Equal(content);
        stream.Read(chunk, 0, 10).Should().Be(0, "the end stays the end");
    }

    [Fact]
    public void TheFileCanBeDeletedWhileOpen_AndAReadAfterDisposeFails()
    {
        File.WriteAllBytes(file, [1, 2, 3, 4, 5]);
        var stream = new PooledFileReadStream(file, 4096);
        File.Delete(file);
        Span<byte> two = stackalloc byte[2];
        stream.ReadAtLeast(two, 2).Should().Be(2);
        two.ToArray().Should().Equal(1, 2);

        stream.Dispose();
        stream.Dispose();
        var act = () => stream.Read(new byte[1], 0, 1);
        act.Should().Throw<ObjectDisposedException>();
    }
}
