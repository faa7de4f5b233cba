using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>
/// The real S3 server the integration tests use: the one named by S3_ENDPOINT (with S3_ACCESS_KEY,
/// S3_SECRET_KEY), or a single-node Ceph RGW started with eng/s3/start-rgw.sh and stopped at dispose.
/// </summary>
public sealed class S3Server : IDisposable
{
    private readonly string? stateDir;

    public S3Server()
    {
        var endpoint = Environment.GetEnvironmentVariable("S3_ENDPOINT");
        if (!string.IsNullOrEmpty(endpoint))
        {
            Endpoint = new Uri(endpoint);
            AccessKey = Environment.GetEnvironmentVariable("S3_ACCESS_KEY") ?? "kafkas3sink";
            SecretKey = Environment.GetEnvironmentVariable("S3_SECRET_KEY") ?? "kafkas3sink-secret";
            return;
        }

        var root = RepositoryRoot();
        stateDir = Path.Combine(Path.GetTempPath(), "kafkas3sink-rgw-tests-" + Environment.ProcessId);
        var port = FreePort();
        var monPort = FreePort();
        var psi = new ProcessStartInfo("bash", [Path.Combine(root, "eng", "s3", "start-rgw.sh"), stateDir])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["RGW_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        psi.Environment["MON_PORT"] = monPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)) || process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Could not start the S3 server (eng/s3/start-rgw.sh exit {(process.HasExited ? process.ExitCode : -1)}). " +
                $"Install it with eng/install-prereqs.sh or set S3_ENDPOINT.\n{stdout.Result}\n{stderr.Result}");
        }

        Endpoint = new Uri($"http://127.0.0.1:{port}");
        AccessKey = "kafkas3sink";
        SecretKey = "kafkas3sink-secret";
    }

    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

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

    /// <summary>Creates a bucket owned by the default test user, or by the user with the given keys.</summary>
    public async Task<string> CreateBucketAsync(string prefix, string? accessKey = null, string? secretKey = null)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
        using var client = CreateClient(accessKey, secretKey);
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    public void Configure(S3StorageOptions options, string bucket)
    {
        options.BucketName = bucket;
        options.ServiceUrl = Endpoint;
        options.ForcePathStyle = true;
        options.AccessKeyId = AccessKey;
        options.SecretAccessKey = SecretKey;
    }

    public void Dispose()
    {
        if (stateDir is null)
        {
            return;
        }

        using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(RepositoryRoot(), "eng", "s3", "stop-rgw.sh"), stateDir]))!;
        process.WaitForExit(TimeSpan.FromSeconds(30));
    }

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KafkaS3Sink.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (KafkaS3Sink.sln).");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
