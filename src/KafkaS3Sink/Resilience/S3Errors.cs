using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.Runtime.Internal;

namespace KafkaS3Sink.Resilience;

/// <summary>Sorts S3 failures into transient (retry) and permanent (fail, saying what to fix).</summary>
internal static class S3Errors
{
    private static readonly HashSet<string> TransientCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling", "ThrottlingException",
        "RequestLimitExceeded", "RequestThrottled", "TooManyRequests", "OperationAborted",

        // 400s for a body damaged or cut on its way (it does not match its signed SHA-256 or its Content-MD5, or is
        // shorter than its Content-Length): the network's fault, not the request's; the next attempt sends it again.
        "XAmzContentSHA256Mismatch", "BadDigest", "IncompleteBody",

        // 403s for a request signed too far from the store's clock (this machine's clock is off, or the store's was
        // stepped). The AWS SDK takes the store's time from every answer's Date header and signs the next request
        // with it, so the next attempt passes; while the clocks keep disagreeing, the status shows it.
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
    };

    /// <summary>A clock difference below this is S3's normal tolerance (15 minutes) at work, not worth a word.</summary>
    private static readonly TimeSpan ClockNoteThreshold = TimeSpan.FromMinutes(4);

    private static readonly HashSet<string> CredentialCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidSecurity", "AuthorizationHeaderMalformed",
    };

    /// <summary>
    /// Whether a failure may go away by itself: a 5xx, 429 or 408 answer, a throttling code, a request refused for
    /// its signing time, an answer that could not be read to its end, or no answer at all (refused, reset, timed
    /// out). Never for a cancellation the caller asked for, nor for a local file that is missing.
    /// </summary>
    /// <param name="exception">What the request threw.</param>
    /// <param name="cancellationToken">The caller's token: a cancellation it asked for is never retried.</param>
    /// <param name="attempt">
    /// Which attempt failed (1 = the first). A 403 without a body (S3's answer to a HEAD, which has none) does not
    /// say whether access was denied or the request's signing time was refused; the SDK has taken the store's time
    /// from it either way, so the first one is retried and a second one is final. Callers classifying a failure
    /// that has already been retried leave it at its default.
    /// </param>
    public static bool IsTransient(Exception exception, CancellationToken cancellationToken, int attempt = int.MaxValue)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        // Staged data that cannot be read (a body streamed from its segment), however the SDK wrapped it:
        // retrying would read the same bytes again; the partition is replayed from Kafka instead.
        if (Upload.StagedDataException.In(exception) is not null)
        {
            return false;
        }

        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                // An answer cut off in its body (a reset connection): what S3 said is unknown, so ask again.
                // Seen in CI: a lease GET's 404 truncated by the fault proxy failed the sink as if 404 were final.
                case AmazonUnmarshallingException:
                    return true;
                case AmazonServiceException service when service.StatusCode != 0:
                    var status = (int)service.StatusCode;
                    return status >= 500 || status is 429 or 408 || (service.ErrorCode is { } code && TransientCodes.Contains(code))
                        || (attempt == 1 && IsBare403(service));
                case FileNotFoundException or DirectoryNotFoundException:
                    return false;
                case HttpRequestException or IOException or SocketException or TimeoutException or OperationCanceledException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A short text for logs and status: the status and code S3 answered (and, on a 403 when <paramref name="now"/> is
    /// given, how far the store's clock is from this machine's when that is more than a few minutes), or what failed
    /// on the way.
    /// </summary>
    public static string Summary(Exception exception, DateTimeOffset? now = null)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is AmazonServiceException { StatusCode: not 0 } service)
            {
                return $"{(int)service.StatusCode} {service.ErrorCode}: {service.Message}{(now is { } at ? ClockNote(service, at) : string.Empty)}";
            }

            if (ex is HttpRequestException or SocketException or IOException or TimeoutException && ex.InnerException is null)
            {
                return $"{ex.GetType().Name}: {ex.Message}";
            }
        }

        return $"{exception.GetType().Name}: {exception.Message}";
    }

    /// <summary>Whether S3 refused a request for being sent to (or signed for) another region than the bucket's.</summary>
    public static bool IsWrongRegion(AmazonServiceException service) =>
        service.ErrorCode is "AuthorizationHeaderMalformed" or "PermanentRedirect" or "IllegalLocationConstraintException"
        || service.StatusCode == HttpStatusCode.MovedPermanently;

    /// <summary>The bucket's region, as S3 names it when a request went to the wrong one (a header, or its message).</summary>
    private static string? BucketRegion(AmazonServiceException service)
    {
        if (ResponseHeader(service, "x-amz-bucket-region") is { Length: > 0 } header)
        {
            return header;
        }

        // "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
        const string Expecting = "expecting '";
        var message = service.Message ?? string.Empty;
        var start = message.IndexOf(Expecting, StringComparison.Ordinal);
        var end = start < 0 ? -1 : message.IndexOf('\'', start + Expecting.Length);
        return end > start ? message[(start + Expecting.Length)..end] : null;
    }

    /// <summary>A 403 that carries no error code of S3's own (the SDK names it after the status): a HEAD's answer.</summary>
    private static bool IsBare403(AmazonServiceException service) =>
        service.StatusCode == HttpStatusCode.Forbidden && service.ErrorCode is null or "Forbidden";

    /// <summary>On a 403: the store's time (its answer's Date) against this machine's clock, when they differ by minutes.</summary>
    private static string ClockNote(AmazonServiceException service, DateTimeOffset now)
    {
        if (service.StatusCode != HttpStatusCode.Forbidden)
        {
            return string.Empty;
        }

        if (!DateTime.TryParseExact(ResponseHeader(service, "Date"), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var storeTime))
        {
            return string.Empty;
        }

        var difference = storeTime - now.UtcDateTime;
        return difference.Duration() < ClockNoteThreshold
            ? string.Empty
            : $" (the store's clock is {difference.Duration().TotalMinutes:0} minutes {(difference > TimeSpan.Zero ? "ahead of" : "behind")} this machine's: check NTP on both)";
    }

    /// <summary>A header of the HTTP answer behind an S3 error (the SDK keeps it on an inner exception); null when there is none.</summary>
    private static string? ResponseHeader(AmazonServiceException service, string name)
    {
        for (Exception? ex = service; ex is not null; ex = ex.InnerException)
        {
            if (ex is HttpErrorResponseException { Response: { } response })
            {
                return response.GetHeaderValue(name);
            }
        }

        return null;
    }

    /// <summary>A one-line description of a permanent failure that says what to fix.</summary>
    public static string DescribePermanent(Exception exception, string bucket, string operation, string key)
    {
        if (exception is not AmazonServiceException { StatusCode: not 0 } s3)
        {
            return $"S3 {operation} of '{key}' in bucket '{bucket}' failed: {Summary(exception)}";
        }

        var answered = $"{(int)s3.StatusCode} {s3.ErrorCode}";
        if (IsWrongRegion(s3))
        {
            // The SDK would follow the bucket's region in its own retries, which the sink has off: say which it is.
            return BucketRegion(s3) is { } region
                ? $"S3 bucket '{bucket}' is in region '{region}' ({answered}): set S3.Region (s3.region) to '{region}'."
                : $"S3 refused the sink's requests to bucket '{bucket}' as sent to the wrong region ({answered}: {s3.Message}): set S3.Region (s3.region) to the bucket's region.";
        }

        if (s3.ErrorCode == "ExpiredToken")
        {
            return $"S3 rejected the sink's credentials for bucket '{bucket}' ({answered}): their session token has expired. Keys with a session token from the environment or an AWS profile (S3.AccessKeyId not set) are not renewed: renew them and restart, or run with a role the SDK renews (instance profile, web identity).";
        }

        if (s3.ErrorCode is { } code && CredentialCodes.Contains(code))
        {
            return $"S3 rejected the sink's credentials for bucket '{bucket}' ({answered}): check S3.AccessKeyId and S3.SecretAccessKey (aws.access.key.id / aws.secret.access.key).";
        }

        if (s3.ErrorCode == "NoSuchBucket")
        {
            return $"S3 bucket '{bucket}' does not exist ({answered}): create it or correct S3.BucketName (s3.bucket.name).";
        }

        if (s3.StatusCode == HttpStatusCode.Forbidden)
        {
            return $"S3 denied {operation} of '{key}' in bucket '{bucket}' ({answered}): the sink's credentials need s3:PutObject and s3:GetObject on the sink's prefix and on _kafkas3sink/ (see docs/operations.md), or the credentials are wrong.";
        }

        return $"S3 refused {operation} of '{key}' in bucket '{bucket}' ({answered}): {s3.Message}";
    }
}
