using System.Globalization;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Upload;

/// <summary>
/// Keeps a sink that lost a topic-partition without noticing (a long pause, a network split, a second
/// consumer group writing the same prefix) from overwriting the objects of the partition's newer owner.
/// <list type="bullet">
/// <item>On assignment the owner takes the partition's lease object
/// (<c>_kafkas3sink/leases/&lt;topics dir&gt;/&lt;topic&gt;/&lt;partition&gt;</c>) with a compare-and-swap
/// (<c>If-Match</c> on the lease's ETag, or <c>If-None-Match: *</c>), raising its epoch by one.</item>
/// <item>Before each rotation's uploads the owner reads the lease once (a higher epoch means it was fenced).</item>
/// <item>Every object carries its writer's epoch (<c>x-amz-meta-kafkas3sink-epoch</c>) and is first written with
/// <c>If-None-Match: *</c>, the common case of a new key: one request. Only when that is refused (412: the key
/// exists, a replay or another owner's object) does the owner read the object's epoch — higher means it was
/// fenced — and write again with <c>If-Match</c> on the ETag it read, so an object of a higher epoch is never
/// overwritten, even by a race. Multipart uploads read the object and the lease before sending parts (a
/// refused complete would waste them).</item>
/// </list>
/// What remains unfenced (a zombie creating a key the new owner never writes, multipart completes on
/// stores that ignore conditions on them) is stated in docs/guarantees.md.
/// </summary>
internal sealed partial class OwnershipFence
{
    public const string EpochMetadata = "kafkas3sink-epoch";

    /// <summary>The lease's holder (host, process, instance), so that a lease check needs no body.</summary>
    private const string OwnerMetadata = "kafkas3sink-owner";
    private const string RootPrefix = "_kafkas3sink/";
    private const int MaxConflicts = 10;

    private readonly IAmazonS3 s3;
    private readonly string bucket;
    private readonly string leasePrefix;
    private readonly ConditionalWrites mode;
    private readonly ILogger logger;
    private readonly string owner;
    private readonly TimeProvider time;
    private readonly RetryRunner retry;

    /// <summary>Some stores (Ceph RGW 16) compare <c>If-Match</c> with the ETag without its quotes.</summary>
    private bool quotedEtags = true;

    public OwnershipFence(IAmazonS3 s3, S3StorageOptions options, string topicsDir, RetryRunner retry, TimeProvider time, ILogger logger)
    {
        this.time = time;
        this.retry = retry;
        this.s3 = s3;
        bucket = options.BucketName;
        mode = options.ConditionalWrites;
        leasePrefix = RootPrefix + "leases/" + (string.IsNullOrEmpty(topicsDir) ? "-" : topicsDir) + "/";
        this.logger = logger;

        // Also lease metadata, an HTTP header: printable ASCII only (a host name may hold other characters).
        var machine = string.Concat(Environment.MachineName.Select(c => c is > ' ' and <= '~' and not '"' ? c : '?'));
        owner = string.Create(CultureInfo.InvariantCulture, $"{machine}/{Environment.ProcessId}/{Guid.NewGuid():N}");
    }

    /// <summary>Whether leases and conditional writes are in use (after <see cref="StartAsync"/>).</summary>
    public bool Enabled { get; private set; }

    /// <summary>Whether the store honours <c>If-None-Match</c>/<c>If-Match</c> on multipart completes.</summary>
    public bool FencesMultipart { get; private set; }

