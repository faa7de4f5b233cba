using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Resilience;

namespace KafkaS3Sink.Upload;

/// <summary>The start-up probe of <see cref="OwnershipFence"/>: whether the store honours conditional PUTs and multipart completes.</summary>
internal sealed partial class OwnershipFence
{
    /// <summary>
    /// Probes whether the store honours conditional PUTs (a PUT that must fail has to fail with 412) and
    /// how it compares ETags, on a throwaway object under <c>_kafkas3sink/probe/</c>. Transient failures are
    /// retried (the sink waits for S3); rejected credentials, a missing bucket or denied access fail the
    /// start with a message that says what to fix — a 403 is never taken for a store without conditional writes.
    /// </summary>
    /// <exception cref="S3PermanentException">S3 refused the probe for good.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (mode == ConditionalWrites.Disabled)
        {
            return;
        }

        var probe = RootPrefix + "probe/" + Guid.NewGuid().ToString("N");
        string? unsupported = null;
        var operation = "PUT";
        try
        {
            var created = await CreateProbeAsync(probe, cancellationToken).ConfigureAwait(false);

            // Fencing reads objects before writing them (HEAD needs s3:GetObject).
            operation = "HEAD";
            await retry.RunAsync("HEAD", probe, null, ct => s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = probe }, ct), cancellationToken).ConfigureAwait(false);
            operation = "conditional PUT";
            if (!await IsRejectedAsync(() => PutTextAsync(probe, "2", new WriteCondition(null, "*"), cancellationToken)).ConfigureAwait(false))
            {
                unsupported = "a PUT with If-None-Match: * over an existing object succeeded";
            }
            else if (!await IsRejectedAsync(() => PutTextAsync(probe, "2", new WriteCondition("\"00000000000000000000000000000000\"", null), cancellationToken)).ConfigureAwait(false))
            {
                unsupported = "a PUT with a wrong If-Match succeeded";
            }
            else if (!await IsRejectedAsync(() => PutTextAsync(probe, "3", new WriteCondition(created, null), cancellationToken)).ConfigureAwait(false))
            {
                quotedEtags = true;
            }
            else if (!await IsRejectedAsync(() => PutTextAsync(probe, "3", new WriteCondition(Unquote(created), null), cancellationToken)).ConfigureAwait(false))
            {
                quotedEtags = false;
            }
            else
            {
                unsupported = "a PUT with the object's own ETag in If-Match was rejected";
            }

            if (unsupported is null)
            {
                operation = "multipart";
                FencesMultipart = await ProbeMultipartAsync(probe, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest && !S3Errors.IsWrongRegion(ex))
        {
            unsupported = $"the probe failed with {(int)ex.StatusCode} {ex.ErrorCode}: {ex.Message}";
        }
        catch (AmazonS3Exception ex) when (!S3Errors.IsTransient(ex, cancellationToken))
        {
            // Rejected credentials, a missing bucket, denied access: nothing the sink can wait out.
            throw new S3PermanentException(
                S3Errors.DescribePermanent(ex, bucket, $"the start-up probe ({operation})", probe)
                + (ex.StatusCode == HttpStatusCode.Forbidden && ex.ErrorCode is "AccessDenied" or "Forbidden" or null
                    ? " Without read access, set S3.ConditionalWrites = Disabled to write without fencing."
                    : string.Empty),
                ex);
        }
        finally
        {
            await DeleteQuietlyAsync(probe).ConfigureAwait(false);
        }

        if (unsupported is not null)
        {
            if (mode == ConditionalWrites.Required)
            {
                throw new KafkaS3SinkException(
                    $"S3.ConditionalWrites is Required but bucket '{bucket}' does not honour conditional writes: {unsupported}.");
            }

            Log.FencingUnsupported(logger, bucket, unsupported);
            return;
        }

        Enabled = true;
        Log.FencingEnabled(logger, bucket, FencesMultipart);
    }

    /// <summary>Creates the probe object; a retried create that finds it already there (the first attempt landed unseen) reads its ETag.</summary>
    private async Task<string> CreateProbeAsync(string probe, CancellationToken cancellationToken)
    {
        try
        {
            return await PutTextAsync(probe, "1", new WriteCondition(null, "*"), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (IsConflict(ex))
        {
            var existing = await retry.RunAsync("HEAD", probe, null, ct => s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = probe }, ct), cancellationToken).ConfigureAwait(false);
            return existing.ETag;
        }
    }

    private static async Task<bool> IsRejectedAsync(Func<Task> write)
    {
        try
        {
            await write().ConfigureAwait(false);
            return false;
        }
        catch (AmazonS3Exception ex) when (IsConflict(ex))
        {
            return true;
        }
    }

    /// <summary>Whether a multipart complete with <c>If-None-Match: *</c> over an existing object is rejected.</summary>
    private async Task<bool> ProbeMultipartAsync(string probe, CancellationToken cancellationToken)
    {
        var init = await retry.RunAsync("CreateMultipartUpload", probe, null, ct => s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = bucket, Key = probe }, ct), cancellationToken).ConfigureAwait(false);
        try
        {
            var part = await retry.RunAsync(
                "UploadPart",
                probe,
                null,
                ct => s3.UploadPartAsync(
                    new UploadPartRequest { BucketName = bucket, Key = probe, UploadId = init.UploadId, PartNumber = 1, InputStream = new MemoryStream("4"u8.ToArray()), UseChunkEncoding = false },
                    ct),
                cancellationToken).ConfigureAwait(false);
            return await IsRejectedAsync(() => retry.RunAsync(
                "CompleteMultipartUpload",
                probe,
                null,
                ct => s3.CompleteMultipartUploadAsync(
                    new CompleteMultipartUploadRequest { BucketName = bucket, Key = probe, UploadId = init.UploadId, PartETags = [new PartETag(1, part.ETag)], IfNoneMatch = "*" },
                    ct),
                cancellationToken)).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode is HttpStatusCode.NotImplemented or HttpStatusCode.BadRequest)
        {
            return false;
        }
        finally
        {
            // Abort the probe's upload, and any an earlier attempt to create it started unseen (a lost answer).
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                var uploads = await retry.RunAsync("ListMultipartUploads", probe, null, ct => s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = probe }, ct), bounded.Token).ConfigureAwait(false);
                foreach (var uploadId in (uploads.MultipartUploads ?? []).Where(u => u.Key == probe).Select(u => u.UploadId).Append(init.UploadId).Distinct(StringComparer.Ordinal))
                {
                    try
                    {
                        await retry.RunAsync("AbortMultipartUpload", probe, null, ct => s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = probe, UploadId = uploadId }, ct), bounded.Token).ConfigureAwait(false);
                    }
                    catch (AmazonS3Exception)
                    {
                        // Completed (nothing to abort) or already gone.
                    }
                }
            }
            catch (Exception ex) when (ex is AmazonS3Exception or OperationCanceledException)
            {
                Log.ProbeCleanupFailed(logger, ex, probe);
            }
        }
    }

    private async Task DeleteQuietlyAsync(string key)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await retry.RunAsync("DELETE", key, null, ct => s3.DeleteObjectAsync(bucket, key, ct), bounded.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception or OperationCanceledException)
        {
            Log.ProbeCleanupFailed(logger, ex, key);
        }
    }
}
