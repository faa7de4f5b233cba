using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Configuration;

public sealed class KafkaConnectConfigTests
{
    [Theory]
    [InlineData("null", OutputCompression.None)]
    [InlineData("deflate", OutputCompression.Gzip)]
    [InlineData("snappy", OutputCompression.Snappy)]
    [InlineData("zstandard", OutputCompression.Zstd)]
    public void AvroCodec_MapsToTheSameAvroCodec(string codec, OutputCompression expected)
    {
        var imported = Import(new Dictionary<string, string> { ["avro.codec"] = codec });

        imported.Format.Should().Be(OutputFormat.Avro);
        imported.Compression.Should().Be(expected);
    }

    [Fact]
    public void AvroCodec_Bzip2_IsReportedNamingTheSetting()
    {
        var act = () => Import(new Dictionary<string, string> { ["avro.codec"] = "bzip2" });

        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Should().Contain(e => e.StartsWith("avro.codec", StringComparison.Ordinal) && e.Contains("bzip2", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("org.apache.kafka.connect.storage.StringConverter", null, ValueConverter.Utf8String)]
    [InlineData("org.apache.kafka.connect.converters.ByteArrayConverter", null, ValueConverter.ByteArray)]
    [InlineData("org.apache.kafka.connect.json.JsonConverter", "false", ValueConverter.Json)]
    [InlineData("org.apache.kafka.connect.json.JsonConverter", null, ValueConverter.JsonWithSchemaEnvelope)]
    [InlineData("io.confluent.connect.avro.AvroConverter", null, null)]
    public void KeyConverter_MapsLikeTheValueConverter(string keyConverter, string? schemasEnable, ValueConverter? expected)
    {
        var extra = new Dictionary<string, string> { ["key.converter"] = keyConverter };
        if (schemasEnable is not null)
        {
            extra["key.converter.schemas.enable"] = schemasEnable;
        }

        Import(extra).KeyConverter.Should().Be(expected);
    }

    [Fact]
    public void ErrorSettings_MapToTheErrorOptions()
    {
        var imported = Import(new Dictionary<string, string>
        {
            ["errors.tolerance"] = "all",
            ["errors.log.enable"] = "true",
            ["errors.log.include.messages"] = "TRUE",
            ["errors.deadletterqueue.topic.name"] = "orders-dlq",
            ["errors.deadletterqueue.topic.replication.factor"] = "1",
            ["errors.deadletterqueue.context.headers.enable"] = "true",
            ["max.record.bytes"] = "1048576",
        });

        imported.Errors.Tolerance.Should().Be(ErrorTolerance.All);
        imported.Errors.LogErrors.Should().BeTrue();
        imported.Errors.LogIncludeMessages.Should().BeTrue();
        imported.Errors.DeadLetterTopic.Should().Be("orders-dlq");
        imported.Errors.DeadLetterTopicReplicationFactor.Should().Be(1);
        imported.Errors.DeadLetterContextHeaders.Should().BeTrue();
        imported.Errors.MaxRecordBytes.Should().Be(1_048_576);
    }

    [Fact]
    public void ErrorSettings_KafkaConnectDefaults_StopAtABadRecordWithoutDeadLetters()
    {
        var imported = Import(new Dictionary<string, string> { ["errors.deadletterqueue.topic.name"] = string.Empty });

        imported.Errors.Tolerance.Should().Be(ErrorTolerance.None);
        imported.Errors.DeadLetterTopic.Should().BeNull("Connect reads an empty name as no dead-letter topic");
        imported.Errors.DeadLetterTopicReplicationFactor.Should().Be(3);
        imported.Errors.DeadLetterContextHeaders.Should().BeFalse();
        imported.Errors.MaxRecordBytes.Should().BeNull();
    }

    [Fact]
    public void FieldAndTimeBasedPartitioner_NestedFieldsThenSeoulHours_FromAConnectStyleConfig()
    {
        using var sink = Build(new Dictionary<string, string>
        {
            ["partitioner.class"] = "KafkaS3Sink.Partitioning.FieldAndTimeBasedPartitioner",
            ["partition.field.name"] = "order.region, order.tier",
            ["path.format"] = "'dt'=YYYY-MM-dd/'hour'=HH/",
            ["partition.duration.ms"] = "3600000",
            ["timezone"] = "Asia/Seoul",
            ["timestamp.extractor"] = "RecordField",
            ["timestamp.field"] = "order.at",
            ["format.class"] = "io.confluent.connect.s3.format.json.JsonFormat",
        });
        var record = new KafkaRecord("orders", 0, 5, DateTimeOffset.UnixEpoch, null, "{\"order\":{\"region\":\"eu\",\"tier\":2,\"at\":\"2026-11-27T16:30:00Z\"}}"u8.ToArray());

        PartitionPaths.Of(sink.Partitioner, record).Should().Be("order.region=eu/order.tier=2/dt=2026-11-28/hour=01");
    }

    [Fact]
    public void FieldAndTimeBasedPartitioner_WithHeaderAndKeyParts_InThatOrder()
    {
        using var sink = Build(new Dictionary<string, string>
        {
            ["partitioner.class"] = "FieldAndTimeBasedPartitioner",
            ["partition.field.name"] = "region",
            ["partition.header.name"] = "tenant",
            ["partition.key.name"] = "customer",
            ["path.format"] = "'dt'=YYYY-MM-dd",
            ["partition.duration.ms"] = "86400000",
            ["format.class"] = "io.confluent.connect.s3.format.json.JsonFormat",
        });
        var record = new KafkaRecord("orders", 0, 5, new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero), "c-7"u8.ToArray(), "{\"region\":\"eu\"}"u8.ToArray(), [new("tenant", "acme"u8.ToArray())]);

        PartitionPaths.Of(sink.Partitioner, record).Should().Be("region=eu/tenant=acme/customer=c-7/dt=2026-11-27");
    }

    [Fact]
    public void Timezone_HeldToJodaRules_AndLocaleReadAsJavaDoes()
    {
        var act = () => Import(new Dictionary<string, string> { ["timezone"] = "utc" });
        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Should().Contain(e => e.StartsWith("timezone: 'utc' is not an IANA time zone id as Joda-Time (Kafka Connect) reads them", StringComparison.Ordinal));

        var imported = Import(new Dictionary<string, string> { ["timezone"] = "+09:00" });
        imported.RotateScheduleTimeZone.Should().Be("+09:00");
    }

    [Fact]
    public void NegativeFlushSize_IsReportedWithTheConnectNameAndTheValueGiven()
    {
        var act = () => Import(new Dictionary<string, string> { ["flush.size"] = "-5" });

        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Should().Contain("FlushSize (flush.size): must be at least 1 (was -5).");
    }

    [Fact]
    public void BadTimezone_IsReportedOnce()
    {
        var act = () => Import(new Dictionary<string, string> { ["timezone"] = "Mars/Olympus", ["partitioner.class"] = "io.confluent.connect.storage.partitioner.HourlyPartitioner" });

        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Where(e => e.Contains("Mars/Olympus", StringComparison.Ordinal)).Should().ContainSingle().Which.Should().StartWith("timezone: ");
    }

    [Fact]
    public void ProducerOverrides_GoToTheDeadLetterProducer_ButNotItsDeliveryGuarantee()
    {
        var imported = Import(new Dictionary<string, string> { ["producer.override.linger.ms"] = "50", ["producer.override.compression.type"] = "zstd" });
        imported.Errors.DeadLetterProducerProperties.Should().BeEquivalentTo(new Dictionary<string, string> { ["linger.ms"] = "50", ["compression.type"] = "zstd" });

        var act = () => Import(new Dictionary<string, string> { ["producer.override.acks"] = "1" });
        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Should().Contain(e => e.StartsWith("Errors.DeadLetterProducerProperties (producer.override.acks): fixed by the sink", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("errors.tolerance", "some", "errors.tolerance: 'some' is not supported")]
    [InlineData("errors.log.enable", "yes", "errors.log.enable: 'yes' is not a boolean")]
    [InlineData("errors.deadletterqueue.topic.name", "orders", "is one of the sink's own topics")]
    [InlineData("errors.deadletterqueue.topic.name", "bad/topic", "is not a valid topic name")]
    [InlineData("errors.deadletterqueue.topic.replication.factor", "0", "errors.deadletterqueue.topic.replication.factor): must be at least 1")]
    [InlineData("max.record.bytes", "0", "max.record.bytes): must be at least 1")]
    public void ErrorSettings_Invalid_AreReportedNamingTheSetting(string key, string value, string expected)
    {
        var act = () => Import(new Dictionary<string, string> { [key] = value, ["errors.tolerance"] = key == "errors.tolerance" ? value : "all" });

        act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors.Should().Contain(e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void SinkKeys_SetWhatConnectHasNoKeyFor()
    {
        var imported = Import(new Dictionary<string, string>
        {
            ["kafkas3sink.staging.directory"] = "staging/orders",
            ["kafkas3sink.staging.max.staged.bytes"] = "1000000",
            ["kafkas3sink.staging.min.free.disk.bytes"] = "0",
            ["kafkas3sink.staging.max.open.segments"] = "500",
            ["kafkas3sink.rotate.idle.interval.ms"] = "60000",
            ["kafkas3sink.s3.conditional.writes"] = "disabled",
            ["kafkas3sink.progress.log.interval.ms"] = "0",
        });

        imported.Staging.Directory.Should().Be(Path.GetFullPath("staging/orders"), "relative to the current directory");
        imported.Staging.MaxStagedBytes.Should().Be(1_000_000);
        imported.Staging.MinFreeDiskBytes.Should().Be(0);
        imported.Staging.MaxOpenSegments.Should().Be(500);
        imported.IdleRotateInterval.Should().Be(TimeSpan.FromMinutes(1));
        imported.S3.ConditionalWrites.Should().Be(ConditionalWrites.Disabled);
        imported.ProgressLogInterval.Should().BeNull("0 turns the progress line off");
    }

    [Fact]
    public void SinkKeys_BadValuesAndUnknownKeys_AreReportedWithTheKeyAndValue()
    {
        var act = () => Import(new Dictionary<string, string>
        {
            ["kafkas3sink.staging.max.open.segments"] = "0",
            ["kafkas3sink.rotate.idle.interval.ms"] = "soon",
            ["kafkas3sink.s3.conditional.writes"] = "1",
            ["kafkas3sink.staging.dir"] = "/tmp/x",
        });

        var errors = act.Should().Throw<KafkaS3SinkConfigurationException>().Which.Errors;
        errors.Should().Contain("kafkas3sink.staging.max.open.segments: must be at least 1 (was 0).");
        errors.Should().Contain("kafkas3sink.rotate.idle.interval.ms: 'soon' is not an integer.");
        errors.Should().Contain(e => e.StartsWith("kafkas3sink.s3.conditional.writes: '1' is not supported", StringComparison.Ordinal));
        errors.Should().ContainSingle(e => e.Contains("kafkas3sink.staging.dir", StringComparison.Ordinal))
            .Which.Should().StartWith("kafkas3sink.staging.dir: unknown kafkas3sink.* setting (known: ").And.Contain("kafkas3sink.staging.directory");
    }

    private static KafkaS3SinkOptions Import(Dictionary<string, string> extra)
    {
        using var sink = Build(extra);
        return sink.Options;
    }

    private static KafkaS3Sink Build(Dictionary<string, string> extra)
    {
        var config = new Dictionary<string, string>
        {
            ["name"] = "orders-backup",
            ["connector.class"] = "io.confluent.connect.s3.S3SinkConnector",
            ["topics"] = "orders",
            ["flush.size"] = "100",
            ["s3.bucket.name"] = "backup",
            ["format.class"] = "io.confluent.connect.s3.format.avro.AvroFormat",
        };
        foreach (var (key, value) in extra)
        {
            config[key] = value;
        }

        return new KafkaS3SinkBuilder()
            .UseKafkaConnectConfig(config)
            .Configure(o =>
            {
                o.BootstrapServers = "localhost:9092";
                o.S3.AccessKeyId = "a";
                o.S3.SecretAccessKey = "b";
            })
            .Build();
    }
}
