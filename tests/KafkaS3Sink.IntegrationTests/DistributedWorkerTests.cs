using System.Net;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// Two workers in distributed mode: the connector lives in a config topic, both run it (one group member each, the
/// partitions split), a worker that stops is covered by the other, and the connector comes back after both restart.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class DistributedWorkerTests(IntegrationServers servers, ITestOutputHelper output)
{
    private const int Partitions = 4;

    [Fact]
    public async Task TwoWorkers_ShareTheConnector_OneStops_BothRestart_EveryRecordOnce()
    {
        var (id, topic, bucket, Worker) = await ClusterAsync("dist");
        var name = topic + "-sink";
        var group = "connect-" + name;

        var a = await Worker("a");
        var b = await Worker("b");
        try
        {
            // Created through A, running on both.
            var created = await a.Send(HttpMethod.Post, "/connectors", new { name, config = WorkerHost.SinkConfig(servers, topic, bucket, 25) });
            created.Status.Should().Be(HttpStatusCode.Created, created.Body);
            await a.WaitForState(name, "RUNNING");
            await b.WaitForState(name, "RUNNING");
            (await b.Send(HttpMethod.Post, "/connectors", new { name, config = WorkerHost.SinkConfig(servers, topic, bucket, 25) })).Status
                .Should().Be(HttpStatusCode.Conflict, "B knows the connector from the topic");

            // The group splits the partitions once B's member has joined (a rebalance of its own, ~5 s on the mock
            // cluster). Produced before that, A could commit all 400 records alone (it did in a CI run: B's share
            // came in the cooperative follow-up rebalance, after the commits): wait for the split, then produce.
            var splitBy = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!(HadPartitions(a, name) && HadPartitions(b, name)))
            {
                DateTime.UtcNow.Should().BeBefore(splitBy, "A and B should each be assigned part of the topic");
                await Task.Delay(100);
            }

            Produce(topic, 0, 400);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [100, 100, 100, 100], TimeSpan.FromMinutes(2));

            // The status topic: either worker lists a task per worker, each with its worker id.
            await WaitForTasks(b, name, [$"a-{id}", $"b-{id}"]);
            var status = await a.Send(HttpMethod.Get, $"/connectors/{name}/status");
            status.Json.GetProperty("connector").GetProperty("worker_id").GetString().Should().Be($"a-{id}");
            status.Json.GetProperty("tasks").EnumerateArray().Select(t => (t.GetProperty("id").GetInt32(), t.GetProperty("state").GetString()))
                .Should().Equal((0, "RUNNING"), (1, "RUNNING"));
            (await a.Send(HttpMethod.Get, $"/connectors/{name}/tasks/1/status")).Json.GetProperty("worker_id").GetString().Should().Be($"b-{id}");

            // A target state set through B reaches A.
            (await b.Send(HttpMethod.Put, $"/connectors/{name}/pause")).Status.Should().Be(HttpStatusCode.Accepted);
            await a.WaitForState(name, "PAUSED");
            (await a.Send(HttpMethod.Put, $"/connectors/{name}/resume")).Status.Should().Be(HttpStatusCode.Accepted);
            await b.WaitForState(name, "RUNNING");

            // A stops: B carries on with every partition.
            await a.DisposeAsync();
            a = null!;
            await WaitForTasks(b, name, [$"b-{id}"]);
            Produce(topic, 400, 400);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [200, 200, 200, 200], TimeSpan.FromMinutes(2));
            await b.DisposeAsync();
            b = null!;

            // Both restart: the connector comes back from the topic.
            a = await Worker("a");
            b = await Worker("b");
            (await a.Send(HttpMethod.Get, "/connectors")).Json.EnumerateArray().Select(e => e.GetString()).Should().Equal(name);
            await a.WaitForState(name, "RUNNING");
            await b.WaitForState(name, "RUNNING");
            Produce(topic, 800, 200);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [250, 250, 250, 250], TimeSpan.FromMinutes(2));

            // Deleted through A: gone on B too.
            (await a.Send(HttpMethod.Delete, $"/connectors/{name}")).Status.Should().Be(HttpStatusCode.NoContent);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await b.Send(HttpMethod.Get, $"/connectors/{name}")).Status != HttpStatusCode.NotFound)
            {
                DateTime.UtcNow.Should().BeBefore(deadline, "the delete reaches B");
                await Task.Delay(100);
            }
        }
        finally
        {
            if (a is not null)
            {
                await a.DisposeAsync();
            }

            if (b is not null)
            {
                await b.DisposeAsync();
            }
        }

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems();
        ids.Order().Should().Equal(Enumerable.Range(0, 1000));
    }

    [Fact]
    public async Task TasksMax1_OneWorkerRunsTheConnector_TheOtherTakesOverWhenItStops_EveryRecordOnce()
    {
        var (id, topic, bucket, Worker) = await ClusterAsync("distmax");
        var name = topic + "-sink";
        var a = await Worker("a");
        var b = await Worker("b");
        try
        {
            var config = WorkerHost.SinkConfig(servers, topic, bucket, 25);
            config["tasks.max"] = "1"; // Connect's meaning: one task, so one worker runs a member
            (await b.Send(HttpMethod.Post, "/connectors", new { name, config })).Status.Should().Be(HttpStatusCode.Created);

            // The first live worker by id (a) runs it; b's member stays stopped.
            await WaitForTasks(b, name, [$"a-{id}"]);
            Produce(topic, 0, 200);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [50, 50, 50, 50], TimeSpan.FromMinutes(2));
            (await b.Send(HttpMethod.Get, $"/connectors/{name}/status")).Json.GetProperty("tasks").GetArrayLength().Should().Be(1);

            // a stops: b is now the first live worker and takes over.
            await a.DisposeAsync();
            a = null!;
            await WaitForTasks(b, name, [$"b-{id}"]);
            Produce(topic, 200, 200);
            await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [100, 100, 100, 100], TimeSpan.FromMinutes(2));
        }
        finally
        {
            if (a is not null)
            {
                await a.DisposeAsync();
            }

            await b.DisposeAsync();
        }

        var ids = (await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).ToList();
        ids.Should().OnlyHaveUniqueItems();
        ids.Order().Should().Equal(Enumerable.Range(0, 400));
    }

    /// <summary>A topic, a bucket, and workers in distributed mode on config and status topics of their own (ids "a-…", "b-…").</summary>
    private async Task<(string Id, string Topic, string Bucket, Func<string, Task<WorkerHost>> Worker)> ClusterAsync(string prefix)
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var topic = $"{prefix}-{id}";
        var configTopic = $"{prefix}-configs-{id}";
        var statusTopic = $"{prefix}-status-{id}";
        servers.Kafka.CreateTopic(topic, Partitions);
        servers.Kafka.CreateTopic(configTopic, 1);
        servers.Kafka.CreateTopic(statusTopic, 1);
        var bucket = await servers.S3.CreateBucketAsync(prefix);
        return (id, topic, bucket, worker => WorkerHost.StartAsync(
            servers.Kafka, output, Microsoft.Extensions.Logging.LogLevel.Information,
            "--KafkaS3Sink:Distributed:ConfigTopic", configTopic, "--KafkaS3Sink:Distributed:StatusTopic", statusTopic, "--KafkaS3Sink:WorkerId", $"{worker}-{id}"));
    }

    private static async Task WaitForTasks(WorkerHost worker, string name, string[] workers)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var status = await worker.Send(HttpMethod.Get, $"/connectors/{name}/status");
            var listed = status.Status == HttpStatusCode.OK
                ? status.Json.GetProperty("tasks").EnumerateArray().Select(t => t.GetProperty("worker_id").GetString()).ToList()
                : [];
            if (listed.SequenceEqual(workers))
            {
                return;
            }

            DateTime.UtcNow.Should().BeBefore(deadline, $"the tasks should be on {string.Join(", ", workers)} (last: {status.Body})");
            await Task.Delay(100);
        }
    }

    private static bool HadPartitions(WorkerHost worker, string name)
        => worker.LogLines.Any(l => l.StartsWith($"Partitions assigned to sink '{name}': ", StringComparison.Ordinal) && !l.EndsWith(": none.", StringComparison.Ordinal));

    private void Produce(string topic, int from, int count)
        => SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, count).Select(i => (i % Partitions, (string?)null, $"{{\"id\":{i}}}")));
}
