using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KafkaS3Sink.Tests.Resilience;

public sealed class RetryModelTests
{
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, "SlowDown", true)]
    [InlineData(HttpStatusCode.InternalServerError, "InternalError", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "TooManyRequests", true)]
    [InlineData(HttpStatusCode.BadRequest, "RequestTimeout", true)]
    [InlineData(HttpStatusCode.BadRequest, "XAmzContentSHA256Mismatch", true)]
    [InlineData(HttpStatusCode.BadRequest, "BadDigest", true)]
    [InlineData(HttpStatusCode.BadRequest, "IncompleteBody", true)]
    [InlineData(HttpStatusCode.Forbidden, "RequestTimeTooSkewed", true)]
    [InlineData(HttpStatusCode.Forbidden, "RequestExpired", true)]
    [InlineData(HttpStatusCode.Forbidden, "RequestInTheFuture", true)]
    [InlineData(HttpStatusCode.BadRequest, "InvalidArgument", false)]
    [InlineData(HttpStatusCode.Forbidden, "SignatureDoesNotMatch", false)]
    [InlineData(HttpStatusCode.Forbidden, "AccessDenied", false)]
    [InlineData(HttpStatusCode.NotFound, "NoSuchBucket", false)]
    [InlineData(HttpStatusCode.PreconditionFailed, "PreconditionFailed", false)]
    public void S3Answers_AreTransientOrPermanentByStatusAndCode(HttpStatusCode status, string code, bool transient)
    {
        var error = new AmazonS3Exception("x") { StatusCode = status, ErrorCode = code };

        S3Errors.IsTransient(error, CancellationToken.None).Should().Be(transient);
    }

    [Fact]
    public void A403WithoutABody_IsRetriedOnce_ForItMayBeTheClock()
    {
        // A HEAD's 403 has no body, so no code: denied access and a refused signing time look the same.
        var bare = new AmazonS3Exception("x") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "Forbidden" };

        S3Errors.IsTransient(bare, CancellationToken.None, attempt: 1).Should().BeTrue();
        S3Errors.IsTransient(bare, CancellationToken.None, attempt: 2).Should().BeFalse("a second one is denied access");
        S3Errors.IsTransient(bare, CancellationToken.None).Should().BeFalse("a failure that escaped the retries is final");
        S3Errors.IsTransient(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "AccessDenied" }, CancellationToken.None, attempt: 1)
            .Should().BeFalse("S3 said why");
    }

    [Theory]
    [InlineData(10, "403 RequestTimeTooSkewed: too far (the store's clock is 10 minutes ahead of this machine's: check NTP on both)")]
    [InlineData(-20, "403 RequestTimeTooSkewed: too far (the store's clock is 20 minutes behind this machine's: check NTP on both)")]
    [InlineData(2, "403 RequestTimeTooSkewed: too far")]
    public void A403_SaysHowFarTheStoresClockIsFromThisMachines(int storeMinutesAhead, string summary)
    {
        var now = new DateTimeOffset(2026, 12, 6, 14, 0, 0, TimeSpan.Zero);
        var storeTime = now.AddMinutes(storeMinutesAhead).ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        var answer = new Amazon.Runtime.Internal.HttpErrorResponseException(new DatedResponse(storeTime));
        var error = new AmazonS3Exception("too far", answer) { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "RequestTimeTooSkewed" };

        S3Errors.Summary(error, now).Should().Be(summary);
    }

    [Fact]
    public async Task A403WithoutABody_TwiceInARow_IsFinalAfterOneRetry()
    {
        var time = new FakeTimeProvider();
        var runner = new RetryRunner(new RetryOptions(), 3, time, NullLogger.Instance, new FaultRegistry(), new LogThrottle(time, TimeSpan.FromSeconds(30)), _ => { });
        var attempts = 0;

        var denied = runner.RunAsync<int>("HEAD", "k", null, _ => { attempts++; throw new AmazonS3Exception("x") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "Forbidden" }; }, CancellationToken.None);
        await AdvanceUntilDoneAsync(time, denied);

        await denied.Invoking(d => d.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<AmazonS3Exception>();
        attempts.Should().Be(2);
    }

    [Fact]
    public void NoAnswer_IsTransient_ButNotACancellationTheCallerAskedFor_NorAMissingLocalFile()
    {
        S3Errors.IsTransient(new AmazonS3Exception("refused", new HttpRequestException("x", new SocketException((int)SocketError.ConnectionRefused))), CancellationToken.None).Should().BeTrue();
        S3Errors.IsTransient(new TaskCanceledException("HttpClient timeout"), CancellationToken.None).Should().BeTrue();
        S3Errors.IsTransient(new IOException("reset"), new CancellationToken(canceled: true)).Should().BeFalse();
        S3Errors.IsTransient(new FileNotFoundException("gone"), CancellationToken.None).Should().BeFalse();
    }

    [Fact]
    public void AnAnswerCutOffInItsBody_IsTransient_WhateverItsStatus()
    {
        // CI of 4fde048 + 1: a lease GET's 404 NoSuchKey reset mid-body by the fault proxy failed the sink.
        var cut = new Amazon.Runtime.AmazonUnmarshallingException("req", "<Error><Code>NoSuchKey</Code><BucketName>b", new System.Xml.XmlException("Unexpected end of file"), HttpStatusCode.NotFound);

        S3Errors.IsTransient(cut, CancellationToken.None).Should().BeTrue();
        S3Errors.IsTransient(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.NotFound, ErrorCode = "NoSuchKey" }, CancellationToken.None).Should().BeFalse("a whole 404 answer is final");
    }

    [Fact]
    public void PermanentErrors_SayWhatToFix()
    {
        S3Errors.DescribePermanent(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "InvalidAccessKeyId" }, "b", "PUT", "k")
            .Should().Be("S3 rejected the sink's credentials for bucket 'b' (403 InvalidAccessKeyId): check S3.AccessKeyId and S3.SecretAccessKey (aws.access.key.id / aws.secret.access.key).");
        S3Errors.DescribePermanent(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.NotFound, ErrorCode = "NoSuchBucket" }, "b", "PUT", "k")
            .Should().StartWith("S3 bucket 'b' does not exist (404 NoSuchBucket)");
        S3Errors.DescribePermanent(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "AccessDenied" }, "b", "PUT", "k")
            .Should().StartWith("S3 denied PUT of 'k' in bucket 'b' (403 AccessDenied): the sink's credentials need s3:PutObject and s3:GetObject");
    }

    [Fact]
    public void ARequestSentToTheWrongRegion_NamesTheBucketsRegion_AndAnExpiredToken_SaysItIsNotRenewed()
    {
        // AWS S3's answers: the SDK would follow the bucket's region in its own retries, which the sink has off.
        S3Errors.DescribePermanent(new AmazonS3Exception("The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'") { StatusCode = HttpStatusCode.BadRequest, ErrorCode = "AuthorizationHeaderMalformed" }, "b", "PUT", "k")
            .Should().Be("S3 bucket 'b' is in region 'eu-west-1' (400 AuthorizationHeaderMalformed): set S3.Region (s3.region) to 'eu-west-1'.");
        var redirect = new Amazon.Runtime.Internal.HttpErrorResponseException(new DatedResponse("Sun, 06 Dec 2026 14:00:00 GMT", ("x-amz-bucket-region", "ap-south-1")));
        S3Errors.DescribePermanent(new AmazonS3Exception("The bucket you are attempting to access must be addressed using the specified endpoint.", redirect) { StatusCode = HttpStatusCode.MovedPermanently, ErrorCode = "PermanentRedirect" }, "b", "HEAD", "k")
            .Should().Be("S3 bucket 'b' is in region 'ap-south-1' (301 PermanentRedirect): set S3.Region (s3.region) to 'ap-south-1'.");
        S3Errors.DescribePermanent(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.MovedPermanently, ErrorCode = "PermanentRedirect" }, "b", "HEAD", "k")
            .Should().StartWith("S3 refused the sink's requests to bucket 'b' as sent to the wrong region (301 PermanentRedirect: x): set S3.Region");
        S3Errors.DescribePermanent(new AmazonS3Exception("x") { StatusCode = HttpStatusCode.BadRequest, ErrorCode = "ExpiredToken" }, "b", "PUT", "k")
            .Should().StartWith("S3 rejected the sink's credentials for bucket 'b' (400 ExpiredToken): their session token has expired.");
    }

    [Fact]
    public async Task TransientFailures_AreRetriedCountedAndShownUntilTheOperationSucceeds()
    {
        var time = new FakeTimeProvider();
        var faults = new FaultRegistry();
        var retried = new List<string>();
        var runner = new RetryRunner(new RetryOptions(), 3, time, NullLogger.Instance, faults, new LogThrottle(time, TimeSpan.FromSeconds(30)), retried.Add);
        var attempts = 0;

        var run = runner.RunAsync("PUT", "k", "t[0]", _ => ++attempts < 4 ? throw new AmazonS3Exception("slow") { StatusCode = HttpStatusCode.ServiceUnavailable, ErrorCode = "SlowDown" } : Task.FromResult(42), CancellationToken.None);
        faults.Snapshot().Should().ContainSingle().Which.Should().Match<FaultSnapshot>(f => f.What == "PUT k" && f.Partition == "t[0]" && f.Error.StartsWith("503 SlowDown", StringComparison.Ordinal));
        await AdvanceUntilDoneAsync(time, run);

        (await run.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(42);
        attempts.Should().Be(4);
        retried.Should().Equal("PUT", "PUT", "PUT");
        faults.Snapshot().Should().BeEmpty("the operation recovered");
        faults.LastError.Should().StartWith("503 SlowDown");
    }

    [Fact]
    public async Task PermanentFailures_AreNotRetried_AndGiveUpAfterBoundsTransientOnes()
    {
        var time = new FakeTimeProvider();
        var runner = new RetryRunner(new RetryOptions { GiveUpAfter = TimeSpan.FromSeconds(30) }, 3, time, NullLogger.Instance, new FaultRegistry(), new LogThrottle(time, TimeSpan.FromSeconds(30)), _ => { });
        var attempts = 0;
        var denied = () => runner.RunAsync<int>("PUT", "k", null, _ => { attempts++; throw new AmazonS3Exception("denied") { StatusCode = HttpStatusCode.Forbidden, ErrorCode = "AccessDenied" }; }, CancellationToken.None);
        await denied.Should().ThrowAsync<AmazonS3Exception>();
        attempts.Should().Be(1);

        var down = runner.RunAsync<int>("PUT", "k", null, _ => throw new HttpRequestException("refused"), CancellationToken.None);
        await AdvanceUntilDoneAsync(time, down);

        (await down.Invoking(d => d.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<KafkaS3SinkException>())
            .Which.Message.Should().StartWith("S3 PUT of 'k' kept failing for").And.Contain("Retry.GiveUpAfter");
    }

    /// <summary>Moves the fake clock past each backoff until the operation ends (bounded; the continuations run on the pool).</summary>
    private static async Task AdvanceUntilDoneAsync(FakeTimeProvider time, Task run)
    {
        for (var i = 0; i < 1_000 && !run.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(11));
            await Task.Delay(5);
        }
    }

    [Fact]
    public void Backoff_DoublesFromTheInitialBackoff_IsCapped_AndKeepsHalfFixed()
    {
        var time = new FakeTimeProvider();
        var runner = new RetryRunner(new RetryOptions { InitialBackoff = TimeSpan.FromMilliseconds(100), MaxBackoff = TimeSpan.FromSeconds(1) }, 3, time, NullLogger.Instance, new FaultRegistry(), new LogThrottle(time, TimeSpan.FromSeconds(30)), _ => { });

        runner.Backoff(1).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(50)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(100));
        runner.Backoff(3).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200)).And.BeLessThanOrEqualTo(TimeSpan.FromMilliseconds(400));
        runner.Backoff(30).Should().BeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(500)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void LogThrottle_LogsTheFirst_ThenOnePerWindowWithTheCountSuppressed()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(30));

        throttle.ShouldLog("kafka Local_Transport", out var first).Should().BeTrue();
        first.Should().Be(0);
        Enumerable.Range(0, 5).Select(_ => throttle.ShouldLog("kafka Local_Transport", out _)).Should().OnlyContain(b => !b);
        throttle.ShouldLog("commit 27", out _).Should().BeTrue("another kind has its own window");
        time.Advance(TimeSpan.FromSeconds(31));
        throttle.ShouldLog("kafka Local_Transport", out var suppressed).Should().BeTrue();
        suppressed.Should().Be(5);
    }

    /// <summary>An S3 answer with nothing but its Date header (and any others given).</summary>
    private sealed class DatedResponse(string date, params (string Name, string Value)[] others) : Amazon.Runtime.Internal.Transform.IWebResponseData
    {
        public long ContentLength => 0;

        public string ContentType => "application/xml";

        public HttpStatusCode StatusCode => HttpStatusCode.Forbidden;

        public bool IsSuccessStatusCode => false;

        public Amazon.Runtime.Internal.Transform.IHttpResponseBody ResponseBody => null!;

        public string[] GetHeaderNames() => ["Date", .. others.Select(o => o.Name)];

        public bool IsHeaderPresent(string headerName) => GetHeaderNames().Contains(headerName);

        public string GetHeaderValue(string headerName) => headerName == "Date" ? date : others.FirstOrDefault(o => o.Name == headerName).Value!;

        public Amazon.Runtime.EventStreams.IEventStreamHeader GetEventStreamHeader(string headerName) => null!;

        public bool IsEventHeaderPresent(string headerName) => false;
    }
}
