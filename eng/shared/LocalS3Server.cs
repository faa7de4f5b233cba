// Shared source (linked into the integration tests, the demo and the load harness; not part of the
// library): the local S3 server those programs use.
using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;

namespace KafkaS3Sink.Eng;

/// <summary>
/// A real S3 server for tests, the demo and benchmarks: the one named by S3_ENDPOINT (with S3_ACCESS_KEY and
/// S3_SECRET_KEY), or a single-node Ceph RGW started with eng/s3/start-rgw.sh and stopped on dispose.
/// </summary>
internal sealed class LocalS3Server : IDisposable
{
    private readonly string? stateDir;

    private LocalS3Server(Uri endpoint, string accessKey, string secretKey, string? stateDir)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
        this.stateDir = stateDir;
    }

    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    /// <summary>Uses S3_ENDPOINT (or <paramref name="endpoint"/>) when set; otherwise starts an RGW.</summary>
    /// <param name="stateDir">Where the RGW keeps its state (removed on dispose).</param>
    /// <param name="rgwPort">The S3 port; a free one when null.</param>
    /// <param name="monPort">The Ceph monitor port (it uses the next one too); a free one when null.</param>
    /// <param name="memstoreBytes">RAM for the object store; the script's default when null.</param>
    /// <param name="endpoint">An endpoint to use instead of starting one.</param>
    public static LocalS3Server Start(string stateDir, int? rgwPort = null, int? monPort = null, long? memstoreBytes = null, string? endpoint = null)
    {
        endpoint ??= Environment.GetEnvironmentVariable("S3_ENDPOINT");
        if (!string.IsNullOrEmpty(endpoint))
        {
            return new LocalS3Server(
                new Uri(endpoint),
                Environment.GetEnvironmentVariable("S3_ACCESS_KEY") ?? "kafkas3sink",
                Environment.GetEnvironmentVariable("S3_SECRET_KEY") ?? "kafkas3sink-secret",
                null);
        }

        var port = rgwPort ?? FreePort();
        var psi = new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", "s3", "start-rgw.sh"), stateDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["RGW_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        psi.Environment["MON_PORT"] = (monPort ?? FreePortPair()).ToString(CultureInfo.InvariantCulture);
        if (memstoreBytes is { } bytes)
        {
            psi.Environment["RGW_MEMSTORE_BYTES"] = bytes.ToString(CultureInfo.InvariantCulture);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Could not start the local S3 server (eng/s3/start-rgw.sh exit {(process.HasExited ? process.ExitCode : -1)}). " +
                $"Install it with eng/install-prereqs.sh, or set S3_ENDPOINT.\n{stdout.Result}\n{stderr.Result}");
        }

        return new LocalS3Server(new Uri($"http://127.0.0.1:{port}"), "kafkas3sink", "kafkas3sink-secret", stateDir);
    }

    /// <summary>A client for this server (the default user, or the user with the given keys).</summary>
    public AmazonS3Client CreateClient(string? accessKey = null, string? secretKey = null) => new(
        new BasicAWSCredentials(accessKey ?? AccessKey, secretKey ?? SecretKey),
        new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    public void Dispose()
    {
        if (stateDir is null)
        {
            return;
        }

        using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", "s3", "stop-rgw.sh"), stateDir]))!;
        process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    /// <summary>The folder holding KafkaS3Sink.sln, found upwards from the program's folder.</summary>
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KafkaS3Sink.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Run from the repository (KafkaS3Sink.sln not found above the program), or set S3_ENDPOINT.");
    }

    /// <summary>A free port P whose neighbour P + 1 is free too (the monitor binds both).</summary>
    private static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = FreePort();
            try
            {
                using var next = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port + 1);
                next.Start();
                return port;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // P + 1 is taken: try another P.
            }
        }

        throw new InvalidOperationException("No pair of free adjacent ports found for the Ceph monitor.");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
