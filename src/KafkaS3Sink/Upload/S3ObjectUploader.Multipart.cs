using Amazon.S3.Model;

namespace KafkaS3Sink.Upload;

/// <summary>Objects larger than one part: multipart uploads, fenced on the complete.</summary>
internal sealed partial class S3ObjectUploader
{
    private async Task MultipartAsync(string file, string key, string partition, ISealedSegment segment, long length, long epoch, CancellationToken cancellationToken)
    {
        // Read the existing object's epoch before sending parts; the complete carries the condition
        // where the store honours it (otherwise the check above is all there is).
        var condition = await ConditionAsync(key, segment, epoch, cancellationToken).ConfigureAwait(false);
        var init = await retry.RunAsync(
            "CreateMultipartUpload",
            key,
            partition,
            ct =>
            {
                var initRequest = new InitiateMultipartUploadRequest { BucketName = bucket, Key = key, ContentType = format.ContentType };
                Describe(segment, epoch, initRequest.Metadata);
                initRequest.ServerSideEncryptionMethod = sse;
                initRequest.ServerSideEncryptionKeyManagementServiceKeyId = storage.KmsKeyId;
                initRequest.StorageClass = storageClass;
                initRequest.CannedACL = cannedAcl;
                initRequest.TagSet = Tags(segment);
                return Attempt(CreateAsync(initRequest, ct));
            },
            cancellationToken).ConfigureAwait(false);
        var completed = false;
        try
        {
            var parts = new List<PartETag>();
            var partNumber = 1;
            for (long position = 0; position < length; position += partSize, partNumber++)
            {
                var number = partNumber;
                var at = position;
                var response = await retry.RunAsync(
                    "UploadPart",
                    key,
                    partition,
                    ct => Attempt(s3.UploadPartAsync(
                        new UploadPartRequest
                        {
                            BucketName = bucket,
                            Key = key,
                            UploadId = init.UploadId,
                            PartNumber = number,
                            FilePath = file,
                            FilePosition = at,
                            PartSize = Math.Min(partSize, length - at),
                            UseChunkEncoding = false,
                        },
                        ct)),
                    cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(partNumber, response.ETag));
            }

            await retry.RunAsync(
                "CompleteMultipartUpload",
                key,
                partition,
                ct => Attempt(s3.CompleteMultipartUploadAsync(
                    new CompleteMultipartUploadRequest
                    {
                        BucketName = bucket,
                        Key = key,
                        UploadId = init.UploadId,
                        PartETags = parts,
                        IfMatch = fence.FencesMultipart ? condition.IfMatch : null,
                        IfNoneMatch = fence.FencesMultipart ? condition.IfNoneMatch : null,
                    },
                    ct)),
                cancellationToken).ConfigureAwait(false);
            completed = true;
        }
        finally
        {
            if (!completed)
            {
                // Given up (cancelled, fenced, refused): abort in the background, retried, so no part stays billed.
                cleanup.StartAbort(key, init.UploadId, partition);
            }
        }
    }

    /// <summary>Starts a multipart upload; an answer without an upload id (a cut response read as complete) is retried.</summary>
    private async Task<InitiateMultipartUploadResponse> CreateAsync(InitiateMultipartUploadRequest request, CancellationToken cancellationToken)
    {
        var response = await s3.InitiateMultipartUploadAsync(request, cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(response.UploadId)
            ? throw new IOException($"CreateMultipartUpload of '{request.Key}' returned no upload id (a cut response)")
            : response;
    }
}
