using System.Diagnostics;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>The sink running in a process of its own (tests/KafkaS3Sink.SinkProcess), so a test can SIGKILL it.</summary>
public sealed class SinkProcess : IDisposable
{
    private readonly Process process;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource assigned = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SinkProcess(IReadOnlyDictionary<string, string> environment, Action<string> log)
    {
        var configuration = AppContext.BaseDirectory.Contains("/Debug/", StringComparison.Ordinal) ? "Debug" : "Release";
        var dll = Path.Combine(S3Server.RepositoryRoot(), "tests", "KafkaS3Sink.SinkProcess", "bin", configuration, "net10.0", "KafkaS3Sink.SinkProcess.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"Build the solution first: {dll} is missing.", dll);
        }

        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            psi.Environment[key] = value;
        }

        process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data == "READY")
            {
                ready.TrySetResult();
            }
            else if (e.Data.Contains("Partitions assigned", StringComparison.Ordinal))
            {
                assigned.TrySetResult();
            }

            log("[sink " + process.Id + "] " + e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                log("[sink " + process.Id + " err] " + e.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("The sink process exited before it was ready."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => process.HasExited;

    /// <summary>
    /// The settings every sink process needs (tests/KafkaS3Sink.SinkProcess reads them from its environment): the
    /// servers, topic, group, bucket, staging folder and flush size. A test adds its own (SINK_PARTITIONER, …).
    /// </summary>
    public static Dictionary<string, string> Environment(IntegrationServers servers, string topic, string group, string bucket, string staging, int flushSize) => new()
    {
        ["SINK_BOOTSTRAP"] = servers.Kafka.BootstrapServers,
        ["SINK_TOPIC"] = topic,
        ["SINK_GROUP"] = group,
        ["SINK_BUCKET"] = bucket,
        ["SINK_S3_ENDPOINT"] = servers.S3.Endpoint.ToString(),
        ["SINK_S3_ACCESS_KEY"] = servers.S3.AccessKey,
        ["SINK_S3_SECRET_KEY"] = servers.S3.SecretKey,
        ["SINK_STAGING"] = staging,
        ["SINK_FLUSH_SIZE"] = flushSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static async Task<SinkProcess> StartAsync(IReadOnlyDictionary<string, string> environment, Action<string> log)
    {
        var sink = new SinkProcess(environment, log);
        await sink.ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return sink;
    }

    /// <summary>Completes when the sink logged its first partition assignment.</summary>
    public Task Assigned => assigned.Task;

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>SIGTERM: the host stops gracefully.</summary>
    public async Task StopAsync()
    {
        await SignalAsync("TERM");
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGSTOP: every thread stops where it is (a long GC pause, a frozen VM, a suspended container).</summary>
    public Task FreezeAsync() => SignalAsync("STOP");

    /// <summary>SIGCONT: the frozen process runs on from where it stopped.</summary>
    public Task ThawAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            // A frozen process dies of SIGKILL too.
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}
