using System.Text;
using KafkaS3Sink.Buffering;

namespace KafkaS3Sink.Tests.Buffering;

public sealed class FileSegmentBufferTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "ks3-buffer-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void SealedSegment_ReadTwice_ReturnsEveryRecordInOrder()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: true);
        var segment = buffer.Open(new SegmentDescriptor("orders", 2, "region=eu", 100));
        for (var i = 0; i < 1000; i++)
        {
            segment.Append(100 + (i * 2), Encoding.UTF8.GetBytes($"record-{i}" + new string('x', i % 300)));
        }

        var sealedSegment = segment.Seal();

        sealedSegment.RecordCount.Should().Be(1000);
        sealedSegment.LastOffset.Should().Be(100 + (999 * 2));
        for (var pass = 0; pass < 2; pass++)
        {
            using var reader = sealedSegment.OpenReader();
            var i = 0;
            while (reader.TryRead(out var offset, out var payload))
            {
                offset.Should().Be(100 + (i * 2));
                Encoding.UTF8.GetString(payload.Span).Should().Be($"record-{i}" + new string('x', i % 300));
                i++;
            }

            i.Should().Be(1000);
        }
    }

    [Fact]
    public void Append_RoundRobinOverMoreSegmentsThanHandlesAndBuffers_EverySegmentComplete()
    {
        // 3 handles and 2 write buffers for 20 segments: every append evicts something.
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false, maxOpenHandles: 3, writeBufferSize: 64, maxWriteBuffers: 2);
        var segments = Enumerable.Range(0, 20).Select(i => buffer.Open(new SegmentDescriptor("orders", 0, "p=" + i, i))).ToList();
        for (var offset = 0; offset < 2000; offset++)
        {
            segments[offset % 20].Append(offset, Encoding.UTF8.GetBytes($"r{offset}-" + new string('y', offset % 90)));
            buffer.Statistics.OpenHandles.Should().BeLessThanOrEqualTo(3);
        }

        buffer.Statistics.OpenSegments.Should().Be(20);
        buffer.WriteSlotsCreated.Should().Be(3, "a segment that gets a handle takes the slot (and LRU nodes) an evicted one gave back");
        for (var i = 0; i < 20; i++)
        {
            using var reader = segments[i].Seal().OpenReader();
            var expected = Enumerable.Range(0, 100).Select(k => (i + (20 * k)).ToString(System.Globalization.CultureInfo.InvariantCulture));
            var read = new List<string>();
            while (reader.TryRead(out var offset, out var payload))
            {
                Encoding.UTF8.GetString(payload.Span).Should().Be($"r{offset}-" + new string('y', (int)offset % 90));
                read.Add(offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            read.Should().Equal(expected);
        }

        buffer.Statistics.OpenSegments.Should().Be(0);
        buffer.Statistics.OpenHandles.Should().Be(0);
    }

    [Fact]
    public void Seal_SegmentWithoutHandle_LeavesTheOtherSegmentsHandleAndReadsBackComplete()
    {
        // One handle for two segments: writing B evicts A (its buffer flushed, its handle closed).
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false, maxOpenHandles: 1, writeBufferSize: 1024, maxWriteBuffers: 1);
        var a = buffer.Open(new SegmentDescriptor("orders", 0, "p=a", 0));
        var b = buffer.Open(new SegmentDescriptor("orders", 0, "p=b", 1));
        a.Append(0, "a0"u8);
        b.Append(1, "b1"u8);

        var sealedA = a.Seal();

        buffer.Statistics.OpenHandles.Should().Be(1, "sealing a segment that has no handle must not take B's handle to flush nothing");
        b.Append(2, "b2"u8);
        using (var reader = sealedA.OpenReader())
        {
            reader.TryRead(out var offset, out var payload).Should().BeTrue();
            (offset, Encoding.UTF8.GetString(payload.Span)).Should().Be((0L, "a0"));
            reader.TryRead(out _, out _).Should().BeFalse();
        }

        using var readerB = b.Seal().OpenReader();
        var read = new List<(long, string)>();
        while (readerB.TryRead(out var offset, out var payload))
        {
            read.Add((offset, Encoding.UTF8.GetString(payload.Span)));
        }

        read.Should().Equal((1L, "b1"), (2L, "b2"));
    }

    [Fact]
    public void SealedAndDeletedSegment_IsNotKeptAliveByTheSlotItGaveBack()
    {
        // The slot goes back to the buffer's free list for the next segment; its LRU nodes must not keep the old one.
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false, maxOpenHandles: 4);
        var gone = SealAndDelete(buffer);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        gone.IsAlive.Should().BeFalse("a sealed, deleted segment that nothing else holds must be collectable");
        buffer.Statistics.OpenHandles.Should().Be(0);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference SealAndDelete(FileSegmentBuffer buffer)
    {
        var segment = buffer.Open(new SegmentDescriptor("orders", 0, "p=gone", 0));
        segment.Append(0, "x"u8);
        var sealedSegment = segment.Seal();
        sealedSegment.Delete();
        return new WeakReference(sealedSegment);
    }

    [Fact]
    public void WriteBuffers_GrowWithFewOpenSegments_ShrinkWithMany_AndStayWithinTheBudget()
    {
        // Budget 4 x 1 KiB. One open segment gets all of it (4 KiB: a 1.5 KiB record fits the buffer); then
        // 12 open segments share it: the large buffer is given back when taken, and four 1 KiB buffers take its place.
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false, maxOpenHandles: 16, writeBufferSize: 1024, maxWriteBuffers: 4);
        var first = buffer.Open(new SegmentDescriptor("orders", 0, "p=first", 0));
        first.Append(0, new byte[1500]);
        buffer.WriteBufferBytes.Should().Be(4096, "one open segment gets the whole budget");

        var segments = Enumerable.Range(0, 12).Select(i => buffer.Open(new SegmentDescriptor("orders", 0, "p=" + i, i))).ToList();
        for (var offset = 1; offset < 1200; offset++)
        {
            segments[offset % 12].Append(offset, Encoding.UTF8.GetBytes($"r{offset}-" + new string('z', offset % 700)));
            buffer.WriteBufferBytes.Should().BeLessThanOrEqualTo(4096);
        }

        buffer.WriteBufferCount.Should().Be(4, "13 open segments share the budget as four 1 KiB buffers, not one of 4 KiB");

        for (var i = 0; i < 12; i++)
        {
            using var reader = segments[i].Seal().OpenReader();
            var count = 0;
            while (reader.TryRead(out var offset, out var payload))
            {
                (offset % 12).Should().Be(i);
                Encoding.UTF8.GetString(payload.Span).Should().Be($"r{offset}-" + new string('z', (int)offset % 700));
                count++;
            }

            count.Should().Be(Enumerable.Range(1, 1199).Count(o => o % 12 == i));
        }

        using (var reader = first.Seal().OpenReader())
        {
            reader.TryRead(out var offset, out var payload).Should().BeTrue();
            (offset, payload.Length).Should().Be((0L, 1500));
            reader.TryRead(out _, out _).Should().BeFalse();
        }

        buffer.WriteBufferBytes.Should().Be(0, "sealed segments return their buffers");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Seal_LeavesTheBlockingPartToTheFirstRead_AndADeleteBeforeItRemovesTheTmpFile(bool fsync)
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: fsync);
        var first = buffer.Open(new SegmentDescriptor("orders", 0, "a", 0));
        first.Append(0, "one"u8);
        var sealedFirst = first.Seal();
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetExtension).Should().Equal(".tmp");

        // The upload's first read completes the seal (fsync, rename) on its own thread; without the fsync there is
        // nothing to complete (a rename would mark nothing in a folder cleared at start).
        var read = await Task.Run(() =>
        {
            using var reader = sealedFirst.OpenReader();
            reader.TryRead(out var offset, out var payload).Should().BeTrue();
            return (offset, Encoding.UTF8.GetString(payload.Span));
        });
        read.Should().Be((0L, "one"));
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(Path.GetExtension).Should().Equal(fsync ? ".seg" : ".tmp");

        var second = buffer.Open(new SegmentDescriptor("orders", 0, "b", 1));
        second.Append(1, "two"u8);
        var sealedSecond = second.Seal();
        sealedSecond.Delete();
        sealedFirst.Delete();
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Should().BeEmpty();
        buffer.Statistics.StagedBytes.Should().Be(0);
        var late = () => sealedSecond.OpenReader();
        late.Should().Throw<ObjectDisposedException>("a deleted segment is not read");
    }

    [Fact]
    public void StagedBytes_FollowAppendsSealsAndDeletes()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var a = buffer.Open(new SegmentDescriptor("orders", 0, "a", 0));
        var b = buffer.Open(new SegmentDescriptor("orders", 1, "b", 0));
        a.Append(0, new byte[100]);
        b.Append(0, new byte[50]);
        var headers = buffer.Statistics.StagedBytes - 150 - (2 * SegmentFileFormat.RecordHeaderSize);

        var sealedA = a.Seal();
        buffer.DiscardPartition("orders", 1);
        buffer.Statistics.StagedBytes.Should().Be(new FileInfo(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Single()).Length);
        sealedA.Delete();

        buffer.Statistics.StagedBytes.Should().Be(0);
        headers.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Reader_FlippedPayloadByte_DetectsChecksumMismatch()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var segment = buffer.Open(new SegmentDescriptor("orders", 0, "p", 0));
        segment.Append(0, "hello"u8);
        segment.Append(1, "world"u8);
        var sealedSegment = segment.Seal();

        // Its seal completes (the rename to .seg) on the first read, on the upload's thread.
        var file = Directory.EnumerateFiles(root, "*.tmp", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0x20; // "world" -> "worlD"
        File.WriteAllBytes(file, bytes);

        using var reader = sealedSegment.OpenReader();
        reader.TryRead(out _, out var first).Should().BeTrue();
        Encoding.UTF8.GetString(first.Span).Should().Be("hello");
        var act = () => reader.TryRead(out _, out _);
        act.Should().Throw<InvalidDataException>().WithMessage("*checksum mismatch*offset 1*");
    }

    [Fact]
    public void Constructor_LeftoverFiles_AreClearedBecauseDiskIsACache()
    {
        Directory.CreateDirectory(Path.Combine(root, "orders", "0"));
        File.WriteAllText(Path.Combine(root, "orders", "0", "stale.seg.tmp"), "torn");

        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);

        Directory.EnumerateFileSystemEntries(root).Should().BeEmpty();
    }

    [Fact]
    public void DiscardPartition_RemovesOnlyThatPartition()
    {
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        buffer.Open(new SegmentDescriptor("orders", 0, "p", 0)).Append(0, "a"u8);
        buffer.Open(new SegmentDescriptor("orders", 1, "p", 0)).Append(0, "b"u8);

        buffer.DiscardPartition("orders", 0);

        Directory.EnumerateFiles(Path.Combine(root, "orders", "0")).Should().BeEmpty();
        Directory.EnumerateFiles(Path.Combine(root, "orders", "1")).Should().ContainSingle();
    }

    [Fact]
    public void DiscardPartition_AfterSealsAtHeadMiddleAndTail_DiscardsExactlyTheStillOpenOnes()
    {
        // A topic-partition's open segments are a list linked through the segments: sealing unlinks from any place.
        using var buffer = new FileSegmentBuffer(root, fsyncOnSeal: false);
        var segments = Enumerable.Range(0, 5).Select(i => buffer.Open(new SegmentDescriptor("orders", 0, $"p={i}", 10 + i))).ToArray();
        var other = Enumerable.Range(0, 2).Select(i => buffer.Open(new SegmentDescriptor("orders", 1, $"p={i}", i))).ToArray();
        foreach (var (segment, i) in segments.Concat(other).Select((s, i) => (s, i)))
        {
            segment.Append(segment.Descriptor.StartOffset, Encoding.UTF8.GetBytes($"record-{i}"));
        }

        var sealedSegments = new[] { segments[0], segments[2], segments[4] }.Select(s => s.Seal()).ToArray();
        buffer.Statistics.OpenSegments.Should().Be(4);
        buffer.OpenSegmentsOf("orders", 0).Should().Be(2);

        buffer.DiscardPartition("orders", 0);

        buffer.Statistics.OpenSegments.Should().Be(2);
        (buffer.OpenSegmentsOf("orders", 0), buffer.OpenSegmentsOf("orders", 1)).Should().Be((0, 2));
        Directory.EnumerateFiles(Path.Combine(root, "orders", "0")).Should().HaveCount(3, "the sealed segments belong to their rotation");
        Directory.EnumerateFiles(Path.Combine(root, "orders", "1")).Should().HaveCount(2);
        var discard = () => segments[1].Append(20, "late"u8);
        discard.Should().Throw<ObjectDisposedException>();
        sealedSegments.Select(s => s.Descriptor).Should().Equal(
            new SegmentDescriptor("orders", 0, "p=0", 10), new SegmentDescriptor("orders", 0, "p=2", 12), new SegmentDescriptor("orders", 0, "p=4", 14));
        foreach (var (segment, i) in sealedSegments.Zip(new[] { 0, 2, 4 }))
        {
            using var reader = segment.OpenReader();
            reader.TryRead(out var offset, out var payload).Should().BeTrue();
            (offset, Encoding.UTF8.GetString(payload.Span)).Should().Be((10 + i, $"record-{i}"));
            reader.TryRead(out _, out _).Should().BeFalse();
        }

        buffer.DiscardPartition("orders", 1);
        buffer.Statistics.OpenSegments.Should().Be(0);
        buffer.Open(new SegmentDescriptor("orders", 0, "p=9", 30)).Append(30, "again"u8);
        buffer.Statistics.OpenSegments.Should().Be(1);
        buffer.OpenSegmentsOf("orders", 0).Should().Be(1);
    }

    [Fact]
    public void Header_RoundTrips_AndRejectsCorruption()
    {
        var descriptor = new SegmentDescriptor("örders", 7, "region=eu/year=2026", 123456789012);
        var header = SegmentFileFormat.EncodeHeader(descriptor);

        SegmentFileFormat.TryReadHeader(new MemoryStream(header)).Should().Be(descriptor);
        header[10] ^= 1;
        SegmentFileFormat.TryReadHeader(new MemoryStream(header)).Should().BeNull();
        SegmentFileFormat.TryReadHeader(new MemoryStream(header[..10])).Should().BeNull();
    }

    [Fact]
    public void Crc32C_KnownVector()
    {
        // RFC 3720 test vector: 32 bytes of zeros -> 0x8A9136AA.
        Crc32C.Compute(new byte[32]).Should().Be(0x8A9136AAu);
        Crc32C.Compute("123456789"u8).Should().Be(0xE3069283u);
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}

public sealed class StagingLockTests : IDisposable
{
    private readonly string root = Path.Combine(Path.GetTempPath(), "ks3-lock-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void Acquire_FolderAlreadyLocked_FailsNamingTheFolder()
    {
        using var first = StagingLock.Acquire(root);

        var second = () => StagingLock.Acquire(root);

        second.Should().Throw<KafkaS3SinkException>().WithMessage($"*'{root}' is in use by another sink*");
    }

    [Fact]
    public void Acquire_AfterRelease_Succeeds()
    {
        StagingLock.Acquire(root).Dispose();

        using var again = StagingLock.Acquire(root);
        again.Should().NotBeNull();
    }

    public void Dispose()
    {
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