    public string LeaseKey(string topic, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{leasePrefix}{topic}/{partition}");

    /// <summary>Takes the lease of a topic-partition: its epoch plus one, written with a compare-and-swap.</summary>
    /// <returns>This owner's epoch for the partition.</returns>
    /// <exception cref="S3PermanentException">S3 refused the lease for good (names the partition, the key and what to fix).</exception>
    public async Task<long> AcquireAsync(string topic, int partition, CancellationToken cancellationToken)
    {
        var key = LeaseKey(topic, partition);
        try
        {
            return await TryAcquireAsync(key, string.Create(CultureInfo.InvariantCulture, $"{topic}[{partition}]"), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (!S3Errors.IsTransient(ex, cancellationToken))
        {
            throw new S3PermanentException($"{topic} [{partition}]: taking the lease '{key}' failed. " + S3Errors.DescribePermanent(ex, bucket, "the lease write", key), ex);
        }
    }

    private async Task<long> TryAcquireAsync(string key, string partition, CancellationToken cancellationToken)
    {
        for (var conflicts = 0; ; conflicts++)
        {
            var (epoch, etag, _) = await ReadLeaseAsync(key, partition, cancellationToken).ConfigureAwait(false);
            var next = epoch + 1;
            var body = string.Create(
                CultureInfo.InvariantCulture,
                $"{{\"epoch\":{next},\"owner\":\"{owner}\",\"acquiredAt\":\"{time.GetUtcNow():O}\"}}");
            try
            {
                await PutTextAsync(key, body, etag is null ? new WriteCondition(null, "*") : new WriteCondition(Etag(etag), null), cancellationToken, next, partition).ConfigureAwait(false);
                return next;
            }
            catch (AmazonS3Exception ex) when (IsConflict(ex) && conflicts < MaxConflicts)
            {
                // Another member took it between our read and write: read again and go one higher.
            }
        }
    }

    /// <summary>Fails with <see cref="OwnershipLostException"/> when a newer owner took the lease.</summary>
    /// <exception cref="OwnershipLostException">The lease has a higher epoch.</exception>
    /// <exception cref="S3PermanentException">S3 refused the read for good.</exception>
    public async Task CheckLeaseAsync(string topic, int partition, long epoch, CancellationToken cancellationToken)
    {
        var key = LeaseKey(topic, partition);
        long current;
        string holder;
        try
        {
            (current, _, holder) = await ReadLeaseAsync(key, string.Create(CultureInfo.InvariantCulture, $"{topic}[{partition}]"), cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception ex) when (!S3Errors.IsTransient(ex, cancellationToken) && !cancellationToken.IsCancellationRequested)
        {
            throw new S3PermanentException($"{topic} [{partition}]: reading the lease '{key}' failed. " + S3Errors.DescribePermanent(ex, bucket, "the lease check", key), ex);
        }

        if (current > epoch)
        {
            throw new OwnershipLostException(topic, partition, epoch, current, $"lease '{key}' is held by {holder} at epoch {current}");
        }
    }

    /// <summary>The condition of a first write of a single-request object: create it (<c>If-None-Match: *</c>).</summary>
    public static WriteCondition CreateOnly { get; } = new(null, "*");

    /// <summary>
    /// After a conditional PUT was refused: reads the object's epoch and gives the condition to replace exactly
    /// that version (or to create the key, if it is gone again).
    /// </summary>
    /// <exception cref="OwnershipLostException">The object has a higher epoch.</exception>
    public async Task<WriteCondition> AfterConflictAsync(string key, string topic, int partition, long epoch, CancellationToken cancellationToken)
    {
        var existing = await ReadObjectEpochAsync(key, topic, partition, cancellationToken).ConfigureAwait(false);
        if (existing is not { } found)
        {
            return CreateOnly;
        }

        if (found.Epoch > epoch)
        {
            throw new OwnershipLostException(topic, partition, epoch, found.Epoch, $"object '{key}' was written at epoch {found.Epoch}");
        }

        return new WriteCondition(Etag(found.ETag), null);
    }

    /// <summary>
    /// The condition for writing <paramref name="key"/> at <paramref name="epoch"/>: create it if absent,
    /// or replace exactly the version read if its epoch is not higher. Reads the object first and the
    /// lease second, right before the write: a newer owner that took the lease before this call is seen.
    /// </summary>
    /// <exception cref="OwnershipLostException">The object or the lease has a higher epoch.</exception>
    public async Task<WriteCondition> PrepareWriteAsync(string key, string topic, int partition, long epoch, CancellationToken cancellationToken)
    {
        var condition = await AfterConflictAsync(key, topic, partition, epoch, cancellationToken).ConfigureAwait(false);
        await CheckLeaseAsync(topic, partition, epoch, cancellationToken).ConfigureAwait(false);
        return condition;
    }

    /// <summary>The epoch and ETag of the object at <paramref name="key"/>; null when there is none.</summary>
    private async Task<(long Epoch, string ETag)?> ReadObjectEpochAsync(string key, string topic, int partition, CancellationToken cancellationToken)
    {
        try
        {
            var existing = await retry.RunAsync(
                "HEAD",
                key,
                string.Create(CultureInfo.InvariantCulture, $"{topic}[{partition}]"),
                ct => s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, ct),
                cancellationToken).ConfigureAwait(false);
            return (ParseEpoch(existing.Metadata[EpochMetadata]), existing.ETag);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A 412 (or 409, which some stores answer to concurrent conditional writes): the object changed since it was read.</summary>
    public static bool IsConflict(AmazonS3Exception ex) =>
        ex.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict;

    private static long ParseEpoch(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ? epoch : 0;

    private static string Unquote(string etag) => etag.Trim('"');

    private string Etag(string etag) => quotedEtags ? "\"" + Unquote(etag) + "\"" : Unquote(etag);

    /// <summary>
    /// The lease's epoch, ETag and holder, from a <c>HEAD</c>: all three are metadata and headers, so no body is
    /// read. (A <c>GET</c> costs the store about twice the CPU, and Ceph RGW without <c>tcp_nodelay</c> holds a
    /// small body ~40 ms behind its headers: measured in docs/benchmarks.md.)
    /// </summary>
    private async Task<(long Epoch, string? ETag, string Holder)> ReadLeaseAsync(string key, string partition, CancellationToken cancellationToken)
    {
        try
        {
            var response = await retry.RunAsync(
                "HEAD",
                key,
                partition,
                ct => s3.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = key }, ct),
                cancellationToken).ConfigureAwait(false);
            var holder = response.Metadata[OwnerMetadata] is { Length: > 0 } name ? name : "an owner that did not record its name";
            return (ParseEpoch(response.Metadata[EpochMetadata]), response.ETag, holder);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return (0, null, "nobody");
        }
    }

    private async Task<string> PutTextAsync(string key, string body, WriteCondition condition, CancellationToken cancellationToken, long epoch = 0, string? partition = null)
    {
        var response = await retry.RunAsync(
            "PUT",
            key,
            partition,
            ct =>
            {
                var request = new PutObjectRequest
                {
                    BucketName = bucket,
                    Key = key,
                    ContentBody = body,
                    ContentType = "application/json",
                    UseChunkEncoding = false,
                    IfMatch = condition.IfMatch,
                    IfNoneMatch = condition.IfNoneMatch,
                };
                request.Metadata.Add(EpochMetadata, epoch.ToString(CultureInfo.InvariantCulture));
                request.Metadata.Add(OwnerMetadata, owner);
                return s3.PutObjectAsync(request, ct);
            },
            cancellationToken).ConfigureAwait(false);
        return response.ETag;
    }

}

/// <summary>The precondition of one object write: at most one of the two is set.</summary>
internal readonly record struct WriteCondition(string? IfMatch, string? IfNoneMatch);

/// <summary>A newer owner holds the topic-partition: this sink must not write or commit it.</summary>
internal sealed class OwnershipLostException(string topic, int partition, long epoch, long newerEpoch, string evidence)
    : KafkaS3SinkException($"{topic} [{partition}]: fenced at epoch {epoch}, a newer owner holds epoch {newerEpoch} ({evidence}).")
{
    public string Topic { get; } = topic;

    public int Partition { get; } = partition;
}
