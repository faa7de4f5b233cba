using System.Buffers;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace KafkaS3Sink.Buffering;

/// <summary>
/// Stages segments as files: <c>&lt;root&gt;/&lt;topic&gt;/&lt;partition&gt;/&lt;start&gt;-&lt;pathhash&gt;-&lt;n&gt;.seg</c>
/// (<c>.tmp</c> while open). Two LRUs keep resources flat whatever the number of open segments:
/// at most <c>maxOpenHandles</c> segments hold a file handle (an evicted one flushes, closes and reopens
/// to append), and at most <c>maxWriteBuffers</c> of those hold a pooled write buffer (an evicted one
/// flushes; a segment without a buffer borrows the least recently used one). The buffers share a budget of
/// <c>maxWriteBuffers × writeBufferSize</c> bytes: with few open segments each gets a larger buffer (up to
/// <see cref="MaxAdaptiveBufferSize"/>; fewer write calls), with many each gets <c>writeBufferSize</c>. Memory is
/// therefore about that budget; handles cost kernel memory only.
/// The folder is a cache, cleared when the buffer is created.
/// </summary>
/// <remarks>Appending, opening, sealing and discarding happen on one thread (the sink's consumer thread);
/// sealed segments are read and deleted from upload threads.</remarks>
internal sealed partial class FileSegmentBuffer : ISegmentBuffer
{
    private readonly string root;
    private readonly bool fsyncOnSeal;
    private readonly int maxOpenHandles;
    private readonly int maxWriteBuffers;
    private readonly int writeBufferSize;
    private readonly long bufferBudget;
    private readonly LinkedList<FileSegment> handleLru = new();
    private readonly LinkedList<FileSegment> bufferLru = new();
    private int openSegments;
    private readonly Dictionary<(string Topic, int Partition), PartitionFolder> folders = [];
    private long sequence;
    private long stagedBytes;

    /// <summary>Bytes of write buffers held by segments.</summary>
    private long bufferBytes;

    /// <summary>
    /// Write buffers no segment holds, kept for the next segments (held and free together stay within the budget).
    /// Not <see cref="ArrayPool{T}.Shared"/>: it keeps returned arrays for reuse and trims them only at full
    /// collections after a while unused, so the large buffers of a run's first seconds stayed next to the small
    /// ones that replaced them.
    /// </summary>
    private readonly Stack<byte[]> freeBuffers = new();
    private long freeBufferBytes;

    /// <summary>Slots of closed handles, for the next segments to open one (at most <c>maxOpenHandles</c> slots exist).</summary>
    private readonly Stack<WriteSlot> freeSlots = new();

    /// <summary>Why a segment lost buffered records (a failed flush on eviction); rare, so not a field of every segment.</summary>
    private readonly Dictionary<FileSegment, IOException> failures = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The largest write buffer a segment gets when few are open. A write call costs ~4 µs of system time on this
    /// project's VM whatever its size up to 64 KiB (dd: 8 KiB writes 0.11 s per 200 MB, 128 KiB 0.03 s).
    /// </summary>
    private const int MaxAdaptiveBufferSize = 64 * 1024;

    public FileSegmentBuffer(string root, bool fsyncOnSeal, int maxOpenHandles = 1024, int writeBufferSize = 8 * 1024, int maxWriteBuffers = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpenHandles, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWriteBuffers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(writeBufferSize, 64);
        this.root = Path.GetFullPath(root);
        this.fsyncOnSeal = fsyncOnSeal;
        this.maxOpenHandles = maxOpenHandles;
        this.maxWriteBuffers = Math.Min(maxWriteBuffers, maxOpenHandles);
        this.writeBufferSize = writeBufferSize;
        bufferBudget = (long)this.maxWriteBuffers * writeBufferSize;

        // The disk is a cache, not the truth: whatever a previous run left (torn tails included) is
        // replayed from Kafka's committed offsets rather than trusted. See docs/architecture.md.
        if (Directory.Exists(this.root))
        {
            Directory.Delete(this.root, recursive: true);
        }

        Directory.CreateDirectory(this.root);
    }

    /// <summary>Bytes of write buffers held (at most the budget, <c>maxWriteBuffers × writeBufferSize</c>).</summary>
    internal long WriteBufferBytes => bufferBytes;

    /// <summary>Write buffers held by open segments (for tests).</summary>
    internal int WriteBufferCount => bufferLru.Count;

    /// <summary>Write slots created so far: at most <c>maxOpenHandles</c>, however many segments took turns (for tests).</summary>
    internal int WriteSlotsCreated { get; private set; }

