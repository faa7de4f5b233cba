using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;

namespace KafkaS3Sink.LoadTest;

/// <summary>The S3 server: --s3-endpoint (with S3_ACCESS_KEY / S3_SECRET_KEY), or a Ceph RGW started for this run.</summary>
internal sealed class S3ForHarness : IDisposable
{
    private readonly string? stateDir;
    private readonly string? root;

    private S3ForHarness(Uri endpoint, string accessKey, string secretKey, string? stateDir, string? root)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
        SecretKey = secretKey;
        this.stateDir = stateDir;
        this.root = root;
    }

    public Uri Endpoint { get; }

    public string AccessKey { get; }

    public string SecretKey { get; }

    public static S3ForHarness Start(string? endpoint, string work)
    {
        if (endpoint is not null)
        {
            return new S3ForHarness(new Uri(endpoint), Environment.GetEnvironmentVariable("S3_ACCESS_KEY") ?? "kafkas3sink",
                Environment.GetEnvironmentVariable("S3_SECRET_KEY") ?? "kafkas3sink-secret", null, null);
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KafkaS3Sink.sln")))
        {
            dir = dir.Parent;
        }

        if (dir is null)
        {
            throw new InvalidOperationException("Run from the repository, or pass --s3-endpoint.");
        }

        var stateDir = Path.Combine(work, "rgw");
        var psi = new ProcessStartInfo("bash", [Path.Combine(dir.FullName, "eng", "s3", "start-rgw.sh"), stateDir]) { RedirectStandardOutput = true };
        psi.Environment["RGW_PORT"] = "7520";
        psi.Environment["MON_PORT"] = "6850";
        psi.Environment["RGW_MEMSTORE_BYTES"] = (8L << 30).ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(psi)!;
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("Could not start the S3 server (eng/install-prereqs.sh installs it).");
        }

        return new S3ForHarness(new Uri("http://127.0.0.1:7520"), "kafkas3sink", "kafkas3sink-secret", stateDir, dir.FullName);
    }

    public AmazonS3Client CreateClient() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
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
        if (stateDir is not null && root is not null)
        {
            using var process = Process.Start(new ProcessStartInfo("bash", [Path.Combine(root, "eng", "s3", "stop-rgw.sh"), stateDir]))!;
            process.WaitForExit();
        }
    }
}
