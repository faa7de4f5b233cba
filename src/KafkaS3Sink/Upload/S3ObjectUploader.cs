using System.Buffers;
using System.Globalization;
using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Formats;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Upload;

/// <summary>
/// Writes a sealed segment in the output format to a local object file, then streams that file to
/// S3: one PUT up to the part size, a multipart upload above it. Every request goes through the sink's
/// <see cref="RetryRunner"/> (a failed part is retried alone); a multipart upload that is given up is
/// aborted, with retries, so none is left behind. Memory use is a few stream buffers per concurrent
/// upload, whatever the object size (plus the body itself for a direct body of up to 4 MiB).
/// </summary>
internal sealed partial class S3ObjectUploader : IDisposable
{
    private const int MaxRestarts = 10;

    /// <summary>
    /// Direct bodies up to this size are read from the segment once, into memory, for all attempts: the SDK reads a
    /// body twice (to hash it for the signature, then to send it), and from a segment each read is a pass of file
    /// reads and record checksums. 4 MiB covers the usual object (flush.size x record size); at most
    /// MaxConcurrentUploads bodies are in use at once. Larger direct bodies stream from the segment, read twice.
    /// </summary>
    private const int InMemoryBodyBytes = 4 * 1024 * 1024;

    // The uploader's own pool, keeping at most MaxConcurrentUploads arrays of each power-of-two size: the shared pool
    // also keeps one per thread that returned one, and bodies are returned by whichever pool thread finished the upload.
    private readonly ArrayPool<byte> bodies;
    private readonly IAmazonS3 s3;
    private readonly S3StorageOptions storage;
    private readonly ServerSideEncryptionMethod? sse;
    private readonly S3StorageClass? storageClass;
    private readonly S3CannedACL? cannedAcl;
    private readonly string bucket;
    private readonly long partSize;
    private readonly string objectDirectory;
    private readonly IObjectFormat format;
    private readonly ILogger logger;
    private readonly SemaphoreSlim concurrency;
    private readonly TimeProvider time;
    private readonly RetryRunner retry;
    private readonly UploadEvents events;
    private readonly OwnershipFence fence;
    private readonly MultipartCleanup cleanup;
    private long sequence;
    private long stagedObjectBytes;
    private int consecutiveFailures;

    public S3ObjectUploader(IAmazonS3 s3, KafkaS3SinkOptions options, IObjectFormat format, OwnershipFence fence, RetryRunner retry, TimeProvider time, ILogger logger, UploadEvents events)
    {
        this.fence = fence;
        this.s3 = s3;
        storage = options.S3;
        sse = storage.ServerSideEncryption is { } method ? ServerSideEncryptionMethod.FindValue(method) : null;
        storageClass = storage.StorageClass is { } sc ? S3StorageClass.FindValue(sc) : null;
        cannedAcl = storage.CannedAcl is { } acl ? S3CannedACL.FindValue(acl) : null;
        bucket = storage.BucketName;
        partSize = storage.PartSize;
        objectDirectory = Path.Combine(options.Staging.Directory!, ".objects");
        this.format = format;
        this.retry = retry;
        this.time = time;
        this.logger = logger;
        ClearObjectDirectory();
        this.events = events;
        cleanup = new MultipartCleanup(s3, bucket, options.TopicsDir, retry, logger);
        concurrency = new SemaphoreSlim(storage.MaxConcurrentUploads, storage.MaxConcurrentUploads);
        bodies = ArrayPool<byte>.Create(InMemoryBodyBytes, storage.MaxConcurrentUploads);
    }

    public string Extension => format.Extension;

    /// <summary>Failed request attempts since the last successful upload (for status).</summary>
    public int ConsecutiveFailures => Volatile.Read(ref consecutiveFailures);

    /// <summary>Bytes of object files formatted and not yet deleted (part of the staging quota).</summary>
    public long StagedObjectBytes => Interlocked.Read(ref stagedObjectBytes);

