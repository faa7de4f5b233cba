using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Formats;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Upload;

/// <summary>
/// Writes a sealed segment in the output format to a local object file, then streams that file to
/// S3: one PUT up to the part size, a multipart upload above it. Memory use is a few stream buffers
/// per concurrent upload, whatever the object size.
/// </summary>
internal sealed class S3ObjectUploader : IDisposable
{
    private readonly IAmazonS3 s3;
    private readonly S3StorageOptions storage;
    private readonly ServerSideEncryptionMethod? sse;
    private readonly S3StorageClass? storageClass;
    private readonly S3CannedACL? cannedAcl;
    private readonly string bucket;
    private readonly long partSize;
    private readonly int maxRetries;
    private readonly string objectDirectory;
    private readonly IObjectFormat format;
    private readonly ILogger logger;
    private readonly SemaphoreSlim concurrency;
    private readonly TimeProvider time;
    private readonly Action<long> uploaded;
    private readonly Action<TimeSpan, bool> finished;
    private readonly Action retried;
    private readonly OwnershipFence fence;
    private long sequence;
    private long stagedObjectBytes;
    private int consecutiveFailures;

    public S3ObjectUploader(IAmazonS3 s3, S3StorageOptions options, string stagingRoot, IObjectFormat format, OwnershipFence fence, TimeProvider time, ILogger logger, Action<long> uploaded, Action<TimeSpan, bool> finished, Action retried)
    {
        this.fence = fence;
        this.s3 = s3;
        storage = options;
        sse = options.ServerSideEncryption is { } method ? ServerSideEncryptionMethod.FindValue(method) : null;
        storageClass = options.StorageClass is { } sc ? S3StorageClass.FindValue(sc) : null;
        cannedAcl = options.CannedAcl is { } acl ? S3CannedACL.FindValue(acl) : null;
        bucket = options.BucketName;
        partSize = options.PartSize;
        maxRetries = options.MaxRetries;
        objectDirectory = Path.Combine(stagingRoot, ".objects");
        Directory.CreateDirectory(objectDirectory);
        this.format = format;
        this.time = time;
        this.logger = logger;
        this.uploaded = uploaded;
        this.finished = finished;
        this.retried = retried;
        concurrency = new SemaphoreSlim(options.MaxConcurrentUploads, options.MaxConcurrentUploads);
    }

    public string Extension => format.Extension;

    /// <summary>Failed upload attempts since the last successful upload (for health checks).</summary>
    public int ConsecutiveFailures => Volatile.Read(ref consecutiveFailures);

    /// <summary>Bytes of object files formatted and not yet deleted (part of the staging quota).</summary>
    public long StagedObjectBytes => Interlocked.Read(ref stagedObjectBytes);

    /// <summary>Formats and uploads one segment; with fencing, never over an object of a newer epoch.</summary>
    /// <exception cref="OwnershipLostException">A newer owner wrote the key or holds the lease.</exception>
    public async Task UploadAsync(ISealedSegment segment, string? avroSchema, string key, long epoch, CancellationToken cancellationToken)
    {
        await concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        var file = Path.Combine(objectDirectory, Interlocked.Increment(ref sequence).ToString(System.Globalization.CultureInfo.InvariantCulture) + ".obj");
        long length = 0;
        var started = time.GetTimestamp();
        var succeeded = false;
        var fencedOut = false;
        try
        {
            // Formatting reads the segment from disk and writes the body to disk: no whole object in memory.
            await Task.Run(
                () =>
                {
                    using var output = new FileStream(file, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024);
                    format.Write(segment, avroSchema, output);
                },
                cancellationToken).ConfigureAwait(false);

            length = new FileInfo(file).Length;
            Interlocked.Add(ref stagedObjectBytes, length);
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (length <= partSize)
                    {
                        await PutAsync(file, key, segment, epoch, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await MultipartAsync(file, key, segment, length, epoch, cancellationToken).ConfigureAwait(false);
                    }

                    Log.Uploaded(logger, key, segment.RecordCount, length);
                    Volatile.Write(ref consecutiveFailures, 0);
                    uploaded(length);
                    succeeded = true;
                    return;
                }
                catch (Exception ex) when (attempt < maxRetries && ex is AmazonS3Exception or HttpRequestException or IOException or TimeoutException
                    && !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref consecutiveFailures);
                    retried();
                    var delay = TimeSpan.FromMilliseconds(Math.Min(200 * Math.Pow(2, attempt), 10_000));
                    Log.UploadRetry(logger, ex, key, attempt + 1, delay);
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OwnershipLostException)
        {
            // Not a failed upload: the write was refused on purpose (counted as a fenced partition).
            fencedOut = true;
            throw;
        }
        finally
        {
            if (!cancellationToken.IsCancellationRequested && !fencedOut)
            {
                finished(time.GetElapsedTime(started), succeeded);
            }

            File.Delete(file);
            Interlocked.Add(ref stagedObjectBytes, -length);
            concurrency.Release();
        }
    }

