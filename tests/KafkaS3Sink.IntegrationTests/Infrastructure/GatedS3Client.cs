using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>
/// An S3 client that holds the requests for a data object (under <c>topics/</c>), or the lease check before
/// them, at a chosen stage until <see cref="Open"/>, like a process paused mid-upload; optionally it drops every write condition,
/// like a store that ignores them.
/// </summary>
public sealed class GatedS3Client(S3Server s3, GatedS3Client.Stage stage) : AmazonS3Client(
    new BasicAWSCredentials(s3.AccessKey, s3.SecretKey),
    new AmazonS3Config
    {
        ServiceURL = s3.Endpoint.ToString(),
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
    })
{
    private const string LeasePrefix = "_kafkas3sink/leases/";
    private readonly TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, bool> leasesWritten = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource leasesTaken = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int leasePuts;

    /// <summary>Where the data-object request is held.</summary>
    public enum Stage
    {
        /// <summary>Nothing is held.</summary>
        None,

        /// <summary>Before the fence looks: the rotation's lease check (a HEAD of a lease this client wrote) or a read of the object.</summary>
        BeforeRead,

        /// <summary>Before the PUT itself (the fence looked, found nothing newer, and the write condition is set).</summary>
        BeforeWrite,
    }

    /// <summary>Requests sent, by verb and kind of key (<c>data</c> under <c>topics/</c>, <c>lease</c>, <c>other</c>); <c>LIST uploads data</c> lists incomplete uploads under <c>topics/</c>.</summary>
    public ConcurrentDictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);

    /// <summary>Completes with the key of the first held request.</summary>
    public TaskCompletionSource<string> Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool DropConditions { get; init; }

    /// <summary>
    /// When set, listings of incomplete uploads under <c>topics/</c> wait until this many lease PUTs have succeeded:
    /// the set-ups that ask while the first listing is held share the next one, however slowly the partitions'
    /// first records arrive on a loaded machine.
    /// </summary>
    public int? HoldListingsUntilLeases { get; init; }

    public void Open() => gate.TrySetResult();

    public override async Task<GetObjectMetadataResponse> GetObjectMetadataAsync(GetObjectMetadataRequest request, CancellationToken cancellationToken = default)
    {
        Count("HEAD", request.Key);
        if (stage == Stage.BeforeRead)
        {
            // A data key (the fence reading an object), or a lease this client took (the read before a rotation's uploads).
            await HoldAsync(request.Key, cancellationToken, leaseCheck: leasesWritten.ContainsKey(request.Key));
        }

        return await base.GetObjectMetadataAsync(request, cancellationToken);
    }

    public override async Task<GetObjectResponse> GetObjectAsync(GetObjectRequest request, CancellationToken cancellationToken = default)
    {
        Count("GET", request.Key);
        return await base.GetObjectAsync(request, cancellationToken);
    }

    public override async Task<PutObjectResponse> PutObjectAsync(PutObjectRequest request, CancellationToken cancellationToken = default)
    {
        Count("PUT", request.Key);
        if (stage == Stage.BeforeWrite)
        {
            await HoldAsync(request.Key, cancellationToken);
        }

        var lease = request.Key.StartsWith(LeasePrefix, StringComparison.Ordinal);
        if (lease)
        {
            leasesWritten.TryAdd(request.Key, true);
        }

        if (DropConditions)
        {
            request.IfMatch = null;
            request.IfNoneMatch = null;
        }

        var response = await base.PutObjectAsync(request, cancellationToken);
        if (lease && Interlocked.Increment(ref leasePuts) >= HoldListingsUntilLeases)
        {
            leasesTaken.TrySetResult();
        }

        return response;
    }

    public override async Task<ListMultipartUploadsResponse> ListMultipartUploadsAsync(ListMultipartUploadsRequest request, CancellationToken cancellationToken = default)
    {
        Count("LIST uploads", request.Prefix ?? string.Empty);
        if (HoldListingsUntilLeases is not null && (request.Prefix ?? string.Empty).StartsWith("topics/", StringComparison.Ordinal))
        {
            await leasesTaken.Task.WaitAsync(cancellationToken);
        }

        return await base.ListMultipartUploadsAsync(request, cancellationToken);
    }

    public override Task<CompleteMultipartUploadResponse> CompleteMultipartUploadAsync(CompleteMultipartUploadRequest request, CancellationToken cancellationToken = default)
    {
        if (DropConditions)
        {
            request.IfMatch = null;
            request.IfNoneMatch = null;
        }

        return base.CompleteMultipartUploadAsync(request, cancellationToken);
    }

    private void Count(string verb, string key)
    {
        var kind = key.StartsWith("topics/", StringComparison.Ordinal) ? "data" : key.StartsWith(LeasePrefix, StringComparison.Ordinal) ? "lease" : "other";
        Requests.AddOrUpdate(verb + " " + kind, 1, (_, n) => n + 1);
    }

    private async Task HoldAsync(string key, CancellationToken cancellationToken, bool leaseCheck = false)
    {
        if (leaseCheck || key.StartsWith("topics/", StringComparison.Ordinal))
        {
            Stalled.TrySetResult(key);
            await gate.Task.WaitAsync(cancellationToken);
        }
    }
}
