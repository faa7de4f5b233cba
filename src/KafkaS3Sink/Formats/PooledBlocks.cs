using System.Buffers;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Pooled blocks that a row group's variable-length values (text as characters, binary as bytes) are copied into,
/// so that a value is a <see cref="ReadOnlyMemory{T}"/> slice of a block rather than an array or string of its own.
/// <see cref="Reset"/> makes the blocks free for the next row group (the slices handed out before become invalid);
/// <see cref="Dispose"/> returns them to <see cref="ArrayPool{T}.Shared"/>.
/// </summary>
/// <typeparam name="T">The element: <see cref="char"/> or <see cref="byte"/>.</typeparam>
internal sealed class PooledBlocks<T> : IDisposable
{
    private const int BlockLength = 64 * 1024;
    private readonly List<T[]> blocks = [];

    /// <summary>The block being filled (-1: none yet) and how much of it is used.</summary>
    private int block = -1;
    private int used;

    /// <summary>Room for at most <paramref name="length"/> elements; <see cref="Take"/> then keeps what was written.</summary>
    public Span<T> Reserve(int length)
    {
        while (block >= 0 && block < blocks.Count)
        {
            if (blocks[block].Length - used >= length)
            {
                return blocks[block].AsSpan(used, length);
            }

            block++;
            used = 0;
        }

        blocks.Add(ArrayPool<T>.Shared.Rent(Math.Max(BlockLength, length)));
        block = blocks.Count - 1;
        used = 0;
        return blocks[block].AsSpan(0, length);
    }

    /// <summary>Keeps the first <paramref name="written"/> elements of the last <see cref="Reserve"/> and returns them.</summary>
    public ReadOnlyMemory<T> Take(int written)
    {
        var value = blocks[block].AsMemory(used, written);
        used += written;
        return value;
    }

    /// <summary>A copy of <paramref name="value"/> in a block.</summary>
    public ReadOnlyMemory<T> Copy(ReadOnlySpan<T> value)
    {
        value.CopyTo(Reserve(value.Length));
        return Take(value.Length);
    }

    /// <summary>Every block free again, from the first (the values handed out so far become invalid).</summary>
    public void Reset()
    {
        block = blocks.Count > 0 ? 0 : -1;
        used = 0;
    }

    /// <summary>Returns the blocks to the pool.</summary>
    public void Dispose()
    {
        foreach (var b in blocks)
        {
            ArrayPool<T>.Shared.Return(b);
        }

        blocks.Clear();
        block = -1;
        used = 0;
    }
}
