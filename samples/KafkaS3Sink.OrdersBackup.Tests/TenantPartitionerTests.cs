using System.Text;
using KafkaS3Sink;
using KafkaS3Sink.Partitioning;
using OrdersBackup;

namespace OrdersBackup.Tests;

/// <summary>The layout of the orders backup, tested without Kafka or S3 (<see cref="PartitionPaths"/>).</summary>
public sealed class TenantPartitionerTests
{
    private static readonly Action<S3PartitionerBuilder> Layout = p => p
        .Field("order.region")
        .Custom(new TenantPartitioner())
        .Hourly(t =>
        {
            t.TimestampSource = TimestampSource.RecordField;
            t.TimestampField = "order.createdAt";
            t.TimeZone = "Asia/Seoul";
        });

    [Fact]
    public void Region_Tenant_ThenTheOrdersHourInSeoul()
        => PartitionPaths.Of(Layout, Record("""{"order":{"region":"eu","tenant":"ACME","createdAt":"2026-11-27T09:30:00Z"}}"""))
            .Should().Be("region=eu/tenant=acme/year=2026/month=11/day=27/hour=18");

    [Fact]
    public void NoTenantInTheValue_TheHeaderIsUsed_OrUnknown()
    {
        PartitionPaths.Of(Layout, Record("""{"order":{"region":"us","createdAt":"2026-11-27T15:00:00Z"}}""", ("tenant", "globex")))
            .Should().Be("region=us/tenant=globex/year=2026/month=11/day=28/hour=00", "15:00 UTC is midnight in Seoul");
        PartitionPaths.Of(Layout, Record("""{"order":{"region":"us","createdAt":"2026-11-27T15:00:00Z"}}"""))
            .Should().StartWith("region=us/tenant=unknown/");
    }

    [Fact]
    public void ATenantThatLooksLikeAPath_IsEncoded_AndCannotLeaveItsSegment()
        => PartitionPaths.Of(Layout, Record("""{"order":{"region":"eu","tenant":"../admin","createdAt":"2026-11-27T09:30:00Z"}}"""))
            .Should().StartWith("region=eu/tenant=").And.NotContain("../").And.EndWith("/year=2026/month=11/day=27/hour=18");

    [Fact]
    public void AnOrderWithoutItsTimestamp_IsABadRecord()
    {
        var act = () => PartitionPaths.Of(Layout, Record("""{"order":{"region":"eu","tenant":"acme"}}"""));

        act.Should().Throw<RecordPartitioningException>().WithMessage("*order.createdAt*");
    }

    private static KafkaRecord Record(string json, params (string Key, string Value)[] headers) => new(
        "orders", 0, 42, DateTimeOffset.UnixEpoch, key: null, value: Encoding.UTF8.GetBytes(json),
        headers: [.. headers.Select(h => new KeyValuePair<string, byte[]>(h.Key, Encoding.UTF8.GetBytes(h.Value)))]);
}
