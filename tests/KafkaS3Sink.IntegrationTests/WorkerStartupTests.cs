using System.Diagnostics;
using KafkaS3Sink.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>The worker process's start-up: bad settings and config files are named in one message, exit code 2, no stack trace.</summary>
[Collection(IntegrationCollection.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Management")]
public sealed class WorkerStartupTests(IntegrationServers servers, ITestOutputHelper output) : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "kafkas3sink-worker-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task OneBadAndOneGoodConfigFile_Exit2_NamingTheBadFileAndSetting_NoStackTrace()
    {
        var configs = Directory.CreateDirectory(Path.Combine(folder, "connectors")).FullName;
        var bucket = await servers.S3.CreateBucketAsync("startup");
        var good = WorkerHost.SinkConfig(servers, "good-topic", bucket, 10);
        await File.WriteAllTextAsync(Path.Combine(configs, "a-good.json"), System.Text.Json.JsonSerializer.Serialize(new { name = "good", config = good }));
        var bad = new Dictionary<string, string>(good) { ["flush.size"] = "abc" };
        await File.WriteAllTextAsync(Path.Combine(configs, "b-bad.json"), System.Text.Json.JsonSerializer.Serialize(new { name = "bad", config = bad }));
        await File.WriteAllTextAsync(Path.Combine(configs, "c-broken.json"), "{ not json");

        // A relative ConfigDirectory resolves against the current directory.
        var (code, stdout, stderr) = await RunWorker(folder, "--KafkaS3Sink:BootstrapServers", servers.Kafka.BootstrapServers, "--KafkaS3Sink:ConfigDirectory", "connectors");

        code.Should().Be(2, stdout + stderr);
        stderr.Should().Contain("2 connector config file(s)").And.Contain("b-bad.json").And.Contain("flush.size").And.Contain("abc")
            .And.Contain("c-broken.json").And.NotContain("a-good.json");
        stderr.Should().NotContain("   at ", "no stack trace");
        stderr.Should().NotContain(servers.S3.SecretKey);
    }

    [Fact]
    public async Task MissingSettingsOrFolder_Exit2_WithTheSettingNamed()
    {
        Directory.CreateDirectory(folder);
        var (code, _, stderr) = await RunWorker(folder);
        code.Should().Be(2);
        stderr.Should().Contain("KafkaS3Sink:BootstrapServers is required").And.NotContain("   at ");

        (code, _, stderr) = await RunWorker(folder, "--KafkaS3Sink:BootstrapServers", servers.Kafka.BootstrapServers, "--KafkaS3Sink:ConfigDirectory", "missing");
        code.Should().Be(2);
        stderr.Should().Contain($"'{Path.Combine(folder, "missing")}' does not exist").And.NotContain("   at ");

        // Beyond loopback without credentials: refused.
        (code, _, stderr) = await RunWorker(folder, "--KafkaS3Sink:BootstrapServers", servers.Kafka.BootstrapServers, "--urls", "http://0.0.0.0:0");
        code.Should().Be(2);
        stderr.Should().Contain("without credentials").And.Contain("KafkaS3Sink:Api:Username");
    }

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunWorker(string workingDirectory, params string[] args)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(S3Server.RepositoryRoot(), "samples", "KafkaS3Sink.Worker", "bin", configuration, "net10.0", "KafkaS3Sink.Worker.dll");
        File.Exists(dll).Should().BeTrue($"the worker is built ({dll})");
        var psi = new ProcessStartInfo("dotnet", [dll, .. (args.Contains("--urls") ? args : [.. args, "--urls", "http://127.0.0.1:0"])])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The worker did not exit: " + await stdout);
        }

        output.WriteLine($"exit {process.ExitCode}\n{await stdout}\n{await stderr}");
        return (process.ExitCode, await stdout, await stderr);
    }
}
