using System.Text;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Formats;
using KafkaS3Sink.Upload;

namespace KafkaS3Sink.Tests.Formats;

/// <summary>The body streamed from a sealed segment is byte for byte what the format writes to a file.</summary>
public sealed class SegmentBodyStreamTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "ks3-body-" + Guid.NewGuid().ToString("N"));

    [Theory]
    [InlineData("json", null)]
    [InlineData("bin", "\r\n")]
    public void DirectBody_EqualsTheWrittenObject_ReadInAnyChunkSize_AndAgainAfterASeekToTheStart(string extension, string? separator)
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var segment = buffer.Open(new SegmentDescriptor("orders", 0, "p", 0));
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            segment.Append(i, Encoding.UTF8.GetBytes($"{{\"id\":{i},\"pad\":\"{new string('x', random.Next(0, 3000))}\"}}"));
        }

        var sealedSegment = segment.Seal();
        var format = new JsonLinesFormat(OutputCompression.None, extension, separator is null ? null : Encoding.ASCII.GetBytes(separator));
        using var written = new MemoryStream();
        format.Write(sealedSegment, null, written);

        using var body = ((IObjectFormat)format).OpenDirect(sealedSegment)!;
        body.Length.Should().Be(written.Length);
        foreach (var chunk in new[] { 1, 7, 4096, 1 << 20 })
        {
            body.Seek(0, SeekOrigin.Begin);
            ReadAll(body, chunk).Should().Equal(written.ToArray(), $"chunks of {chunk} bytes");
        }

        body.Position = 12_345;
        ReadAll(body, 999).Should().Equal(written.ToArray()[12_345..]);
    }

    [Fact]
    public void CompressedOutput_HasNoDirectBody()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var segment = buffer.Open(new SegmentDescriptor("orders", 0, "p", 0));
        segment.Append(0, "{}"u8);
        ((IObjectFormat)new JsonLinesFormat(OutputCompression.Gzip)).OpenDirect(segment.Seal()).Should().BeNull();
    }

    [Fact]
    public void DamagedSegment_RaisesStagedDataException_NeverAnIOExceptionTheRetriesWouldRepeat()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var segment = buffer.Open(new SegmentDescriptor("orders", 0, "p", 0));
        segment.Append(0, "hello"u8);
        segment.Append(1, "world"u8);
        var sealedSegment = segment.Seal();
        var file = Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0x20;
        File.WriteAllBytes(file, bytes);

        using var body = ((IObjectFormat)new JsonLinesFormat()).OpenDirect(sealedSegment)!;
        var act = () => ReadAll(body, 4096);
        act.Should().Throw<StagedDataException>().WithMessage("*orders[0]*checksum mismatch*");
        global::KafkaS3Sink.Resilience.S3Errors.IsTransient(new IOException("wrapped", new StagedDataException(sealedSegment.Descriptor, new InvalidDataException("x"))), default)
            .Should().BeFalse("a damaged segment is replayed from Kafka, not re-read forever");
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static byte[] ReadAll(Stream stream, int chunk)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[chunk];
        int n;
        while ((n = stream.Read(buffer, 0, chunk)) > 0)
        {
            copy.Write(buffer, 0, n);
        }

        return copy.ToArray();
    }
}