    /// <summary>Formats and uploads one segment; with fencing, never over an object of a newer epoch.</summary>
    /// <exception cref="OwnershipLostException">A newer owner wrote the key or holds the lease.</exception>
    /// <exception cref="StagedDataException">The staged segment could not be read or formatted (damaged, disk failing).</exception>
    /// <exception cref="S3PermanentException">S3 refused the upload for good (credentials, permissions, bucket).</exception>
    public async Task UploadAsync(ISealedSegment segment, string? avroSchema, string key, long epoch, CancellationToken cancellationToken)
    {
        await concurrency.WaitAsync(cancellationToken).ConfigureAwait(false);
        var file = Path.Combine(objectDirectory, Interlocked.Increment(ref sequence).ToString(CultureInfo.InvariantCulture) + ".obj");
        long length = 0;
        var started = time.GetTimestamp();
        var succeeded = false;
        var counted = true;
        var partition = string.Create(CultureInfo.InvariantCulture, $"{segment.Descriptor.Topic}[{segment.Descriptor.Partition}]");
        Stream? direct = null;
        byte[]? pooledBody = null;
        try
        {
            // Uncompressed JSON lines and raw bytes that fit one PUT go straight from the segment: no second staged copy.
            if (avroSchema is null && format.OpenDirect(segment) is { } body)
            {
                if (body.Length <= InMemoryBodyBytes)
                {
                    // Read once into a pooled buffer (see InMemoryBodyBytes).
                    using (body)
                    {
                        pooledBody = bodies.Rent((int)body.Length);
                        body.ReadExactly(pooledBody, 0, (int)body.Length);
                        direct = new MemoryStream(pooledBody, 0, (int)body.Length, writable: false);
                    }
                }
                else if (body.Length <= partSize)
                {
                    direct = body;
                }
                else
                {
                    await body.DisposeAsync().ConfigureAwait(false);
                }
            }

            if (direct is null)
            {
                length = await FormatAsync(segment, avroSchema, file, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref stagedObjectBytes, length);
            }

            for (var restarts = 0; ; restarts++)
            {
                try
                {
                    if (direct is not null)
                    {
                        await PutAsync(null, direct, key, partition, segment, epoch, cancellationToken).ConfigureAwait(false);
                    }
                    else if (length <= partSize)
                    {
                        await PutAsync(file, null, key, partition, segment, epoch, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await MultipartAsync(file, key, partition, segment, length, epoch, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                }
                catch (AmazonS3Exception ex) when (restarts < MaxRestarts && IsRestartable(ex) && !cancellationToken.IsCancellationRequested)
                {
                    // The multipart upload vanished (a complete that succeeded unseen, an abort by a cleanup) or the
                    // object changed before the complete: start the object again; the fence re-reads its epoch.
                    events.Retried("object");
                }
            }

            if (length > partSize)
            {
                // Ours is complete, so any incomplete upload of this key left is an orphan: a create whose answer
                // was lost on the way (seen with cut responses even when no retry of ours ran). One LIST per
                // multipart object, in the background.
                cleanup.StartCleanup(key, keep: null, partition);
            }

            var uploaded = direct?.Length ?? length;
            Log.Uploaded(logger, key, segment.RecordCount, uploaded);
            Volatile.Write(ref consecutiveFailures, 0);
            events.Uploaded(uploaded);
            succeeded = true;
        }
        catch (Exception ex) when (ex is not StagedDataException && StagedDataException.In(ex) is { } staged)
        {
            // A body read from its segment failed inside the SDK, which may have wrapped the reason.
            throw staged;
        }
        catch (OwnershipLostException)
        {
            // Not a failed upload: the write was refused on purpose (counted as a fenced partition).
            counted = false;
            throw;
        }
        catch (Exception ex) when (ex is AmazonS3Exception && !S3Errors.IsTransient(ex, cancellationToken) && !cancellationToken.IsCancellationRequested)
        {
            throw new S3PermanentException(S3Errors.DescribePermanent(ex, bucket, "the upload", key), ex);
        }
        finally
        {
            if (!cancellationToken.IsCancellationRequested && counted)
            {
                events.Finished(time.GetElapsedTime(started), succeeded);
            }

            if (direct is null)
            {
                // Only a formatted body has a file (a direct body is the segment itself).
                DeleteQuietly(file);
            }

            Interlocked.Add(ref stagedObjectBytes, -length);
            direct?.Dispose();
            if (pooledBody is not null)
            {
                // Before the slot is given back, so no more bodies than uploads are ever rented at once.
                bodies.Return(pooledBody);
            }

            concurrency.Release();
        }
    }

    /// <summary>Aborts incomplete uploads an earlier owner of the partition left (see <see cref="MultipartCleanup"/>).</summary>
    public Task AbortStaleUploadsAsync(string topic, int partition, CancellationToken cancellationToken) =>
        cleanup.AbortStaleUploadsAsync(topic, partition, cancellationToken);

    /// <summary>Waits (bounded) for the aborts of given-up multipart uploads.</summary>
    public void FinishAborts(TimeSpan timeout) => cleanup.FinishAborts(timeout);

    public void Dispose()
    {
        cleanup.Dispose();
        concurrency.Dispose();
    }

    private static bool IsRestartable(AmazonS3Exception ex) =>
        ex.ErrorCode == "NoSuchUpload" || OwnershipFence.IsConflict(ex);

    private void ClearObjectDirectory()
    {
        Directory.CreateDirectory(objectDirectory);
        var stale = Directory.GetFiles(objectDirectory);
        foreach (var file in stale)
        {
            DeleteQuietly(file);
        }

        if (stale.Length > 0)
        {
            Log.StaleObjectFilesCleared(logger, stale.Length);
        }
    }

    private static void DeleteQuietly(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Cleared at the next start.
        }
    }

    private async Task<long> FormatAsync(ISealedSegment segment, string? avroSchema, string file, CancellationToken cancellationToken)
    {
        try
        {
            // Formatting reads the segment from disk and writes the body to disk: no whole object in memory.
            return await Task.Run(
                () =>
                {
                    // Made at start, and again here: a staging folder deleted under the sink (a clean-up of /tmp) would
                    // otherwise fail every object to come, each failure replaying its partition from Kafka, forever.
                    Directory.CreateDirectory(objectDirectory);
                    using (var output = new FileStream(file, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 64 * 1024))
                    {
                        format.Write(segment, avroSchema, output);
                    }

                    return new FileInfo(file).Length;
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new StagedDataException(segment.Descriptor, ex);
        }
    }

    /// <summary>One PUT of the object file, or of the body read from the segment (rewound for every attempt).</summary>
    private async Task PutAsync(string? file, Stream? body, string key, string partition, ISealedSegment segment, long epoch, CancellationToken cancellationToken)
    {
        // With fencing, a new key is created in one request; a refusal (the key exists) reads the object's epoch
        // and replaces exactly the version read. The rotation's lease was checked before (CheckOwnershipAsync).
        var condition = fence.Enabled ? OwnershipFence.CreateOnly : default;
        for (var conflicts = 0; ; conflicts++)
        {
            try
            {
                await retry.RunAsync(
                    "PUT",
                    key,
                    partition,
                    ct =>
                    {
                        body?.Seek(0, SeekOrigin.Begin);
                        var request = new PutObjectRequest
                        {
                            BucketName = bucket,
                            Key = key,
                            FilePath = file,
                            InputStream = body,
                            AutoCloseStream = false,

                            // Whole, with the body's SHA-256 (read once to hash, once to send): the SDK allocated
                            // ~236 KB per 1 MB object with its aws-chunked default against ~40 KB whole, for the same
                            // CPU (docs/benchmarks.md). Leases and parts are sent so too (OwnershipFence, Multipart).
                            UseChunkEncoding = false,
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
                        return Attempt(s3.PutObjectAsync(request, ct));
                    },
                    cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AmazonS3Exception ex) when (fence.Enabled && OwnershipFence.IsConflict(ex) && conflicts < 5)
            {
                // The key exists (a replay, another owner, an earlier attempt of this PUT that landed unseen) or
                // changed since it was read: read its epoch, then replace that version.
                condition = await fence.AfterConflictAsync(key, segment.Descriptor.Topic, segment.Descriptor.Partition, epoch, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>With fencing, reads the partition's lease once for a rotation's uploads (no-op without).</summary>
    /// <exception cref="OwnershipLostException">A newer owner holds the lease.</exception>
    /// <exception cref="S3PermanentException">S3 refused the read for good.</exception>
    public Task CheckOwnershipAsync(string topic, int partition, long epoch, CancellationToken cancellationToken) =>
        fence.Enabled ? fence.CheckLeaseAsync(topic, partition, epoch, cancellationToken) : Task.CompletedTask;

    private Task<WriteCondition> ConditionAsync(string key, ISealedSegment segment, long epoch, CancellationToken cancellationToken) =>
        fence.Enabled
            ? fence.PrepareWriteAsync(key, segment.Descriptor.Topic, segment.Descriptor.Partition, epoch, cancellationToken)
            : Task.FromResult(default(WriteCondition));

    /// <summary>Counts a failed attempt for the status (reset by the next successful upload).</summary>
    private async Task<T> Attempt<T>(Task<T> request)
    {
        try
        {
            return await request.ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Increment(ref consecutiveFailures);
            throw;
        }
    }

    /// <summary>Object metadata: where the records came from (topic, partition, offsets, count) and the writer's epoch.</summary>
    private static void Describe(ISealedSegment segment, long epoch, MetadataCollection metadata)
    {
        var d = segment.Descriptor;
        metadata.Add(OwnershipFence.EpochMetadata, epoch.ToString(CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-topic", d.Topic);
        metadata.Add("kafkas3sink-partition", d.Partition.ToString(CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-start-offset", d.StartOffset.ToString(CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-end-offset", segment.LastOffset.ToString(CultureInfo.InvariantCulture));
        metadata.Add("kafkas3sink-record-count", segment.RecordCount.ToString(CultureInfo.InvariantCulture));
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
            var c = CultureInfo.InvariantCulture;
            tags.Add(new Tag { Key = "startOffset", Value = segment.Descriptor.StartOffset.ToString(c) });
            tags.Add(new Tag { Key = "endOffset", Value = segment.LastOffset.ToString(c) });
            tags.Add(new Tag { Key = "recordCount", Value = segment.RecordCount.ToString(c) });
        }

        return tags;
    }
}
