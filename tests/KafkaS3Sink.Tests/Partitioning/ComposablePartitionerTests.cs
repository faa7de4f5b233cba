using System.Text;
using KafkaS3Sink.Partitioning;

namespace KafkaS3Sink.Tests.Partitioning;

[Trait("Category", "Partitioning")]
public sealed class ComposablePartitionerTests
{
    private static IS3Partitioner Build(Action<S3PartitionerBuilder> configure)
    {
        var builder = new S3PartitionerBuilder();
        configure(builder);
        return builder.Build(TimeProvider.System);
    }

    [Theory]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"eu\"}}}", "region=eu")]
    [InlineData("{\"order\":{\"customer\":{\"region\":42}}}", "region=42")]
    [InlineData("{\"order\":{\"customer\":{\"region\":-1.5e3}}}", "region=-1.5e3")]
    [InlineData("{\"order\":{\"customer\":{\"region\":true}}}", "region=true")]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"../../x\"}}}", "region=..%2F..%2Fx")]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"a/b\"}}}", "region=a%2Fb")]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"\"}}}", "region=")]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"서울\"}}}", "region=서울")]
    [InlineData("{\"order\":{\"customer\":{\"region\":\"a\\u0000b\\nc\"}}}", "region=a%00b%0Ac")]
    public void Field_NestedPathOnSchemalessJson_EncodedHiveSegment(string json, string expected)
        => Build(p => p.Field("order.customer.region")).GetPartitionPath(TestRecords.Json(json)).Should().Be(expected);

    [Theory]
    [InlineData("{\"order\":{}}", "field 'order.customer' is missing")]
    [InlineData("{\"other\":1}", "field 'order' is missing")]
    [InlineData("{\"order\":{\"customer\":[1,2]}}", "field 'order.customer' is a JSON array, not an object")]
    [InlineData("{\"order\":{\"customer\":{\"region\":[\"eu\"]}}}", "is a JSON array, not a scalar")]
    [InlineData("{\"order\":{\"customer\":{\"region\":{\"a\":1}}}}", "is a JSON object, not a scalar")]
    [InlineData("{\"order\":{\"customer\":{\"region\":null}}}", "is null")]
    [InlineData("{\"order\":null}", "field 'order' is null")]
    public void Field_MissingOrNonScalar_FailsNamingRecordAndReason(string json, string reason)
    {
        var partitioner = Build(p => p.Field("order.customer.region"));

        var act = () => partitioner.GetPartitionPath(TestRecords.Json(json, partition: 2, offset: 7));

        act.Should().Throw<RecordPartitioningException>()
            .Where(e => e.Message.Contains("orders[2]@7", StringComparison.Ordinal) && e.Message.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void Field_NullWithNullValue_UsesIt()
        => Build(p => p.Field("a.b", name: "bee", nullValue: "none")).GetPartitionPath(TestRecords.Json("{\"a\":{\"b\":null}}"))
            .Should().Be("bee=none");

    [Fact]
    public void Field_StructuredValueFromConverter_ReadsNestedDictionaries()
    {
        var value = new Dictionary<string, object?> { ["order"] = new Dictionary<string, object?> { ["qty"] = 3L, ["region"] = "apac" } };
        var record = new SinkRecord(TestRecords.Kafka("{}"), Encoding.UTF8.GetBytes("{}"), value);

        Build(p => p.Field("order.region").Field("order.qty")).GetPartitionPath(record).Should().Be("region=apac/qty=3");
    }

    [Fact]
    public void Field_VeryLongValue_RejectedByPathValidationNotTruncated()
    {
        var path = Build(p => p.Field("v")).GetPartitionPath(TestRecords.Json($"{{\"v\":\"{new string('z', 2000)}\"}}"));

        var act = () => global::KafkaS3Sink.Internal.PathValidation.ThrowIfInvalid(path, TestRecords.Kafka("{}"));
        act.Should().Throw<RecordPartitioningException>().WithMessage("*longer than 512*");
    }

    [Fact]
    public void Composite_FieldThenHourlyFromNestedField_JoinsInOrder()
    {
        var partitioner = Build(p => p
            .Field("order.customer.region")
            .Hourly(t =>
            {
                t.TimestampSource = TimestampSource.RecordField;
                t.TimestampField = "order.createdAt";
                t.TimeZone = "Europe/Berlin";
            }));

        var record = TestRecords.Json("{\"order\":{\"createdAt\":\"2026-11-27T08:30:00Z\",\"customer\":{\"region\":\"eu\"}}}");

        partitioner.GetPartitionPath(record).Should().Be("region=eu/year=2026/month=11/day=27/hour=09");
    }

    [Fact]
    public void Composite_SameParts_ReturnsTheSameStringInstance()
    {
        var partitioner = Build(p => p.Field("r").Daily());
        var first = partitioner.GetPartitionPath(TestRecords.Json("{\"r\":\"eu\"}"));
        var second = partitioner.GetPartitionPath(TestRecords.Json("{\"r\":\"eu\"}"));
        var third = partitioner.GetPartitionPath(TestRecords.Json("{\"r\":\"us\"}"));

        second.Should().BeSameAs(first);
        third.Should().Be("r=us/year=1970/month=01/day=01");
    }

    [Fact]
    public void HeaderKeyAndKafkaPartition_Compose()
    {
        var record = new SinkRecord(
            new KafkaRecord("orders", 5, 1, DateTimeOffset.UnixEpoch, Encoding.UTF8.GetBytes("cust/1"), Encoding.UTF8.GetBytes("{}"),
                [new("tenant", Encoding.UTF8.GetBytes("old")), new("tenant", Encoding.UTF8.GetBytes("acme corp"))]),
            Encoding.UTF8.GetBytes("{}"),
            null);

        Build(p => p.Header("tenant").Key("customer").KafkaPartition()).GetPartitionPath(record)
            .Should().Be("tenant=acme%20corp/customer=cust%2F1/partition=5");
    }

    [Fact]
    public void HeaderAndKey_Missing_FailOrUseConfiguredValue()
    {
        var record = new SinkRecord(TestRecords.Kafka("{}"), Encoding.UTF8.GetBytes("{}"), null);

        var header = () => Build(p => p.Header("tenant")).GetPartitionPath(record);
        header.Should().Throw<RecordPartitioningException>().WithMessage("*header 'tenant' is missing*");
        var key = () => Build(p => p.Key()).GetPartitionPath(record);
        key.Should().Throw<RecordPartitioningException>().WithMessage("*key is null*");
        Build(p => p.Header("tenant", missingValue: "none").Key(nullValue: "null")).GetPartitionPath(record).Should().Be("tenant=none/key=null");
    }

    [Fact]
    public void Custom_LambdaAndClass_AreParts()
        => Build(p => p.Custom(r => "p" + r.Source.Partition).Custom(new DefaultPartitioner()))
            .GetPartitionPath(TestRecords.Json("{}", partition: 3)).Should().Be("p3/partition=3");

    [Fact]
    public void Field_EmptyPathSegment_RejectedWhenConfigured()
    {
        var act = () => new S3PartitionerBuilder().Field("a..b");

        act.Should().Throw<ArgumentException>().WithMessage("*empty segment*");
    }
}

[Trait("Category", "Partitioning")]
public sealed class PartitionPathsTests
{
    [Fact]
    public void Of_ALayoutWithoutKafkaOrS3_GivesThePathTheSinkWrites()
    {
        var record = new KafkaRecord("orders", 1, 9, new DateTimeOffset(2026, 11, 27, 9, 15, 0, TimeSpan.Zero), null, "{\"region\":\"eu/west\"}"u8.ToArray());

        PartitionPaths.Of(p => p.Field("region").Hourly(), record).Should().Be("region=eu%2Fwest/year=2026/month=11/day=27/hour=09");
    }

    [Fact]
    public void Of_ACustomPartitionerReturningAnUnsafePath_FailsAsTheSinkWould()
    {
        var record = new KafkaRecord("orders", 1, 9, DateTimeOffset.UnixEpoch, null, "{}"u8.ToArray());

        var act = () => PartitionPaths.Of(p => p.Custom(_ => "a/../b"), record);

        act.Should().Throw<RecordPartitioningException>().WithMessage("Cannot partition record orders[1]@9: partition path 'a/../b' has an empty, '.' or '..' segment*");
    }
}
