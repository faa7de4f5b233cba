using System.Buffers.Binary;
using System.IO.Hashing;
using Avro.File;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>
/// Read-only <c>snappy</c> and <c>zstandard</c> codecs for Apache.Avro's reader (which ships only null and
/// deflate), written here from the Avro specification, independent of the sink's writers: snappy blocks
/// end with the big-endian CRC-32 of the uncompressed data, which is checked.
/// </summary>
public static class TestAvroCodecs
{
    private static int registered;

    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0)
        {
            Codec.RegisterResolver(name => name switch
            {
                "snappy" => new Snappy(),
                "zstandard" => new Zstandard(),
                _ => null,
            });
        }
    }

    private abstract class ReadOnlyCodec : Codec
    {
        public override byte[] Compress(byte[] uncompressedData) => throw new NotSupportedException();

        public override void Compress(MemoryStream inputStream, MemoryStream outputStream) => throw new NotSupportedException();

        public override bool Equals(object? other) => other?.GetType() == GetType();

        public override int GetHashCode() => GetName().GetHashCode(StringComparison.Ordinal);
    }

    private sealed class Snappy : ReadOnlyCodec
    {
        public override byte[] Decompress(byte[] compressedData, int length)
        {
            var data = Snappier.Snappy.DecompressToArray(compressedData.AsSpan(0, length - 4));
            var crc = BinaryPrimitives.ReadUInt32BigEndian(compressedData.AsSpan(length - 4));
            if (Crc32.HashToUInt32(data) != crc)
            {
                throw new InvalidDataException("snappy block CRC-32 mismatch");
            }

            return data;
        }

        public override string GetName() => "snappy";
    }

    private sealed class Zstandard : ReadOnlyCodec
    {
        public override byte[] Decompress(byte[] compressedData, int length)
        {
            using var decompressor = new ZstdSharp.Decompressor();
            return decompressor.Unwrap(compressedData.AsSpan(0, length)).ToArray();
        }

        public override string GetName() => "zstandard";
    }
}
