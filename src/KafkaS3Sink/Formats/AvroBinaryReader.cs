using System.Buffers.Binary;
using System.Numerics;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Reads the values of one Avro binary datum in order (the specification's binary encoding: zig-zag varints,
/// little-endian floats, length-prefixed bytes), without allocating: bytes and strings are slices of the datum.
/// </summary>
internal ref struct AvroBinaryReader(ReadOnlySpan<byte> datum)
{
    private readonly ReadOnlySpan<byte> datum = datum;
    private int position;

    /// <summary>A <c>long</c>: a zig-zag varint of at most 10 bytes.</summary>
    public long ReadLong()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Next();
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (long)(value >> 1) ^ -(long)(value & 1);
            }
        }

        throw Malformed("a varint longer than 10 bytes");
    }

    /// <summary>An <c>int</c>: a zig-zag varint within 32 bits.</summary>
    public int ReadInt() => ReadLong() is var value and >= int.MinValue and <= int.MaxValue
        ? (int)value
        : throw Malformed("an int outside 32 bits");

    public bool ReadBoolean() => Next() != 0;

    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    public double ReadDouble() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

    /// <summary><c>bytes</c> or <c>string</c> (its UTF-8): a length, then that many bytes.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadLong();
        return length is >= 0 and <= int.MaxValue ? Take((int)length) : throw Malformed($"a length of {length}");
    }

    public ReadOnlySpan<byte> ReadFixed(int size) => Take(size);

    /// <summary>
    /// An Avro <c>decimal</c>'s unscaled value (big-endian two's complement) at <paramref name="scale"/>, as a
    /// <see cref="decimal"/>: as <c>(decimal)AvroDecimal</c> gives it.
    /// </summary>
    /// <exception cref="OverflowException">The value does not fit a <see cref="decimal"/>.</exception>
    public static decimal ToDecimal(ReadOnlySpan<byte> unscaled, int scale)
    {
        if (unscaled.Length is > 0 and <= 16)
        {
            Int128 value = (sbyte)unscaled[0];
            foreach (var b in unscaled[1..])
            {
                value = (value << 8) | b;
            }

            var negative = value < 0;
            var magnitude = (UInt128)(negative ? -value : value);
            if (magnitude >> 96 == 0 && scale is >= 0 and <= 28)
            {
                return new decimal((int)(uint)magnitude, (int)(uint)(magnitude >> 32), (int)(uint)(magnitude >> 64), negative, (byte)scale);
            }
        }

        // Wider or out of range: the slow way, which throws OverflowException as the generic path does.
        return (decimal)new BigInteger(unscaled, isUnsigned: false, isBigEndian: true) / (decimal)BigInteger.Pow(10, scale);
    }

    private byte Next() => position < datum.Length ? datum[position++] : throw Malformed("the datum ends early");

    private ReadOnlySpan<byte> Take(int length)
    {
        if (length > datum.Length - position)
        {
            throw Malformed("the datum ends early");
        }

        var value = datum.Slice(position, length);
        position += length;
        return value;
    }

    private static InvalidDataException Malformed(string what) =>
        new($"A staged Avro datum does not match its writer schema: {what}.");
}
