using System.Buffers.Binary;
using System.Text;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// Layout of a staged segment file (all integers little-endian):
/// <code>
/// header:  "KS3S" | u16 version=1 | u16 flags=0 | i64 startOffset | i32 partition | u16 topicLen | u16 pathLen
///          | topic (UTF-8) | path (UTF-8) | u32 crc32c(header bytes before it)
/// record:  u32 payloadLen | i64 offset | u32 crc32c(offset bytes + payload) | payload
/// </code>
/// A file is self-describing: the header alone says which topic-partition, path and offset it holds.
/// </summary>
internal static class SegmentFileFormat
{
    public const ushort Version = 1;
    public const int RecordHeaderSize = 16;
    public static ReadOnlySpan<byte> Magic => "KS3S"u8;

    public static byte[] EncodeHeader(SegmentDescriptor d)
    {
        var topic = Encoding.UTF8.GetBytes(d.Topic);
        var path = Encoding.UTF8.GetBytes(d.PartitionPath);
        if (topic.Length > ushort.MaxValue || path.Length > ushort.MaxValue)
        {
            throw new ArgumentException("Topic or path too long for a segment header.", nameof(d));
        }

        var buffer = new byte[24 + topic.Length + path.Length + 4];
        var span = buffer.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], d.StartOffset);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], d.Partition);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], (ushort)topic.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], (ushort)path.Length);
        topic.CopyTo(span[24..]);
        path.CopyTo(span[(24 + topic.Length)..]);
        var crcAt = 24 + topic.Length + path.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[crcAt..], Crc32C.Compute(span[..crcAt]));
        return buffer;
    }

    /// <summary>Reads and checks a header; returns null when it is not a valid header.</summary>
    public static SegmentDescriptor? TryReadHeader(Stream stream)
    {
        Span<byte> fixedPart = stackalloc byte[24];
        if (stream.ReadAtLeast(fixedPart, 24, throwOnEndOfStream: false) < 24 || !fixedPart[..4].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[4..]) != Version)
        {
            return null;
        }

        var topicLen = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[20..]);
        var pathLen = BinaryPrimitives.ReadUInt16LittleEndian(fixedPart[22..]);
        var rest = new byte[topicLen + pathLen + 4];
        if (stream.ReadAtLeast(rest, rest.Length, throwOnEndOfStream: false) < rest.Length)
        {
            return null;
        }

        var crc = Crc32C.Append(Crc32C.Compute(fixedPart), rest.AsSpan(0, topicLen + pathLen));
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(rest.AsSpan(topicLen + pathLen)))
        {
            return null;
        }

        return new SegmentDescriptor(
            Encoding.UTF8.GetString(rest, 0, topicLen),
            BinaryPrimitives.ReadInt32LittleEndian(fixedPart[16..]),
            Encoding.UTF8.GetString(rest, topicLen, pathLen),
            BinaryPrimitives.ReadInt64LittleEndian(fixedPart[8..]));
    }

    public static void WriteRecordHeader(Span<byte> destination, long offset, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(destination[4..], offset);
        var crc = Crc32C.Append(Crc32C.Compute(destination.Slice(4, 8)), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], crc);
    }
}