    /// <summary>The open segments of a topic-partition, counted along their links (for tests).</summary>
    internal int OpenSegmentsOf(string topic, int partition)
    {
        var count = 0;
        for (var segment = folders.GetValueOrDefault((topic, partition))?.FirstOpen; segment is not null; segment = segment.NextOpen)
        {
            count++;
        }

        return count;
    }

    public SegmentBufferStatistics Statistics => new(openSegments, handleLru.Count, Interlocked.Read(ref stagedBytes));

    public IOpenSegment Open(SegmentDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var folder = FolderOf(descriptor.Topic, descriptor.Partition);
        if (folder.FirstOpen is null)
        {
            Directory.CreateDirectory(folder.Directory);
        }

        var segment = new FileSegment(folder, descriptor.PartitionPath, descriptor.StartOffset, ++sequence);
        folder.Link(segment);
        openSegments++;

        try
        {
            segment.WriteHeader(SegmentFileFormat.EncodeHeader(descriptor));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // E.g. a read-only or full staging volume: the segment never existed.
            segment.Discard();
            throw;
        }

        return segment;
    }

    /// <summary>Discards the open segments of a topic-partition. Sealed segments belong to their rotation and are deleted by it.</summary>
    public void DiscardPartition(string topic, int partition)
    {
        if (!folders.TryGetValue((topic, partition), out var folder))
        {
            return;
        }

        for (var segment = folder.FirstOpen; segment is not null;)
        {
            var next = segment.NextOpen;
            segment.Discard();
            segment = next;
        }
    }

    public void Dispose()
    {
        foreach (var segment in handleLru.ToArray())
        {
            segment.CloseHandle();
        }
    }

