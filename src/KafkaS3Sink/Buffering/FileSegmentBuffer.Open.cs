using Microsoft.Win32.SafeHandles;

namespace KafkaS3Sink.Buffering;

/// <summary>The open side of <see cref="FileSegmentBuffer"/>: appending to a segment through its handle and write buffer, sealing and discarding it (consumer thread).</summary>
internal sealed partial class FileSegmentBuffer
{
    /// <summary>
    /// A staged segment, open and then sealed: <see cref="Seal"/> returns the same object. One object per segment
    /// for its whole life, not an open one and then a sealed one: at 100,000 open files a rotation would otherwise
    /// allocate 100,000 sealed objects (and a lock each) while the open ones still wait for a full collection.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The handle is closed by CloseHandle, Seal or Discard; the owner closes every handle on Dispose.")]
    private sealed partial class FileSegment : IOpenSegment, ISealedSegment
    {
        private readonly string path;
        private readonly long startOffset;
        private readonly long sequence;

        /// <summary>Its handle and write buffer while it has a handle; null otherwise (most of 100,000 open segments).</summary>
        private WriteSlot? slot;
        private long fileLength;
        private long lastOffset = -1;
        private bool closed;

        public FileSegment(PartitionFolder folder, string path, long startOffset, long sequence)
        {
            Folder = folder;
            this.path = path;
            this.startOffset = startOffset;
            this.sequence = sequence;
        }

        /// <summary>
        /// Built when asked for (by the upload, a few times per object) from what the segment keeps anyway: a
        /// descriptor held per segment would be 48 bytes more per open segment.
        /// </summary>
        public SegmentDescriptor Descriptor => new(Folder.Topic, Folder.Partition, path, startOffset);

        /// <summary>What it shares with the other segments of its topic-partition.</summary>
        public PartitionFolder Folder { get; }

        /// <summary>Its neighbours in its topic-partition's list of open segments (<see cref="PartitionFolder.FirstOpen"/>).</summary>
        public FileSegment? PreviousOpen { get; set; }

        /// <inheritdoc cref="PreviousOpen"/>
        public FileSegment? NextOpen { get; set; }

        public long RecordCount { get; private set; }

        public long Bytes { get; private set; }

        /// <summary>Its handle and write buffer, and their places in the LRUs, while it has a handle.</summary>
        public WriteSlot? Slot => slot;

        public void WriteHeader(byte[] header)
        {
            Owner.Touch(this);
            Interlocked.Add(ref Owner.stagedBytes, header.Length);
            Write(header);
        }

        public void Append(long offset, ReadOnlySpan<byte> payload)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            ThrowIfFailed();
            Owner.Touch(this);
            Span<byte> header = stackalloc byte[SegmentFileFormat.RecordHeaderSize];
            SegmentFileFormat.WriteRecordHeader(header, offset, payload);

            // Counted when accepted, so the quota sees bytes still in the write buffer.
            Interlocked.Add(ref Owner.stagedBytes, header.Length + payload.Length);
            Write(header);
            Write(payload);
            RecordCount++;
            Bytes += payload.Length;
            lastOffset = offset;
        }

        /// <summary>Opens (or reopens, to append) the file into the slot, which the segment holds from then on.</summary>
        public void OpenHandle(WriteSlot handleSlot)
        {
            handleSlot.Handle = File.OpenHandle(Name.Staging, fileLength == 0 ? FileMode.CreateNew : FileMode.Open, FileAccess.Write, FileShare.Read);
            handleSlot.HandleNode.Value = this;
            handleSlot.BufferNode.Value = this;
            slot = handleSlot;
        }

        public void GiveBuffer(byte[] writeBuffer)
        {
            slot!.Buffer = writeBuffer;
            slot.Buffered = 0;
        }

        /// <summary>Flushes the write buffer and hands it over (the LRU gives it to another segment).</summary>
        public byte[] TakeBuffer()
        {
            try
            {
                FlushBuffer();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The buffered records are gone: the segment must never be sealed as if complete.
                Owner.failures[this] = ex as IOException ?? new IOException(ex.Message, ex);
                slot!.Buffered = 0;
            }

            var held = slot!;
            Owner.bufferLru.Remove(held.BufferNode);
            var taken = held.Buffer!;
            held.Buffer = null;
            return taken;
        }

