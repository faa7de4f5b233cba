using System.Diagnostics;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>What the fault scenarios share: topics and buckets, the sink's settings, the staging folder, the read-back.</summary>
public sealed partial class FaultTests
{
    private bool mountedVolume;

    public void Dispose()
    {
        loggerFactory.Dispose();
        try
        {
            Chattr("-i");
        }
        catch (InvalidOperationException)
        {
            // Never made read-only.
        }

        if (mountedVolume)
        {
            Root.Run("umount", staging);
        }

        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    private async Task<(string Topic, string Bucket)> SetUpAsync(string name)
    {
        var topic = name + "-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, Partitions);
        return (topic, await servers.S3.CreateBucketAsync(name));
    }

    /// <summary>Records id from..from+count, id i on partition i % 4; the value is {"id":i}.</summary>
    private void Produce(string topic, int from, int count) =>
        SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, count).Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i}}}")));

    private KafkaS3Sink Sink(string topic, string bucket, Uri endpoint, int flushSize, Action<KafkaS3SinkOptions>? configure = null, TimeSpan? drainTimeout = null)
    {
        var builder = new KafkaS3SinkBuilder().UseLoggerFactory(Logs);
        Configure(builder, topic, bucket, endpoint, flushSize, configure);
        if (drainTimeout is { } drain)
        {
            builder.UseDrainTimeout(drain);
        }

        return builder.Build();
    }

    private KafkaS3SinkBuilder Configure(KafkaS3SinkBuilder builder, string topic, string bucket, Uri endpoint, int flushSize, Action<KafkaS3SinkOptions>? configure = null) =>
        builder.Configure(o =>
        {
            o.Name = topic;
            o.BootstrapServers = servers.Kafka.BootstrapServers;
            o.GroupId = topic;
            o.Topics.Add(topic);
            o.FlushSize = flushSize;
            o.Staging.Directory = staging;
            o.KafkaProperties["session.timeout.ms"] = "6000";
            o.KafkaProperties["heartbeat.interval.ms"] = "500";
            servers.S3.Configure(o.S3, bucket);
            o.S3.ServiceUrl = endpoint;
            configure?.Invoke(o);
        });

    private async Task WaitForLogAsync(string start, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!logLines.Any(l => l.StartsWith(start, StringComparison.Ordinal)))
        {
            DateTime.UtcNow.Should().BeBefore(deadline, $"the log should say '{start}…'");
            await Task.Delay(10);
        }
    }

    private static async Task StopAsync(CancellationTokenSource stop, Task run)
    {
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromMinutes(2));
    }

    /// <summary>Stages on a tmpfs of this many MiB of its own (unmounted when the test ends).</summary>
    private void MountStagingVolume(int mebibytes)
    {
        Directory.CreateDirectory(staging);
        Root.Run("mount", "-t", "tmpfs", "-o", $"size={mebibytes}m", "tmpfs", staging);
        mountedVolume = true;
    }

    /// <summary>Makes the staging folder read-only (immutable, which binds root too) or writable again.</summary>
    private void Chattr(string flag)
    {
        if (!Directory.Exists(staging))
        {
            throw new InvalidOperationException("no staging folder");
        }

        using var chattr = Process.Start(new ProcessStartInfo("chattr", ["-R", flag, staging]) { RedirectStandardError = true })!;
        chattr.WaitForExit();
        if (chattr.ExitCode != 0)
        {
            throw new InvalidOperationException($"chattr -R {flag} failed (the fault tests run as root on an ext file system): {chattr.StandardError.ReadToEnd()}");
        }
    }

    private async Task AssertExactlyOnceAsync(string bucket, int records, bool bytes = false)
    {
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        var ids = objects.SelectMany(o => o.Lines)
            .Where(l => !bytes || !l.StartsWith('-'))
            .Select(l => SinkTestKit.Json(bytes ? l.TrimEnd('-') : l).GetProperty("id").GetInt32())
            .ToList();
        ids.Should().OnlyHaveUniqueItems("no record may be written twice");
        ids.Order().Should().Equal(Enumerable.Range(0, records), "every record must be written");
        foreach (var (key, lines) in objects)
        {
            var partition = int.Parse(key.Split('+')[1], System.Globalization.CultureInfo.InvariantCulture);
            lines.Where(l => !bytes || !l.StartsWith('-')).Select(l => SinkTestKit.Json(bytes ? l.TrimEnd('-') : l).GetProperty("id").GetInt32() % Partitions)
                .Should().OnlyContain(p => p == partition, $"{key} holds records of its partition only");
        }
    }
}