    public void Dispose() => concurrency.Dispose();

    private async Task PutAsync(string file, string key, ISealedSegment segment, long epoch, CancellationToken cancellationToken)
    {
        for (var conflicts = 0; ; conflicts++)
        {
            var condition = await ConditionAsync(key, segment, epoch, cancellationToken).ConfigureAwait(false);
            var request = new PutObjectRequest
            {
                BucketName = bucket,
                Key = key,
                FilePath = file,
                ContentType = format.ContentType,
                IfMatch = condition.IfMatch,
                IfNoneMatch = condition.IfNoneMatch,
            };
            Describe(segment, epoch, request.Metadata);
            request.ServerSideEncryptionMethod = sse;
            request.ServerSideEncryptionKeyManagementServiceKeyId = storage.KmsKeyId;
            request.StorageClass = storageClass;
            request.CannedACL = cannedAcl;
            request.TagSet = Tags(segment);
            try
            {
                await s3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AmazonS3Exception ex) when (fence.Enabled && OwnershipFence.IsConflict(ex) && conflicts < 5)
            {
                // The object changed between reading its epoch and writing: read it again.
            }
        }
    }

    private Task<WriteCondition> ConditionAsync(string key, ISealedSegment segment, long epoch, CancellationToken cancellationToken) =>
        fence.Enabled
            ? fence.PrepareWriteAsync(key, segment.Descriptor.Topic, segment.Descriptor.Partition, epoch, cancellationToken)
            : Task.FromResult(default(WriteCondition));

    /// <summary>Object metadata: where the records came from (topic, partition, offsets, count) and the writer's epoch.</summary>
    private static void Describe(ISealedSegment segment, long epoch, MetadataCollection metadata)
    {
        var d = segment.Descriptor;
        metadata.Add(OwnershipFence.EpochMetadata, epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-topic", d.Topic);
        metadata.Add("kafkas3sink-partition", d.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-start-offset", d.StartOffset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-end-offset", segment.LastOffset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-record-count", segment.RecordCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The configured tags, plus Confluent's <c>startOffset</c>/<c>endOffset</c>/<c>recordCount</c> with <c>TagObjectsWithOffsets</c>.</summary>
    private List<Tag>? Tags(ISealedSegment segment)
    {
        if (storage.ObjectTags.Count == 0 && !storage.TagObjectsWithOffsets)
        {
            return null;
        }

        var tags = storage.ObjectTags.Select(t => new Tag { Key = t.Key, Value = t.Value }).ToList();
        if (storage.TagObjectsWithOffsets)
        {
            var c = System.Globalization.CultureInfo.InvariantCulture;
            tags.Add(new Tag { Key = "startOffset", Value = segment.Descriptor.StartOffset.ToString(c) });
            tags.Add(new Tag { Key = "endOffset", Value = segment.LastOffset.ToString(c) });
            tags.Add(new Tag { Key = "recordCount", Value = segment.RecordCount.ToString(c) });
        }

        return tags;
    }

    private async Task MultipartAsync(string file, string key, ISealedSegment segment, long length, long epoch, CancellationToken cancellationToken)
    {
        // Read the existing object's epoch before sending parts; the complete carries the condition
        // where the store honours it (otherwise the check above is all there is).
        var condition = await ConditionAsync(key, segment, epoch, cancellationToken).ConfigureAwait(false);
        var initRequest = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = format.ContentType };
        Describe(segment, epoch, initRequest.Metadata);
        initRequest.ServerSideEncryptionMethod = sse;
        initRequest.ServerSideEncryptionKeyManagementServiceKeyId = storage.KmsKeyId;
        initRequest.StorageClass = storageClass;
        initRequest.CannedACL = cannedAcl;
        initRequest.TagSet = Tags(segment);
        var init = await s3.InitiateMultipartUploadAsync(initRequest, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long position = 0; position < length; position += partSize, partNumber++)
            {
                var response = await s3.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = bucket,
                        Key = key,
                        UploadId = init.UploadId,
                        PartNumber = partNumber,
                        FilePath = file,
                        FilePosition = position,
                        PartSize = Math.Min(partSize, length - position),
                    },
                    cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, response.ETag));
            }

            await s3.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest
                {
                    BucketName = bucket,
                    Key = key,
                    UploadId = init.UploadId,
                    PartETags = parts,
                    IfMatch = fence.FencesMultipart ? condition.IfMatch : null,
                    IfNoneMatch = fence.FencesMultipart ? condition.IfNoneMatch : null,
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                await s3.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = init.UploadId },
                    CancellationToken.None).ConfigureAwait(false);
            }
            catch (AmazonS3Exception abortError)
            {
                Log.AbortFailed(logger, abortError, key);
            }

            throw;
        }
    }
}
