using System.Collections.Concurrent;
using System.Globalization;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// A member of the group frozen (SIGSTOP) for longer than its session timeout, while records arrive: a long GC
/// pause, a frozen VM, a suspended container. The group gives its partitions to the other member; when it runs on,
/// it must find out that it lost them, write nothing over the new owner's work, rejoin and take its share again.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Rebalance")]
public sealed class FrozenMemberTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 8;
    private const int PerPartition = 3_900; // 13 rotations of 300 per partition: the last one is cut by count too
    private readonly string staging = Path.Combine(Path.GetTempPath(), "kafkas3sink-frozen-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> lines = new();

    [Fact]
    public async Task MemberFrozenLongerThanItsSession_RunsOnRejoinsAndEveryRecordLandsOnce()
    {
        var topic = "frozen-" + Guid.NewGuid().ToString("N")[..8];
        var group = topic + "-sink";
        servers.Kafka.CreateTopic(topic, Partitions);
        var bucket = await servers.S3.CreateBucketAsync("frozen");
        // One staging folder each (two machines); 300 does not divide the producer's batches, so segments are open
        // at the freeze.
        Dictionary<string, string> Environment(string name) => SinkProcess.Environment(servers, topic, group, bucket, Path.Combine(staging, name), flushSize: 300);

        // Records arrive over ~12 s (the session timeout is 3 s in the sink process).
        var producing = Task.Run(async () =>
        {
            const int batches = 24;
            for (var b = 0; b < batches; b++)
            {
                var from = b * Partitions * PerPartition / batches;
                SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, Partitions * PerPartition / batches)
                    .Select(i => (i % Partitions, (string?)null, string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{i}}}"))));
                await Task.Delay(500);
            }
        });

        using var frozen = await SinkProcess.StartAsync(Environment("a"), l => Log("a " + l));
        await frozen.Assigned.WaitAsync(TimeSpan.FromSeconds(60));
        using var other = await SinkProcess.StartAsync(Environment("b"), l => Log("b " + l));
        await other.Assigned.WaitAsync(TimeSpan.FromSeconds(60));
        await WaitForAsync(
            () => Owned("a").Count > 0 && Owned("b").Count > 0 && Owned("a").Union(Owned("b")).Count() == Partitions
                && SinkTestKit.Committed(servers.Kafka, group, topic, Partitions).All(c => c > 0),
            "both members own partitions and every partition has a commit");
        Log($"--- a owns [{string.Join(",", Owned("a"))}], b owns [{string.Join(",", Owned("b"))}]");

        await frozen.FreezeAsync();
        var frozenAt = lines.Count;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Log("--- a frozen");

        // The other member is given a's partitions once a's session has expired (cooperative: it logs only those),
        // and writes every partition on while a is frozen.
        var committedAtFreeze = SinkTestKit.Committed(servers.Kafka, group, topic, Partitions);
        await WaitForAsync(() => lines.Skip(frozenAt).Any(l => l.StartsWith("b ", StringComparison.Ordinal) && l.Contains("Partitions assigned", StringComparison.Ordinal)), "b is given a's partitions");
        await WaitForAsync(
            () => SinkTestKit.Committed(servers.Kafka, group, topic, Partitions).Zip(committedAtFreeze).All(c => c.First > c.Second),
            "every partition's commit moves on while a is frozen");

        var thawedAt = lines.Count; // a prints nothing while frozen
        await frozen.ThawAsync();
        Log($"--- a thawed after {clock.Elapsed.TotalSeconds:F1} s frozen");
        clock.Restart();

        // a finds out it lost its partitions, rejoins and is given some again.
        await WaitForAsync(() => lines.Skip(thawedAt).Any(l => l.StartsWith("a ", StringComparison.Ordinal) && (l.Contains("Partitions lost", StringComparison.Ordinal) || l.Contains("Partitions revoked", StringComparison.Ordinal))), "a finds out that it lost its partitions");
        await WaitForAsync(() => Owned("a").Count > 0, "a is given partitions again");
        Log($"--- {clock.Elapsed.TotalSeconds:F1} s after the thaw: a owns [{string.Join(",", Owned("a"))}], b owns [{string.Join(",", Owned("b"))}]");
        await producing;
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, Enumerable.Repeat((long)PerPartition, Partitions).ToArray(), TimeSpan.FromMinutes(2));
        frozen.HasExited.Should().BeFalse("the frozen member runs on");
        other.HasExited.Should().BeFalse();
        await frozen.StopAsync();
        await other.StopAsync();

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems("no record may be written twice");
        ids.Order().Should().Equal(Enumerable.Range(0, Partitions * PerPartition), "every record must be written");
    }

    public void Dispose()
    {
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The partitions a member owns, from its log of assignments (cooperative: each line adds or removes some).</summary>
    private SortedSet<int> Owned(string member)
    {
        var owned = new SortedSet<int>();
        foreach (var line in lines.Where(l => l.StartsWith(member + " ", StringComparison.Ordinal)))
        {
            var change = line.Contains("Partitions assigned", StringComparison.Ordinal) ? 1
                : line.Contains("Partitions revoked", StringComparison.Ordinal) || line.Contains("Partitions lost", StringComparison.Ordinal) ? -1 : 0;
            if (change != 0 && line.IndexOf('[', line.IndexOf("': ", StringComparison.Ordinal)) is var open and >= 0)
            {
                foreach (var p in line[(open + 1)..line.IndexOf(']', open)].Split(','))
                {
                    _ = change > 0 ? owned.Add(int.Parse(p, CultureInfo.InvariantCulture)) : owned.Remove(int.Parse(p, CultureInfo.InvariantCulture));
                }
            }
        }

        return owned;
    }

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            DateTime.UtcNow.Should().BeBefore(deadline, "{0} within 60 s", what);
            await Task.Delay(100);
        }
    }

    private void Log(string line)
    {
        lines.Enqueue(line);
        try
        {
            output.WriteLine(line);
        }
        catch (InvalidOperationException)
        {
            // Output after the test ended.
        }
    }
}