        /// <summary>Flushes and closes the file handle (the segment stays open logically).</summary>
        public void CloseHandle()
        {
            ReleaseBuffer(flush: true);
            Release();
        }

        public ISealedSegment Seal()
        {
            ObjectDisposedException.ThrowIf(closed, this);
            ThrowIfFailed();

            // Only a segment holding a write buffer has bytes not yet in its file (an evicted buffer was flushed): one
            // without a handle is sealed as it is, not given a handle and a buffer to flush nothing (at 100,000 open
            // files a rotation sealed 96 % of its segments that way, each evicting another segment's handle).
            FlushBuffer();

            // The fsync and the rename are the seal's blocking part: the upload does them, off the consumer thread,
            // before it first reads the segment (Complete). No record is appended after this.
            Release();
            Close();
            return this;
        }

        public void Discard()
        {
            if (closed)
            {
                return;
            }

            var staged = fileLength + (slot?.Buffered ?? 0);
            Release();
            Interlocked.Add(ref Owner.stagedBytes, -staged);
            Close();
            DeleteQuietly(Name.Staging);
        }

        private FileSegmentBuffer Owner => Folder.Owner;

        /// <summary>The segment's file names, built when a file is opened, renamed or deleted (the hash is recomputed then).</summary>
        private SegmentFileName Name => new(Folder.Directory, startOffset, PathHash(path), sequence);

        private void ThrowIfFailed()
        {
            // Empty but for a failed flush on eviction, so the check costs a count per record.
            if (Owner.failures.Count > 0 && Owner.failures.TryGetValue(this, out var failure))
            {
                throw new IOException($"Segment '{Name.Staging}' lost buffered records when its buffer was flushed on eviction: {failure.Message}", failure);
            }
        }

        private void Close()
        {
            closed = true;
            Owner.failures.Remove(this);

            Owner.Closed(this);
        }

        private void Write(ReadOnlySpan<byte> data)
        {
            var held = slot!;
            var buffer = held.Buffer!;
            var free = buffer.Length - held.Buffered;
            if (data.Length <= free)
            {
                data.CopyTo(buffer.AsSpan(held.Buffered));
                held.Buffered += data.Length;
                return;
            }

            FlushBuffer();
            if (data.Length >= buffer.Length)
            {
                RandomAccess.Write(held.Handle!, data, fileLength);
                fileLength += data.Length;
                return;
            }

            data.CopyTo(buffer);
            held.Buffered = data.Length;
        }

        private void FlushBuffer()
        {
            if (slot is { Buffered: > 0 } held)
            {
                RandomAccess.Write(held.Handle!, held.Buffer.AsSpan(0, held.Buffered), fileLength);
                fileLength += held.Buffered;
                held.Buffered = 0;
            }
        }

        private void ReleaseBuffer(bool flush)
        {
            if (slot?.Buffer is not { } buffer)
            {
                return;
            }

            if (flush)
            {
                Owner.ReturnBuffer(TakeBuffer());
                return;
            }

            Owner.bufferLru.Remove(slot.BufferNode);
            Owner.ReturnBuffer(buffer);
            slot.Buffer = null;
            slot.Buffered = 0;
        }

        /// <summary>Gives the write buffer back unflushed, closes the handle and returns the slot for the next segment.</summary>
        private void Release()
        {
            ReleaseBuffer(flush: false);
            if (slot is not { } held)
            {
                return;
            }

            Owner.handleLru.Remove(held.HandleNode);
            held.Handle!.Dispose();
            held.Handle = null;
            held.HandleNode.Value = null!;
            held.BufferNode.Value = null!;
            slot = null;

            // The slot (and its LRU nodes, which no longer point at this segment) serves the next segment that opens one.
            Owner.freeSlots.Push(held);
        }
    }
}
