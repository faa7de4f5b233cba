using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Upload;

/// <summary>
/// Keeps the bucket free of incomplete multipart uploads: aborts the ones this sink gives up (retried, in the
/// background, awaited at stop), the ones a lost answer left behind, and those an earlier owner of a newly
/// assigned partition left.
/// </summary>
internal sealed class MultipartCleanup : IDisposable
{
    private readonly IAmazonS3 s3;
    private readonly string bucket;
    private readonly string topicsDir;
    private readonly RetryRunner retry;
    private readonly ILogger logger;
    private readonly CancellationTokenSource lifetime = new();
    private readonly ConcurrentDictionary<string, Task> pendingAborts = new(StringComparer.Ordinal);
    private readonly SharedUploadListing listings;
    private int listUploadsDenied;

    public MultipartCleanup(IAmazonS3 s3, string bucket, string topicsDir, RetryRunner retry, ILogger logger)
    {
        (this.s3, this.bucket, this.topicsDir, this.retry, this.logger) = (s3, bucket, topicsDir, retry, logger);
        listings = new SharedUploadListing(ListUploadsAsync, lifetime.Token);
    }

    /// <summary>
    /// Aborts incomplete multipart uploads of a topic-partition's objects (left by a crashed or fenced earlier
    /// owner). Called when the partition is assigned, before this sink writes it.
    /// </summary>
    public async Task AbortStaleUploadsAsync(string topic, int partition, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref listUploadsDenied) == 1)
        {
            return;
        }

        var prefix = (string.IsNullOrEmpty(topicsDir) ? string.Empty : topicsDir + "/") + topic + "/";
        var fileStart = string.Create(CultureInfo.InvariantCulture, $"{topic}+{partition}+");
        var name = string.Create(CultureInfo.InvariantCulture, $"{topic}[{partition}]");
        var aborted = 0;
        try
        {
            foreach (var upload in await listings.ListAsync(prefix, cancellationToken).ConfigureAwait(false))
            {
                var slash = upload.Key.LastIndexOf('/');
                if (upload.Key.AsSpan(slash + 1).StartsWith(fileStart, StringComparison.Ordinal))
                {
                    await AbortAsync(upload.Key, upload.UploadId, name, cancellationToken).ConfigureAwait(false);
                    aborted++;
                }
            }
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Forbidden)
        {
            // Without s3:ListBucketMultipartUploads the sink cannot clean up after others; its own aborts still run.
            if (Interlocked.Exchange(ref listUploadsDenied, 1) == 0)
            {
                Log.ListUploadsDenied(logger, bucket, S3Errors.Summary(ex));
            }
        }

        if (aborted > 0)
        {
            Log.StaleUploadsAborted(logger, aborted, name);
        }
    }

    /// <summary>Every incomplete multipart upload under <paramref name="prefix"/>, page by page.</summary>
    private async Task<List<MultipartUpload>> ListUploadsAsync(string prefix, CancellationToken cancellationToken)
    {
        var uploads = new List<MultipartUpload>();
        string? keyMarker = null;
        string? uploadMarker = null;
        do
        {
            var page = await retry.RunAsync(
                "ListMultipartUploads",
                prefix,
                null,
                ct => s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = prefix, KeyMarker = keyMarker, UploadIdMarker = uploadMarker }, ct),
                cancellationToken).ConfigureAwait(false);
            uploads.AddRange(page.MultipartUploads ?? []);
            (keyMarker, uploadMarker) = page.IsTruncated == true ? (page.NextKeyMarker, page.NextUploadIdMarker) : (null, null);
        }
        while (keyMarker is not null);
        return uploads;
    }

    /// <summary>Waits (up to <paramref name="timeout"/>) for aborts of given-up multipart uploads, then cancels them.</summary>
    public void FinishAborts(TimeSpan timeout)
    {
        var tasks = pendingAborts.Values.ToArray();
        try
        {
            Task.WaitAll(tasks, timeout);
        }
        catch (AggregateException)
        {
            // Logged by each abort.
        }

        lifetime.Cancel();
    }

    public void Dispose()
    {
        lifetime.Cancel();
        lifetime.Dispose();
    }

    /// <summary>Aborts a given-up multipart upload in the background, retried until it succeeds or the sink stops.</summary>
    public void StartAbort(string key, string uploadId, string partition)
    {
        var task = AbortAsync(key, uploadId, partition, lifetime.Token);
        pendingAborts[uploadId] = task;
        _ = task.ContinueWith(_ => pendingAborts.TryRemove(uploadId, out Task? _), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>Aborts, in the background, every incomplete upload of <paramref name="key"/> but <paramref name="keep"/>.</summary>
    public void StartCleanup(string key, string? keep, string partition)
    {
        if (Volatile.Read(ref listUploadsDenied) == 1)
        {
            return;
        }

        var id = "cleanup:" + key + ":" + (keep ?? Guid.NewGuid().ToString("N"));
        var token = lifetime.Token;
        var task = Task.Run(async () =>
        {
            try
            {
                var page = await retry.RunAsync(
                    "ListMultipartUploads",
                    key,
                    partition,
                    ct => s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = bucket, Prefix = key }, ct),
                    token).ConfigureAwait(false);
                foreach (var upload in page.MultipartUploads ?? [])
                {
                    if (upload.Key == key && upload.UploadId != keep)
                    {
                        await AbortAsync(key, upload.UploadId, partition, token).ConfigureAwait(false);
                    }
                }
            }
            catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Forbidden)
            {
                // Without s3:ListBucketMultipartUploads: said once, then left to the bucket's lifecycle rule.
                if (Interlocked.Exchange(ref listUploadsDenied, 1) == 0)
                {
                    Log.ListUploadsDenied(logger, bucket, S3Errors.Summary(ex));
                }
            }
            catch (Exception ex) when (ex is AmazonS3Exception or OperationCanceledException or KafkaS3SinkException)
            {
                Log.AbortFailed(logger, ex, key);
            }
        });
        pendingAborts[id] = task;
        _ = task.ContinueWith(_ => pendingAborts.TryRemove(id, out Task? _), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private async Task AbortAsync(string key, string uploadId, string partition, CancellationToken cancellationToken)
    {
        try
        {
            await retry.RunAsync(
                "AbortMultipartUpload",
                key,
                partition,
                ct => s3.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = bucket, Key = key, UploadId = uploadId }, ct),
                cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (ex.ErrorCode == "NoSuchUpload")
        {
            // Completed or aborted already.
        }
        catch (Exception ex) when (ex is AmazonS3Exception or OperationCanceledException or KafkaS3SinkException)
        {
            Log.AbortFailed(logger, ex, key);
        }
    }
}
