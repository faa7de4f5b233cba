using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>
/// The worker's REST API against Kafka Connect's documented one (status codes and JSON shapes), over HTTP, with
/// real Kafka protocol and S3 behind it. The shapes are Apache Kafka's ConnectorInfo, ConnectorStateInfo,
/// TaskInfo, ConfigInfos, ConnectorOffsets and ErrorMessage.
/// </summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class ConnectRestApiTests(IntegrationServers servers, ITestOutputHelper output)
{
    [Fact]
    public async Task WorkerRoutes_RootPluginsValidateAndUnknownPaths_AnswerInConnectsShapes()
    {
        await using var worker = await WorkerHost.StartAsync(servers.Kafka, output);

        var root = await worker.Send(HttpMethod.Get, "/");
        root.Status.Should().Be(HttpStatusCode.OK);
        root.Json.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["version", "commit", "kafka_cluster_id"]);
        root.Json.GetProperty("version").GetString().Should().NotBeNullOrEmpty();

        var plugins = await worker.Send(HttpMethod.Get, "/connector-plugins");
        plugins.Json.EnumerateArray().Should().ContainSingle();
        plugins.Json[0].GetProperty("class").GetString().Should().Be("io.confluent.connect.s3.S3SinkConnector");
        plugins.Json[0].GetProperty("type").GetString().Should().Be("sink");

        var bad = new Dictionary<string, string> { ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector", ["topics"] = "t", ["flush.size"] = "-5", ["partitioner.class"] = "com.example.Custom", ["aws.secret.access.key"] = "hunter2-secret" };
        var invalid = await worker.Send(HttpMethod.Put, "/connector-plugins/S3SinkConnector/config/validate", bad);
        invalid.Status.Should().Be(HttpStatusCode.OK);
        invalid.Json.GetProperty("name").GetString().Should().Be("io.confluent.connect.s3.S3SinkConnector");
        invalid.Json.GetProperty("groups").EnumerateArray().Should().NotBeEmpty();
        var configs = invalid.Json.GetProperty("configs").EnumerateArray().ToDictionary(c => c.GetProperty("value").GetProperty("name").GetString()!);
        invalid.Json.GetProperty("error_count").GetInt32().Should().Be(configs.Values.Sum(c => c.GetProperty("value").GetProperty("errors").GetArrayLength())).And.BeGreaterThanOrEqualTo(3);
        Errors(configs["flush.size"]).Should().ContainSingle().Which.Should().Contain("flush.size").And.Contain("-5");
        Errors(configs["partitioner.class"]).Should().ContainSingle().Which.Should().Contain("com.example.Custom");
        Errors(configs["topics"]).Should().BeEmpty();
        configs["aws.secret.access.key"].GetProperty("value").GetProperty("value").GetString().Should().Be("******");
        configs["flush.size"].GetProperty("definition").GetProperty("name").GetString().Should().Be("flush.size");

        var bucket = await servers.S3.CreateBucketAsync("validate");
        var valid = await worker.Send(HttpMethod.Put, "/connector-plugins/io.confluent.connect.s3.S3SinkConnector/config/validate", WorkerHost.SinkConfig(servers, "t", bucket, 10));
        valid.Json.GetProperty("error_count").GetInt32().Should().Be(0, valid.Body);
        (await worker.Send(HttpMethod.Put, "/connector-plugins/com.example.Other/config/validate", bad)).Status.Should().Be(HttpStatusCode.NotFound);

        foreach (var path in new[] { "/nothing", "/connectors/x/nothing/here" })
        {
            var missing = await worker.Send(HttpMethod.Get, path);
            missing.Status.Should().Be(HttpStatusCode.NotFound, path);
            missing.Json.GetProperty("error_code").GetInt32().Should().Be(404);
            missing.Json.GetProperty("message").GetString().Should().NotBeNullOrEmpty();
        }

        var unknown = await worker.Send(HttpMethod.Get, "/connectors/no-such-sink/status");
        unknown.Status.Should().Be(HttpStatusCode.NotFound);
        unknown.Json.GetProperty("message").GetString().Should().Be("Connector no-such-sink not found");
        worker.Responses.Should().NotContain(r => r.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectorLifecycle_EveryConnectRoute_ShapesAndCodes_AndEveryRecordOnceInS3()
    {
        var topic = "rest-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("rest");
        var name = topic + "-sink";
        var group = "connect-" + name;
        await using var worker = await WorkerHost.StartAsync(servers.Kafka, output);
        var config = WorkerHost.SinkConfig(servers, topic, bucket, 50);

        // POST: 201 with ConnectorInfo (the config holds the name; one task); again: 409.
        var created = await worker.Send(HttpMethod.Post, "/connectors", new { name, config });
        created.Status.Should().Be(HttpStatusCode.Created, created.Body);
        created.Json.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo(["name", "config", "tasks", "type"]);
        created.Json.GetProperty("config").GetProperty("name").GetString().Should().Be(name);
        created.Json.GetProperty("config").GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        created.Json.GetProperty("tasks")[0].GetProperty("connector").GetString().Should().Be(name);
        created.Json.GetProperty("tasks")[0].GetProperty("task").GetInt32().Should().Be(0);
        created.Json.GetProperty("type").GetString().Should().Be("sink");
        var again = await worker.Send(HttpMethod.Post, "/connectors", new { name, config });
        again.Status.Should().Be(HttpStatusCode.Conflict);
        again.Json.GetProperty("error_code").GetInt32().Should().Be(409);
        await worker.WaitForState(name, "RUNNING");

        // GET /connectors?expand=status&expand=info.
        var expanded = await worker.Send(HttpMethod.Get, "/connectors?expand=status&expand=info");
        var entry = expanded.Json.GetProperty(name);
        entry.GetProperty("status").GetProperty("connector").GetProperty("state").GetString().Should().Be("RUNNING");
        entry.GetProperty("status").GetProperty("tasks")[0].GetProperty("id").GetInt32().Should().Be(0);
        entry.GetProperty("info").GetProperty("config").GetProperty("topics").GetString().Should().Be(topic);
        (await worker.Send(HttpMethod.Get, "/connectors?expand=status")).Json.GetProperty(name).EnumerateObject().Select(p => p.Name).Should().Equal("status");

        // Tasks.
        var tasks = await worker.Send(HttpMethod.Get, $"/connectors/{name}/tasks");
        tasks.Json.EnumerateArray().Should().ContainSingle();
        tasks.Json[0].GetProperty("id").GetProperty("task").GetInt32().Should().Be(0);
        tasks.Json[0].GetProperty("config").GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        var taskStatus = await worker.Send(HttpMethod.Get, $"/connectors/{name}/tasks/0/status");
        taskStatus.Json.GetProperty("id").GetInt32().Should().Be(0);
        taskStatus.Json.GetProperty("state").GetString().Should().Be("RUNNING");
        taskStatus.Json.GetProperty("worker_id").GetString().Should().NotBeNullOrEmpty();
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}/tasks/1/status")).Status.Should().Be(HttpStatusCode.NotFound);

        Produce(topic, 0, 400);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [200, 200], TimeSpan.FromMinutes(1));

        // Offsets read back as Connect shows a sink's; changing them needs STOPPED (400 otherwise).
        var offsets = await worker.Send(HttpMethod.Get, $"/connectors/{name}/offsets");
        offsets.Json.GetProperty("offsets").EnumerateArray()
            .Select(o => (o.GetProperty("partition").GetProperty("kafka_topic").GetString(), o.GetProperty("partition").GetProperty("kafka_partition").GetInt32(), o.GetProperty("offset").GetProperty("kafka_offset").GetInt64()))
            .Should().Equal((topic, 0, 200L), (topic, 1, 200L));
        var alter = new { offsets = new[] { new { partition = new { kafka_topic = topic, kafka_partition = 0 }, offset = new { kafka_offset = 150L } } } };
        var refused = await worker.Send(HttpMethod.Patch, $"/connectors/{name}/offsets", alter);
        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        refused.Json.GetProperty("message").GetString().Should().Contain("stop");

        // Restart forms: plain 204; includeTasks 202 with RESTARTING; onlyFailed on a running sink 202, nothing restarts.
        (await worker.Send(HttpMethod.Post, $"/connectors/{name}/restart")).Status.Should().Be(HttpStatusCode.NoContent);
        var restarting = await worker.Send(HttpMethod.Post, $"/connectors/{name}/restart?includeTasks=true&onlyFailed=false");
        restarting.Status.Should().Be(HttpStatusCode.Accepted);
        restarting.Json.GetProperty("connector").GetProperty("state").GetString().Should().Be("RESTARTING");
        restarting.Json.GetProperty("tasks")[0].GetProperty("state").GetString().Should().Be("RESTARTING");
        await worker.WaitForState(name, "RUNNING");
        var onlyFailed = await worker.Send(HttpMethod.Post, $"/connectors/{name}/restart?includeTasks=true&onlyFailed=true");
        onlyFailed.Status.Should().Be(HttpStatusCode.Accepted);
        onlyFailed.Json.GetProperty("connector").GetProperty("state").GetString().Should().Be("RUNNING");
        (await worker.Send(HttpMethod.Post, $"/connectors/{name}/tasks/0/restart")).Status.Should().Be(HttpStatusCode.NoContent);
        await worker.WaitForState(name, "RUNNING");

        // STOPPED: no tasks; offsets altered (partition 0 back to 150) and then reset; resume starts it again.
        (await worker.Send(HttpMethod.Put, $"/connectors/{name}/stop")).Status.Should().Be(HttpStatusCode.NoContent);
        await worker.WaitForState(name, "STOPPED");
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}")).Json.GetProperty("tasks").GetArrayLength().Should().Be(0);
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}/status")).Json.GetProperty("tasks").GetArrayLength().Should().Be(0);
        var altered = await worker.Send(HttpMethod.Patch, $"/connectors/{name}/offsets", alter);
        altered.Status.Should().Be(HttpStatusCode.OK, altered.Body);
        altered.Json.GetProperty("message").GetString().Should().Be("The offsets for this connector have been altered successfully");
        SinkTestKit.Committed(servers.Kafka, group, topic, 2).Should().Equal(150, 200);
        var reset = await worker.Send(HttpMethod.Delete, $"/connectors/{name}/offsets");
        reset.Status.Should().Be(HttpStatusCode.OK, reset.Body);
        reset.Json.GetProperty("message").GetString().Should().Be("The offsets for this connector have been reset successfully");
        SinkTestKit.Committed(servers.Kafka, group, topic, 2).Should().Equal(0, 0);

        (await worker.Send(HttpMethod.Put, $"/connectors/{name}/resume")).Status.Should().Be(HttpStatusCode.Accepted);
        await worker.WaitForState(name, "RUNNING");
        Produce(topic, 400, 200);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, group, topic, [300, 300], TimeSpan.FromMinutes(1));

        // PUT config: a body name other than the URL's is refused; DELETE: 204, then 404.
        var mismatch = await worker.Send(HttpMethod.Put, $"/connectors/{name}/config", new Dictionary<string, string>(config) { ["name"] = "other" });
        mismatch.Status.Should().Be(HttpStatusCode.BadRequest);
        mismatch.Json.GetProperty("message").GetString().Should().Contain("doesn't match");
        (await worker.Send(HttpMethod.Delete, $"/connectors/{name}")).Status.Should().Be(HttpStatusCode.NoContent);
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}")).Status.Should().Be(HttpStatusCode.NotFound);

        // The reset replayed everything under the same keys: every record once.
        Ids(await SinkTestKit.ReadObjectsAsync(servers.S3, bucket)).Should().Equal(Enumerable.Range(0, 600));
        worker.Responses.Should().NotContain(r => r.Contains(servers.S3.SecretKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConfigReadBack_WithOneChange_PutBack_KeepsTheSecret_AndTheSinkStillUploads()
    {
        var topic = "secret-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 2);
        var bucket = await servers.S3.CreateBucketAsync("secret");
        var name = topic + "-sink";
        await using var worker = await WorkerHost.StartAsync(servers.Kafka, output);
        var config = WorkerHost.SinkConfig(servers, topic, bucket, 100);
        config["kafkas3sink.progress.log.interval.ms"] = "500"; // this sink's own key: the progress line every 0.5 s
        (await worker.Send(HttpMethod.Post, "/connectors", new { name, config })).Status.Should().Be(HttpStatusCode.Created);
        await worker.WaitForState(name, "RUNNING");

        // The Connect way to edit: GET the config (secret masked), change one setting, PUT it back.
        var read = await worker.Send(HttpMethod.Get, $"/connectors/{name}/config");
        var edited = read.Json.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        edited["aws.secret.access.key"].Should().Be("******");
        edited["flush.size"] = "40";
        var put = await worker.Send(HttpMethod.Put, $"/connectors/{name}/config", edited);
        put.Status.Should().Be(HttpStatusCode.OK, put.Body);
        put.Json.GetProperty("config").GetProperty("flush.size").GetString().Should().Be("40");
        await worker.WaitForState(name, "RUNNING");

        Produce(topic, 0, 160);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, "connect-" + name, topic, [80, 80], TimeSpan.FromMinutes(1));
        var objects = await SinkTestKit.ReadObjectsAsync(servers.S3, bucket);
        objects.Should().HaveCount(4, "two rotations of 40 records per partition, with the new flush.size and the stored secret");
        Ids(objects).Should().Equal(Enumerable.Range(0, 160));
        (await worker.Send(HttpMethod.Get, $"/connectors/{name}/status")).Json.GetProperty("connector").GetProperty("state").GetString().Should().Be("RUNNING");

        // At Information level the progress lines add up to what happened: 160 records, 4 objects.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        (long Records, long Objects) progress;
        while ((progress = Progress(worker, name)) != (160, 4) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        progress.Should().Be((160L, 4L), string.Join(Environment.NewLine, worker.LogLines.Where(l => l.Contains("in the last", StringComparison.Ordinal))));
        worker.Responses.Should().NotContain(r => r.Contains(servers.S3.SecretKey, StringComparison.Ordinal));
        worker.LogLines.Should().NotContain(l => l.Contains(servers.S3.SecretKey, StringComparison.Ordinal));
    }

    private static (long Records, long Objects) Progress(WorkerHost worker, string name)
    {
        long records = 0, objects = 0;
        foreach (var line in worker.LogLines.Where(l => l.StartsWith($"Sink '{name}' in the last", StringComparison.Ordinal)))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @": (\d+) records staged, (\d+) objects");
            records += long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            objects += long.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return (records, objects);
    }

    [Fact]
    public async Task Credentials_Configured_RequestsWithoutThemGet401_WithThemWork_AndSecretsStayMasked()
    {
        const string password = "op-password-1";
        await using var worker = await WorkerHost.StartAsync(
            servers.Kafka, output, Microsoft.Extensions.Logging.LogLevel.Information,
            "--KafkaS3Sink:Api:Username", "operator", "--KafkaS3Sink:Api:Password", password, "--KafkaS3Sink:Api:Key", "key-123");
        var topic = "auth-" + Guid.NewGuid().ToString("N")[..8];
        servers.Kafka.CreateTopic(topic, 1);
        var bucket = await servers.S3.CreateBucketAsync("auth");
        var name = topic + "-sink";
        var body = new { name, config = WorkerHost.SinkConfig(servers, topic, bucket, 10) };

        var anonymous = await worker.Send(HttpMethod.Post, "/connectors", body);
        anonymous.Status.Should().Be(HttpStatusCode.Unauthorized);
        anonymous.Json.GetProperty("error_code").GetInt32().Should().Be(401);
        (await worker.Send(HttpMethod.Get, "/connectors")).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await worker.Send(HttpMethod.Post, "/connectors", body, Basic("operator", "wrong"))).Status.Should().Be(HttpStatusCode.Unauthorized);
        (await worker.Send(HttpMethod.Get, "/health")).Status.Should().Be(HttpStatusCode.OK, "health stays open for probes");

        (await worker.Send(HttpMethod.Post, "/connectors", body, Basic("operator", password))).Status.Should().Be(HttpStatusCode.Created);
        var config = await worker.Send(HttpMethod.Get, $"/connectors/{name}/config", configure: r => r.Headers.Add("X-Api-Key", "key-123"));
        config.Status.Should().Be(HttpStatusCode.OK);
        config.Json.GetProperty("aws.secret.access.key").GetString().Should().Be("******");
        (await worker.Send(HttpMethod.Delete, $"/connectors/{name}", configure: r => r.Headers.Add("X-Api-Key", "key-123"))).Status.Should().Be(HttpStatusCode.NoContent);
        worker.Responses.Should().NotContain(r => r.Contains(servers.S3.SecretKey, StringComparison.Ordinal));
        worker.LogLines.Should().NotContain(l => l.Contains(password, StringComparison.Ordinal));
    }

    private static Action<HttpRequestMessage> Basic(string user, string password)
        => r => r.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    private static List<string> Errors(JsonElement config) => [.. config.GetProperty("value").GetProperty("errors").EnumerateArray().Select(e => e.GetString()!)];

    private static List<int> Ids(IEnumerable<(string Key, List<string> Lines)> objects)
        => [.. objects.SelectMany(o => o.Lines).Select(l => SinkTestKit.Json(l).GetProperty("id").GetInt32()).Order()];

    private void Produce(string topic, int from, int count)
        => SinkTestKit.Produce(servers.Kafka, topic, Enumerable.Range(from, count).Select(i => (i % 2, (string?)null, $"{{\"id\":{i}}}")));
}
