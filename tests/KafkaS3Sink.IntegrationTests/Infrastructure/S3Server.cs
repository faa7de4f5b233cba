using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Eng;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>
/// The real S3 server the integration tests use: the one named by S3_ENDPOINT (with S3_ACCESS_KEY,
/// S3_SECRET_KEY), or a single-node Ceph RGW started with eng/s3/start-rgw.sh and stopped at dispose.
/// </summary>
public sealed class S3Server : IDisposable
{
    private readonly LocalS3Server server = LocalS3Server.Start(Path.Combine(Path.GetTempPath(), "kafkas3sink-rgw-tests-" + Environment.ProcessId));

    public Uri Endpoint => server.Endpoint;

    public string AccessKey => server.AccessKey;

    public string SecretKey => server.SecretKey;

    public AmazonS3Client CreateClient(string? accessKey = null, string? secretKey = null) => server.CreateClient(accessKey, secretKey);

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

    public void Dispose() => server.Dispose();

    internal static string RepositoryRoot() => LocalS3Server.RepositoryRoot();
}
