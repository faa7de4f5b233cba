using KafkaS3Sink.IntegrationTests.Infrastructure;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>A store whose clock is not this machine's.</summary>
public sealed partial class FaultTests
{
    /// <summary>
    /// Scenario 8: the store's clock runs 10 minutes ahead of this machine's (the proxy refuses, as S3 does, a request
    /// signed more than 5 minutes from it), then is set right in the middle of the stream. The AWS SDK's answer to this
    /// (sign again with the time the store sent) runs inside the SDK's retry handler, which the sink's own retries
    /// replace; the sink must still start, deliver, and follow the clock back.
    /// </summary>
    [Fact]
    public async Task StoreClockTenMinutesAheadThenSetRight_SinkSignsWithTheStoresTimeAndDeliversExactlyOnce()
    {
        var (topic, bucket) = await SetUpAsync("skew");
        await using var proxy = await S3FaultProxy.StartAsync(servers.S3.Endpoint);
        proxy.StoreClockOffset = TimeSpan.FromMinutes(10);
        using var sink = Sink(topic, bucket, proxy.Endpoint, flushSize: 250);
        using var stop = new CancellationTokenSource();
        var run = sink.RunAsync(stop.Token);

        Produce(topic, 0, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [500, 500, 500, 500], TimeSpan.FromSeconds(90), run);
        var refusedAhead = proxy.Counts.GetValueOrDefault("ClockSkew");
        refusedAhead.Should().BeGreaterThan(0, "the first requests, signed with this machine's time, were refused");

        // An NTP step puts the store's clock right: requests signed with the store's old time are now 10 minutes ahead.
        proxy.StoreClockOffset = TimeSpan.Zero;
        Produce(topic, 2_000, 2_000);
        await SinkTestKit.WaitForCommitsAsync(servers.Kafka, topic, topic, [1_000, 1_000, 1_000, 1_000], TimeSpan.FromSeconds(90), run);
        var refusedAfterStep = proxy.Counts.GetValueOrDefault("ClockSkew") - refusedAhead;
        output.WriteLine($"refused as skewed: {refusedAhead} with the store ahead, {refusedAfterStep} after it was set right; {proxy.Requests} requests; {string.Join(", ", proxy.Counts.Select(c => $"{c.Key}={c.Value}"))}");
        refusedAfterStep.Should().BeGreaterThan(0, "requests signed with the store's old time were refused after the step");

        // A few refusals per step (the requests in flight when it happened), not one per request: the sink signs
        // with the store's time once it has been told it.
        proxy.Counts.GetValueOrDefault("ClockSkew").Should().BeLessThan((int)(proxy.Requests / 2), "the sink follows the store's clock");
        sink.GetStatus().State.Should().Be(SinkState.Running);
        await StopAsync(stop, run);
        await AssertExactlyOnceAsync(bucket, 4_000);
    }
}
