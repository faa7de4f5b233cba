using System.Diagnostics;
using KafkaS3Sink.IntegrationTests.Infrastructure;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Faults of the staging folder: read-only, a segment cut short, wiped.</summary>
public sealed partial class FaultTests
{
    /// <summary>Scenario 5a: the staging folder is read-only for 20 s (the sink pauses, then re-reads), then writable again.</summary>
    [Fact]
    public async Task StagingReadOnlyFor20s_SinkPausesAndRecoversExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("rostage");
        using var sink = Sink(topic, bucket, servers.S3.Endpoint, flushSize: 250);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);
        Produce(topic, 0, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90), run);

        Chattr("+i");
        try
        {
            Produce(topic, 2_000, 2_000);
            await Task.Delay(TimeSpan.FromSeconds(20));
            run.IsCompleted.Should().BeFalse("a read-only staging folder must not stop the sink");
            sink.GetStatus().State.Should().Be(SinkState.Running);
        }
        finally
        {
            Chattr("-i");
        }

        var recovery = Stopwatch.StartNew();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(90), run);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after the staging folder became writable");
        await StopAsync(stop, run);
        logLines.Should().Contain(l => l.StartsWith("Consumption paused: a staging write failed", StringComparison.Ordinal));
        await AssertExactlyOnceAsync(bucket, 4_000);
    }

    /// <summary>Scenario 5b: an open segment is truncated under the sink: the partition is re-read from its last commit.</summary>
    [Fact]
    public async Task OpenSegmentTruncatedUnderTheSink_PartitionIsReplayedExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("trunc");
        // Write buffers of 512 B (a budget of 2 KiB for the 4 open segments): records reach the file as they come,
        // so the cut below destroys records on disk (with the default budget each partition's ~28 KB would sit in
        // its write buffer until the seal, and cutting the still empty file would change nothing).
        using var sink = Sink(topic, bucket, servers.S3.Endpoint, flushSize: 100_000, o =>
        {
            o.IdleRotateInterval = TimeSpan.FromSeconds(4);
            o.Staging.WriteBufferSize = 512;
            o.Staging.MaxWriteBuffers = 4;
        });
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);
        Produce(topic, 0, 4_000);

        // Wait until records are staged on disk in an open segment, then cut it to 100 bytes.
        var segments = Path.Combine(staging, "segments");
        string[] open = [];
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((open = Directory.Exists(segments) ? Directory.GetFiles(segments, "*.tmp", SearchOption.AllDirectories).Where(f => new FileInfo(f).Length > 2_000).ToArray() : []).Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        open.Should().NotBeEmpty();
        using (var file = new FileStream(open[0], FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(100);
        }

        var recovery = Stopwatch.StartNew();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(90), run);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after the segment was truncated");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        await StopAsync(stop, run);
        logLines.Should().Contain(l => l.Contains("cannot be read", StringComparison.Ordinal) && l.Contains("re-read from offset", StringComparison.Ordinal));
        await AssertExactlyOnceAsync(bucket, 4_000);
    }

    /// <summary>
    /// Scenario 5c: the whole staging folder is deleted under the running sink (a clean-up of /tmp, an operator), with
    /// records staged in open segments and gzip output (formatted into the folder's <c>.objects/</c> before upload).
    /// The open segments' records are re-read from Kafka and every folder is made again.
    /// </summary>
    [Fact]
    public async Task StagingFolderDeletedUnderTheSink_FoldersAreMadeAgainAndEveryRecordLandsOnce()
    {
        var (topic, bucket) = await SetUpAsync("wiped");
        using var sink = Sink(topic, bucket, servers.S3.Endpoint, flushSize: 250, o => o.Compression = OutputCompression.Gzip);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);

        // 525 records per partition: two objects each, and 25 records staged in an open segment.
        Produce(topic, 0, 2_100);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90), run);
        await Task.Delay(500); // the last 25 of each partition reach their open segments
        Directory.Exists(Path.Combine(staging, ".objects")).Should().BeTrue("gzip objects are formatted there");
        DeleteWhileInUse(staging);

        Produce(topic, 2_100, 1_900);
        var recovery = Stopwatch.StartNew();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(90), run);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after the staging folder was deleted");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        await StopAsync(stop, run);
        await AssertExactlyOnceAsync(bucket, 4_000);
    }

    /// <summary>
    /// Scenario 5d: the staging volume fills up (another process's file takes every free byte) for 15 s, with the
    /// free-disk watermark off (<c>MinFreeDiskBytes = 0</c>) so that the sink's writes, not its watermark, meet the
    /// full disk (ENOSPC). The sink pauses, stays Running, and once the file is gone every record lands once.
    /// </summary>
    [Fact]
    public async Task StagingVolumeFullFor15s_SinkPausesAndRecoversExactlyOnce()
    {
        MountStagingVolume(64);
        var (topic, bucket) = await SetUpAsync("fullvol");
        using var sink = Sink(topic, bucket, servers.S3.Endpoint, flushSize: 250, o => o.Staging.MinFreeDiskBytes = 0);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);
        Produce(topic, 0, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90), run);

        var ballast = Path.Combine(staging, "ballast");
        var filled = FillVolume(ballast);
        output.WriteLine($"ballast of {filled:N0} bytes; {new DriveInfo(staging).AvailableFreeSpace:N0} bytes free");
        Produce(topic, 2_000, 2_000);
        await Task.Delay(TimeSpan.FromSeconds(15));
        run.IsCompleted.Should().BeFalse("a full staging volume must not stop the sink");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        SinkTestKit.Committed(servers.Kafka, topic, topic, Partitions).Should().OnlyContain(c => c < 1_000, "nothing could be staged, so nothing past it was committed");
        File.Delete(ballast);

        var recovery = Stopwatch.StartNew();
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(90), run);
        output.WriteLine($"all committed {recovery.Elapsed.TotalSeconds:0.0} s after the ballast was deleted");
        await StopAsync(stop, run);
        logLines.Should().Contain(l => l.StartsWith("Consumption paused: a staging write failed", StringComparison.Ordinal) && l.Contains("No space left on device", StringComparison.Ordinal));
        await AssertExactlyOnceAsync(bucket, 4_000);
    }

    /// <summary>Writes a file until the volume has no byte left; returns its length.</summary>
    private static long FillVolume(string path)
    {
        var chunk = new byte[64 * 1024];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException)
        {
            // Full: the last chunk may be partly written; fill the rest byte by byte.
            try
            {
                while (true)
                {
                    file.WriteByte(0);
                }
            }
            catch (IOException)
            {
                return file.Length;
            }
        }
    }

    /// <summary>Deletes a folder the sink may be writing into: a file created meanwhile makes a pass fail, so try again.</summary>
    private static void DeleteWhileInUse(string folder)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 20)
            {
                Thread.Sleep(10);
            }
        }
    }
}
