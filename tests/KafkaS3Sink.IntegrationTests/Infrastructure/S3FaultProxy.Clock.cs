using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>The proxy as a store whose clock is not this machine's.</summary>
public sealed partial class S3FaultProxy
{
    private long storeClockOffsetTicks = long.MinValue;

    /// <summary>
    /// When set, the proxy plays a store whose clock is this far ahead of this machine's (behind if negative): a
    /// request signed (<c>X-Amz-Date</c>) more than <see cref="ClockTolerance"/> away from that clock is refused as S3
    /// refuses it (403 <c>RequestTimeTooSkewed</c>, the store's time in the <c>Date</c> header) and counted as
    /// <c>ClockSkew</c>; the others go on. Null (the default) checks nothing. Settable while a test runs: an NTP step
    /// of the store's clock.
    /// </summary>
    public TimeSpan? StoreClockOffset
    {
        get => Volatile.Read(ref storeClockOffsetTicks) is var ticks && ticks == long.MinValue ? null : TimeSpan.FromTicks(ticks);
        set => Volatile.Write(ref storeClockOffsetTicks, value?.Ticks ?? long.MinValue);
    }

    /// <summary>How far a request's signing time may be from the store's clock (<see cref="StoreClockOffset"/>). Default 5 minutes (S3 allows 15).</summary>
    public TimeSpan ClockTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Refuses the request as S3 does when its signing time is too far from the store's clock.</summary>
    private async Task<bool> RefusedAsSkewedAsync(HttpContext context, DateTime storeNow)
    {
        var signed = context.Request.Headers["X-Amz-Date"].ToString();
        if (!DateTime.TryParseExact(signed, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            || (at - storeNow).Duration() <= ClockTolerance)
        {
            return false;
        }

        counts.AddOrUpdate("ClockSkew", 1, (_, n) => n + 1);
        counts.AddOrUpdate($"ClockSkew {context.Request.Method}", 1, (_, n) => n + 1);
        await DrainAsync(context);
        context.Response.Headers.Date = storeNow.ToString("r", CultureInfo.InvariantCulture);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            // S3 answers a HEAD without a body, so without a code: the status and the Date are all the client gets.
            context.Response.StatusCode = 403;
            return true;
        }

        await ErrorAsync(context, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.");
        return true;
    }
}
