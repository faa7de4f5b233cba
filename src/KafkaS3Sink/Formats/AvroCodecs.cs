using System.Buffers.Binary;
using System.IO.Hashing;
using Avro.File;

namespace KafkaS3Sink.Formats;

/// <summary>An Avro codec that compresses each block as a whole (Apache.Avro ships only <c>null</c> and <c>deflate</c>).</summary>
internal abstract class AvroBlockCodec : Codec
{
    public override byte[] Compress(byte[] uncompressedData) => Compress(uncompressedData.AsSpan());

    public override void Compress(MemoryStream inputStream, MemoryStream outputStream)
    {
        var compressed = Compress(inputStream.GetBuffer().AsSpan(0, (int)inputStream.Length));
        outputStream.SetLength(0);
        outputStream.Write(compressed);
    }

    public override bool Equals(object? other) => other?.GetType() == GetType();

    public override int GetHashCode() => GetName().GetHashCode(StringComparison.Ordinal);

    protected abstract byte[] Compress(ReadOnlySpan<byte> data);
}

/// <summary>
/// Avro's <c>snappy</c> codec, as the specification defines it: each block is Snappy-compressed and
/// followed by the 4-byte big-endian CRC-32 of the uncompressed data.
/// </summary>
internal sealed class AvroSnappyCodec : AvroBlockCodec
{
    public override byte[] Decompress(byte[] compressedData, int length)
    {
        var data = Snappier.Snappy.DecompressToArray(compressedData.AsSpan(0, length - 4));
        if (Crc32.HashToUInt32(data) != BinaryPrimitives.ReadUInt32BigEndian(compressedData.AsSpan(length - 4, 4)))
        {
            throw new InvalidDataException("Avro snappy block: CRC-32 mismatch.");
        }

        return data;
    }

    public override string GetName() => "snappy";

    protected override byte[] Compress(ReadOnlySpan<byte> data)
    {
        var output = new byte[Snappier.Snappy.GetMaxCompressedLength(data.Length) + 4];
        var length = Snappier.Snappy.Compress(data, output);
        BinaryPrimitives.WriteUInt32BigEndian(output.AsSpan(length, 4), Crc32.HashToUInt32(data));
        return output.AsSpan(0, length + 4).ToArray();
    }
}

/// <summary>Avro's <c>zstandard</c> codec: each block is one Zstandard frame (level 3).</summary>
internal sealed class AvroZstandardCodec : AvroBlockCodec
{
    public override byte[] Decompress(byte[] compressedData, int length)
    {
        using var decompressor = new ZstdSharp.Decompressor();
        return decompressor.Unwrap(compressedData.AsSpan(0, length)).ToArray();
    }

    public override string GetName() => "zstandard";

    protected override byte[] Compress(ReadOnlySpan<byte> data)
    {
        using var compressor = new ZstdSharp.Compressor(3);
        return compressor.Wrap(data).ToArray();
    }
}
