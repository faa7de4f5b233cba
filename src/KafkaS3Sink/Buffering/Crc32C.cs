using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace KafkaS3Sink.Buffering;

/// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it (SSE4.2 / ARMv8 CRC).</summary>
internal static class Crc32C
{
    // Fully optimized from the first call: every staged and every uploaded byte passes through this loop, and a
    // sampled profile of a starting sink found it running as unoptimized tier-0 code for seconds (a tenth of the
    // consumer thread), because tiering waits for the start-up's stream of new methods to settle.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);
}