    /// <summary>
    /// Deletes a staging file that is no longer needed. A file that cannot be deleted (a read-only or failing
    /// volume) stays behind and is cleared when the sink next starts; it must not stop the sink.
    /// </summary>
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Cleared at the next start (the staging folder is a cache).
        }
    }

    /// <summary>The hash of a partition path in a segment's file name (its UTF-8 hashed on the stack when short).</summary>
    private static ulong PathHash(string path)
    {
        var length = Encoding.UTF8.GetMaxByteCount(path.Length);
        Span<byte> utf8 = length <= 512 ? stackalloc byte[length] : new byte[length];
        return XxHash64.HashToUInt64(utf8[..Encoding.UTF8.GetBytes(path, utf8)]);
    }

    /// <summary>What the segments of a topic-partition share: one object per topic-partition.</summary>
    private PartitionFolder FolderOf(string topic, int partition)
    {
        if (!folders.TryGetValue((topic, partition), out var folder))
        {
            folder = new PartitionFolder(this, topic, partition, Path.Combine(root, topic, partition.ToString(CultureInfo.InvariantCulture)));
            folders[(topic, partition)] = folder;
        }

        return folder;
    }

    /// <summary>Gives the segment a handle and a write buffer, evicting the least recently used ones.</summary>
    private void Touch(FileSegment segment)
    {
        var slot = segment.Slot;
        if (slot is null)
        {
            while (handleLru.Count >= maxOpenHandles)
            {
                handleLru.Last!.Value.CloseHandle();
            }

            if (!freeSlots.TryPop(out slot))
            {
                slot = new WriteSlot();
                WriteSlotsCreated++;
            }

            try
            {
                segment.OpenHandle(slot);
            }
            catch
            {
                freeSlots.Push(slot);
                throw;
            }

            handleLru.AddFirst(slot.HandleNode);
        }
        else if (handleLru.First != slot.HandleNode)
        {
            handleLru.Remove(slot.HandleNode);
            handleLru.AddFirst(slot.HandleNode);
        }

        if (slot.Buffer is null)
        {
            byte[] buffer;
            var size = AdaptiveBufferSize();
            if (bufferLru.Count >= maxWriteBuffers || (bufferLru.Count > 0 && bufferBytes + size > bufferBudget))
            {
                buffer = bufferLru.Last!.Value.TakeBuffer();
                if (buffer.Length >= 2 * size)
                {
                    // Sized when fewer segments were open: the budget now buys more, smaller buffers. Passed on as
                    // it was, the 128 64 KiB buffers of a run's first seconds served 100,000 segments, not 1,024.
                    ReturnBuffer(buffer);
                    buffer = RentBuffer(size);
                }
            }
            else
            {
                buffer = RentBuffer(size);
            }

            segment.GiveBuffer(buffer);
            bufferLru.AddFirst(slot.BufferNode);
        }
        else if (bufferLru.First != slot.BufferNode)
        {
            bufferLru.Remove(slot.BufferNode);
            bufferLru.AddFirst(slot.BufferNode);
        }
    }

    private void Closed(FileSegment segment)
    {
        segment.Folder.Unlink(segment);
        openSegments--;
    }

    /// <summary>The budget shared by the open segments, a power of two between writeBufferSize and <see cref="MaxAdaptiveBufferSize"/>.</summary>
    private int AdaptiveBufferSize()
    {
        var share = bufferBudget / Math.Max(openSegments, 1);
        if (share <= writeBufferSize)
        {
            return writeBufferSize;
        }

        return (int)Math.Max(writeBufferSize, Math.Min(MaxAdaptiveBufferSize, 1L << System.Numerics.BitOperations.Log2((ulong)share)));
    }

    /// <summary>A free buffer of the size, or a new one; free buffers of another size are dropped (the share changed).</summary>
    private byte[] RentBuffer(int size)
    {
        byte[]? buffer = null;
        while (buffer is null && freeBuffers.TryPop(out var free))
        {
            freeBufferBytes -= free.Length;
            if (free.Length == size)
            {
                buffer = free;
            }
        }

        buffer ??= GC.AllocateUninitializedArray<byte>(size);
        bufferBytes += buffer.Length;
        return buffer;
    }

    /// <summary>Keeps a buffer a segment gave up for the next one, within the budget; beyond it, leaves it to the GC.</summary>
    private void ReturnBuffer(byte[] buffer)
    {
        bufferBytes -= buffer.Length;
        if (bufferBytes + freeBufferBytes + buffer.Length <= bufferBudget)
        {
            freeBuffers.Push(buffer);
            freeBufferBytes += buffer.Length;
        }
    }

    /// <summary>
    /// What a segment holds only while it has a file handle: the handle, the write buffer (if it has one too) and the
    /// segment's places in the two LRUs. At most <c>maxOpenHandles</c> exist, reused from segment to segment with
    /// their nodes: in every segment these were 36 bytes more per open segment, and an LRU node allocated per
    /// handle and per buffer a segment got (a few per record at 100,000 open files).
    /// </summary>
    private sealed class WriteSlot
    {
        public WriteSlot()
        {
            HandleNode = new LinkedListNode<FileSegment>(null!);
            BufferNode = new LinkedListNode<FileSegment>(null!);
        }

        public SafeFileHandle? Handle { get; set; }

        /// <summary>The write buffer, while the segment also holds one of the <c>maxWriteBuffers</c>.</summary>
        public byte[]? Buffer { get; set; }

        /// <summary>Bytes in <see cref="Buffer"/> not yet written to the file.</summary>
        public int Buffered { get; set; }

        /// <summary>The segment's place in the LRU of handles (its value is the segment holding the slot).</summary>
        public LinkedListNode<FileSegment> HandleNode { get; }

        /// <summary>The segment's place in the LRU of write buffers, in the list while <see cref="Buffer"/> is held.</summary>
        public LinkedListNode<FileSegment> BufferNode { get; }
    }

    /// <summary>
    /// What every segment of a topic-partition shares — the buffer, the topic-partition and its folder — held once
    /// instead of in each segment (with 100,000 open segments, a descriptor and three more fields each were ~6 MB),
    /// and the list of its open segments, linked through the segments: a hash set per topic-partition cost ~35 bytes
    /// per open segment with its spare capacity, the two links 16.
    /// </summary>
    private sealed class PartitionFolder(FileSegmentBuffer owner, string topic, int partition, string directory)
    {
        public FileSegmentBuffer Owner { get; } = owner;

        public string Topic { get; } = topic;

        public int Partition { get; } = partition;

        /// <summary>The folder of the topic-partition's segment files.</summary>
        public string Directory { get; } = directory;

        /// <summary>The most recently opened of its open segments; null when none is open.</summary>
        public FileSegment? FirstOpen { get; private set; }

        public void Link(FileSegment segment)
        {
            segment.NextOpen = FirstOpen;
            if (FirstOpen is not null)
            {
                FirstOpen.PreviousOpen = segment;
            }

            FirstOpen = segment;
        }

        public void Unlink(FileSegment segment)
        {
            if (segment.PreviousOpen is null)
            {
                FirstOpen = segment.NextOpen;
            }
            else
            {
                segment.PreviousOpen.NextOpen = segment.NextOpen;
            }

            if (segment.NextOpen is not null)
            {
                segment.NextOpen.PreviousOpen = segment.PreviousOpen;
            }

            segment.PreviousOpen = null;
            segment.NextOpen = null;
        }
    }
}
