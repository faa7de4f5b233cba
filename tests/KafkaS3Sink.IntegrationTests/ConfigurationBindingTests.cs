using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace KafkaS3Sink.IntegrationTests;

/// <summary>Options bound from appsettings-style configuration, validated at start.</summary>
[Trait("Category", "Management")]
public sealed class ConfigurationBindingTests
{
    [Fact]
    public void BindConfiguration_Section_BindsEveryKindOfOption()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sinks:orders:Name"] = "orders",
            ["Sinks:orders:BootstrapServers"] = "127.0.0.1:1",
            ["Sinks:orders:GroupId"] = "orders-backup",
            ["Sinks:orders:Topics:0"] = "orders",
            ["Sinks:orders:Topics:1"] = "refunds",
            ["Sinks:orders:FlushSize"] = "250",
            ["Sinks:orders:RotateScheduleInterval"] = "00:01:00",
            ["Sinks:orders:RotateScheduleTimeZone"] = "Asia/Seoul",
            ["Sinks:orders:KafkaProperties:security.protocol"] = "plaintext",
            ["Sinks:orders:Staging:MaxStagedBytes"] = "1073741824",
            ["Sinks:orders:S3:BucketName"] = "backups",
            ["Sinks:orders:S3:ObjectTags:team"] = "data",
        }).Build();

        using var sink = new KafkaS3SinkBuilder().BindConfiguration(configuration.GetSection("Sinks:orders")).Build();

        var o = sink.Options;
        o.Name.Should().Be("orders");
        o.GroupId.Should().Be("orders-backup");
        o.Topics.Should().Equal("orders", "refunds");
        o.FlushSize.Should().Be(250);
        o.RotateScheduleInterval.Should().Be(TimeSpan.FromMinutes(1));
        o.RotateScheduleTimeZone.Should().Be("Asia/Seoul");
        o.KafkaProperties.Should().Contain("security.protocol", "plaintext");
        o.Staging.MaxStagedBytes.Should().Be(1L << 30);
        o.S3.BucketName.Should().Be("backups");
        o.S3.ObjectTags.Should().Contain("team", "data");
    }

    [Fact]
    public async Task AddKafkaS3Sink_UnknownKeyInSection_FailsHostStartNamingIt()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sink:BootstrapServers"] = "127.0.0.1:1",
            ["Sink:GroupId"] = "g",
            ["Sink:Topics:0"] = "orders",
            ["Sink:S3:BucketName"] = "b",
            ["Sink:S3:Bucket"] = "typo",
        }).Build();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddKafkaS3Sink(configuration.GetSection("Sink"));
        using var host = builder.Build();

        var act = () => host.StartAsync();

        (await act.Should().ThrowAsync<KafkaS3SinkConfigurationException>()).Which.Errors.Should().ContainSingle()
            .Which.Should().Contain("Sink").And.Contain("'Bucket'");
    }
}
