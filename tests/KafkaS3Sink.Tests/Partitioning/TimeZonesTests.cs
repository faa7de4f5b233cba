using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Partitioning;

[Trait("Category", "Partitioning")]
public sealed class TimeZonesTests
{
    [Theory]
    [InlineData("+09:00", "+09:00", 9 * 60)]
    [InlineData("+09", "+09:00", 9 * 60)]
    [InlineData("+0930", "+09:30", (9 * 60) + 30)]
    [InlineData("-03:30", "-03:30", -((3 * 60) + 30))]
    [InlineData("+00:00", "UTC", 0)]
    public void FixedOffsets_AreZonesWithJodasIds(string id, string expectedId, int minutes)
    {
        TimeZones.TryFind(id, out var zone).Should().BeTrue();
        zone.Id.Should().Be(expectedId);
        zone.BaseUtcOffset.Should().Be(TimeSpan.FromMinutes(minutes));
        TimeZones.JodaProblem(id).Should().BeNull();
    }

    [Theory]
    [InlineData("Asia/Seoul")]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("US/Eastern")]
    public void IanaIds_AreAcceptedAsJodaAcceptsThem(string id) => TimeZones.JodaProblem(id).Should().BeNull();

    [Theory]
    [InlineData("utc", "did you mean UTC?")]
    [InlineData("asia/seoul", "did you mean Asia/Seoul?")]
    [InlineData("Korea Standard Time", "Windows ids are not accepted (did you mean Asia/Seoul?)")]
    [InlineData("+9", "is not a time zone id")]
    [InlineData("Mars/Olympus", "is not a time zone id")]
    public void WhatJodaRejects_IsNamedWithTheWayOut(string id, string expected)
        => TimeZones.JodaProblem(id).Should().Contain(expected);
}
