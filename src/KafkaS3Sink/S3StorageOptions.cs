namespace KafkaS3Sink;

/// <summary>Where and how objects are written.</summary>
public sealed class S3StorageOptions
{
    /// <summary>The smallest part size S3 accepts for multipart uploads: 5 MiB.</summary>
    public const long MinimumPartSize = 5L * 1024 * 1024;

    /// <summary>Bucket name (<c>s3.bucket.name</c>). Required.</summary>
    public string BucketName { get; set; } = string.Empty;

    /// <summary>Region (<c>s3.region</c>). Default <c>us-east-1</c>.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>
    /// Endpoint of an S3-compatible store (e.g. <c>http://127.0.0.1:7480</c>); <see langword="null"/> for AWS. Default <see langword="null"/>.
    /// </summary>
    public Uri? ServiceUrl { get; set; }

    /// <summary>Use path-style addressing (needed by most S3-compatible stores). Default <see langword="false"/>.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Access key id; when <see langword="null"/> the AWS SDK's credential chain is used. Default <see langword="null"/>.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>Secret access key, with <see cref="AccessKeyId"/>. Never logged. Default <see langword="null"/>.</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>
    /// Multipart part size in bytes (<c>s3.part.size</c>); objects up to this size are sent with a
    /// single PUT. At least 5 MiB. Default 25 MiB, as Confluent's connector. Memory use does not depend on it:
    /// parts are streamed from disk.
    /// </summary>
    public long PartSize { get; set; } = 25L * 1024 * 1024;

    /// <summary>
    /// Maximum number of objects uploading at once, across all topic-partitions. Default 8: against 4 it uploaded
    /// 100,000 small objects 1.3 times as fast for ~1 MB more peak memory (docs/benchmarks.md); uploads of small
    /// objects wait on latency, so an S3 farther away than this machine's gains more. Each running upload holds up
    /// to ~384 KiB of buffers, plus its body when that is read into memory (a JSON lines object of up to 4 MiB).
    /// </summary>
    public int MaxConcurrentUploads { get; set; } = 8;

    /// <summary>
    /// Retries of one S3 request (<c>s3.part.retries</c>) before its failure is logged as a warning and shows in the
    /// status; earlier retries are logged at debug level. Transient failures are retried for as long as the sink runs
    /// (see <see cref="RetryOptions"/>), so this does not make the sink fail. Default 3.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>
    /// How long one S3 request may take before it is abandoned and retried (a stalled connection). Default 100 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Server-side encryption: <c>AES256</c> (SSE-S3) or <c>aws:kms</c> (SSE-KMS). Default <see langword="null"/> (the bucket's default).</summary>
    public string? ServerSideEncryption { get; set; }

    /// <summary>With <c>aws:kms</c>: the KMS key id or ARN; <see langword="null"/> for the AWS-managed key. Default <see langword="null"/>.</summary>
    public string? KmsKeyId { get; set; }

    /// <summary>Storage class of the objects, e.g. <c>STANDARD_IA</c>, <c>INTELLIGENT_TIERING</c>. Default <see langword="null"/> (STANDARD).</summary>
    public string? StorageClass { get; set; }

    /// <summary>Canned ACL of the objects, e.g. <c>bucket-owner-full-control</c>. Default <see langword="null"/> (none sent).</summary>
    public string? CannedAcl { get; set; }

    /// <summary>Tags put on every object (S3 allows 10 per object). Default none.</summary>
    public IDictionary<string, string> ObjectTags { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Also tag each object with <c>startOffset</c>, <c>endOffset</c> and <c>recordCount</c> (Confluent's <c>s3.object.tagging</c>).
    /// The same values are always written as metadata (<c>x-amz-meta-kafkas3sink-*</c>). Default <see langword="false"/>.
    /// </summary>
    public bool TagObjectsWithOffsets { get; set; }

    /// <summary>
    /// Whether uploads use conditional writes (<c>If-None-Match</c>/<c>If-Match</c>) and a lease object per
    /// topic-partition so that a sink that lost its partitions cannot overwrite a newer owner's objects
    /// (see docs/guarantees.md). Default <see cref="ConditionalWrites.Auto"/>.
    /// </summary>
    public ConditionalWrites ConditionalWrites { get; set; } = ConditionalWrites.Auto;

    internal void Validate(List<string> errors)
    {
        if (!Enum.IsDefined(ConditionalWrites))
        {
            errors.Add($"S3.ConditionalWrites: '{ConditionalWrites}' is not Auto, Required or Disabled.");
        }

        if (string.IsNullOrWhiteSpace(BucketName))
        {
            errors.Add("S3.BucketName: required.");
        }

        if (string.IsNullOrWhiteSpace(Region))
        {
            errors.Add("S3.Region: required.");
        }

        if (PartSize < MinimumPartSize)
        {
            errors.Add($"S3.PartSize: must be at least {MinimumPartSize} bytes (5 MiB), was {PartSize}.");
        }

        if (MaxConcurrentUploads < 1)
        {
            errors.Add($"S3.MaxConcurrentUploads: must be at least 1 (was {MaxConcurrentUploads}).");
        }

        if (MaxRetries < 0)
        {
            errors.Add($"S3.MaxRetries: must not be negative (was {MaxRetries}).");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add($"S3.RequestTimeout: must be positive (was {RequestTimeout}).");
        }

        if (ServerSideEncryption is not (null or "AES256" or "aws:kms"))
        {
            errors.Add($"S3.ServerSideEncryption: '{ServerSideEncryption}' is not supported (AES256 or aws:kms).");
        }

        if (KmsKeyId is not null && ServerSideEncryption != "aws:kms")
        {
            errors.Add("S3.KmsKeyId: only used with S3.ServerSideEncryption = aws:kms.");
        }

        if (CannedAcl is not (null or "private" or "public-read" or "public-read-write" or "authenticated-read" or "aws-exec-read" or "bucket-owner-read" or "bucket-owner-full-control"))
        {
            errors.Add($"S3.CannedAcl: '{CannedAcl}' is not a canned ACL.");
        }

        if (StorageClass is { Length: 0 })
        {
            errors.Add("S3.StorageClass: must not be empty (leave it null for STANDARD).");
        }

        if (ObjectTags.Count + (TagObjectsWithOffsets ? 3 : 0) > 10)
        {
            errors.Add($"S3.ObjectTags: S3 allows at most 10 tags per object (got {ObjectTags.Count}{(TagObjectsWithOffsets ? " + 3 offset tags" : string.Empty)}).");
        }

        if ((AccessKeyId is null) != (SecretAccessKey is null))
        {
            errors.Add("S3.AccessKeyId / S3.SecretAccessKey: set both or neither.");
        }

        if (ServiceUrl is not null && !ServiceUrl.IsAbsoluteUri)
        {
            errors.Add($"S3.ServiceUrl: '{ServiceUrl}' must be an absolute URL.");
        }
    }
}
