namespace KafkaS3Sink.Configuration;

/// <summary>The connector's S3 keys (bucket, endpoint, credentials, encryption, parts and retries) as sink options.</summary>
public static partial class KafkaConnectConfig
{
    /// <summary>
    /// Reads the <c>s3.*</c>, <c>store.url</c> and <c>aws.*</c> keys. Returns what they set on the options and the problem
    /// with the endpoint, if any (reported after the options are applied, as the endpoint's own error).
    /// </summary>
    private static (Action<KafkaS3SinkOptions> Apply, string? EndpointProblem) ReadS3Keys(ConnectConfigReader r)
    {
        var partSize = r.Long("s3.part.size");
        var retries = r.Long("s3.part.retries");
        var retryBackoff = r.Long("s3.retry.backoff.ms");
        var endpoint = r.Get("store.url") ?? r.Get("s3.proxy.url");
        r.Known.Add("store.url");
        var region = r.Get("s3.region");
        var bucket = r.Get("s3.bucket.name");
        var pathStyle = r.Get("s3.path.style.access.enabled");
        var accessKey = r.Get("aws.access.key.id");
        var secretKey = r.Get("aws.secret.access.key");
        var ssea = r.Get("s3.ssea.name");
        var kmsKey = r.Get("s3.sse.kms.key.id");
        var acl = r.Get("s3.acl.canned");
        var tagging = r.Get("s3.object.tagging");
        var endpointProblem = endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _)
            ? $"s3.proxy.url / store.url: '{endpoint}' is not an absolute URL."
            : null;

        void Apply(KafkaS3SinkOptions o)
        {
            if (region is not null)
            {
                o.S3.Region = region;
            }

            if (bucket is not null)
            {
                o.S3.BucketName = bucket;
            }

            if (partSize is { } ps)
            {
                o.S3.PartSize = ps;
            }

            if (retries is { } count)
            {
                o.S3.MaxRetries = (int)Math.Clamp(count, -1, int.MaxValue);
            }

            if (retryBackoff is { } backoff)
            {
                o.Retry.InitialBackoff = TimeSpan.FromMilliseconds(Math.Clamp(backoff, -1, int.MaxValue));
                if (o.Retry.MaxBackoff < o.Retry.InitialBackoff)
                {
                    o.Retry.MaxBackoff = o.Retry.InitialBackoff;
                }
            }

            if (endpoint is not null)
            {
                o.S3.ServiceUrl = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri : null;
                o.S3.ForcePathStyle = true;
            }

            if (pathStyle is not null)
            {
                o.S3.ForcePathStyle = string.Equals(pathStyle, "true", StringComparison.OrdinalIgnoreCase);
            }

            if (!string.IsNullOrEmpty(ssea))
            {
                o.S3.ServerSideEncryption = ssea;
            }

            if (!string.IsNullOrEmpty(kmsKey))
            {
                o.S3.KmsKeyId = kmsKey;
            }

            if (!string.IsNullOrEmpty(acl))
            {
                o.S3.CannedAcl = acl;
            }

            if (tagging is not null)
            {
                o.S3.TagObjectsWithOffsets = string.Equals(tagging, "true", StringComparison.OrdinalIgnoreCase);
            }

            if (accessKey is not null || secretKey is not null)
            {
                o.S3.AccessKeyId = accessKey;
                o.S3.SecretAccessKey = secretKey;
            }
        }

        return (Apply, endpointProblem);
    }
}
