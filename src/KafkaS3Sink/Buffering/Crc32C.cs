using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// CRC-32C (Castagnoli), hardware-accelerated where the CPU has it (SSE4.2 / ARMv8 CRC). Runs of 3 x 128 bytes
/// are checksummed as three independent lanes combined at the end of each run: the CRC instruction takes
/// three cycles but can start one per cycle, so one serial chain leaves two thirds of it idle.
/// </summary>
internal static class Crc32C
{
    /// <summary>Bytes per lane; a run is three lanes.</summary>
    internal const int Lane = 128;

    // ShiftByLane[k * 256 + b] = the raw CRC register (b << 8k) after Lane zero bytes. The register update is linear
    // over GF(2), so crc(s, A || B) = shift(crc(s, A), |B|) ^ crc(0, B): a lane started from zero is moved past the
    // lanes that follow it by this table, one lookup per register byte.
    private static readonly uint[] ShiftByLane = BuildShiftTable();

    // Fully optimized from the first call: every staged and every uploaded byte passes through this loop, and a
    // sampled profile of a starting sink found it running as unoptimized tier-0 code for seconds (a tenth of the
    // consumer thread), because tiering waits for the start-up's stream of new methods to settle.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        crc = ~crc;
        while (data.Length >= 3 * Lane)
        {
            ref var run = ref MemoryMarshal.GetReference(data);
            uint first = crc, second = 0, third = 0;
            for (var i = 0; i < Lane; i += 8)
            {
                first = BitOperations.Crc32C(first, ReadLittleEndian(ref run, i));
                second = BitOperations.Crc32C(second, ReadLittleEndian(ref run, Lane + i));
                third = BitOperations.Crc32C(third, ReadLittleEndian(ref run, (2 * Lane) + i));
            }

            crc = ShiftPastLane(ShiftPastLane(first) ^ second) ^ third;
            data = data[(3 * Lane)..];
        }

        return ~SerialChain(crc, data);
    }

    /// <summary>The same checksum in one serial chain (the sink's loop until 2026-12-06; the benchmarks' baseline).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static uint AppendSerially(uint crc, ReadOnlySpan<byte> data) => ~SerialChain(~crc, data);

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SerialChain(uint register, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            register = BitOperations.Crc32C(register, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            register = BitOperations.Crc32C(register, b);
        }

        return register;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadLittleEndian(ref byte start, int at)
    {
        var value = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, at));
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ShiftPastLane(uint register)
    {
        var table = ShiftByLane;
        return table[(int)(register & 0xFF)] ^ table[256 + (int)((register >> 8) & 0xFF)]
            ^ table[512 + (int)((register >> 16) & 0xFF)] ^ table[768 + (int)(register >> 24)];
    }

    private static uint[] BuildShiftTable()
    {
        var table = new uint[4 * 256];
        for (var k = 0; k < 4; k++)
        {
            for (var b = 0; b < 256; b++)
            {
                var register = (uint)b << (8 * k);
                for (var i = 0; i < Lane; i += 8)
                {
                    register = BitOperations.Crc32C(register, 0UL);
                }

                table[(k * 256) + b] = register;
            }
        }

        return table;
    }
}
