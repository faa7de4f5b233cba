using Amazon.S3.Model;

namespace KafkaS3Sink.Upload;

/// <summary>
/// One listing of a topic's incomplete multipart uploads for every partition whose set-up asks while it has not
/// started: 16 partitions assigned together took 4 LISTs, not 16, as their first records arrived. A caller is never given a
/// listing that started before it asked (it asks after taking its lease, and the listing must see every upload
/// an earlier owner started before that): one arriving while a listing runs waits for the next, which every
/// caller arriving meanwhile shares. A failed listing is not reused.
/// </summary>
internal sealed class SharedUploadListing(Func<string, CancellationToken, Task<List<MultipartUpload>>> list, CancellationToken lifetime)
{
    private readonly Dictionary<string, Listing> latest = new(StringComparer.Ordinal);

    /// <summary>Listings that ran (for tests).</summary>
    public int Started { get; private set; }

    /// <summary>The incomplete uploads under <paramref name="prefix"/>, from a listing that starts after this call.</summary>
    public Task<List<MultipartUpload>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        Listing listing;
        lock (latest)
        {
            if (latest.TryGetValue(prefix, out var current) && !current.Task.IsCompleted)
            {
                if (current.Requested)
                {
                    // Its request may predate this call: the next listing, after it.
                    listing = Begin(prefix, current.Task);
                }
                else
                {
                    // Still waiting for the one before it: its request starts after this call.
                    listing = current;
                }
            }
            else
            {
                listing = Begin(prefix, previous: null);
            }
        }

        return listing.Task.WaitAsync(cancellationToken);
    }

    private Listing Begin(string prefix, Task? previous)
    {
        var listing = new Listing();
        listing.Task = RunAsync(prefix, listing, previous);
        latest[prefix] = listing;

        // Observed even when every caller stopped waiting (their partitions were revoked).
        _ = listing.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return listing;
    }

    private async Task<List<MultipartUpload>> RunAsync(string prefix, Listing listing, Task? previous)
    {
        if (previous is not null)
        {
            try
            {
                await previous.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Its callers have its failure; this listing is a new attempt.
            }
        }

        // Under the lock (re-entered when the previous listing had finished and this runs inside ListAsync).
        lock (latest)
        {
            listing.Requested = true;
            Started++;
        }

        return await list(prefix, lifetime).ConfigureAwait(false);
    }

    private sealed class Listing
    {
        public Task<List<MultipartUpload>> Task { get; set; } = null!;

        /// <summary>Whether its LIST was sent (callers arriving later cannot share it).</summary>
        public bool Requested { get; set; }
    }
}
