using KafkaS3Sink;
using KafkaS3Sink.Partitioning;
using OrdersBackup;

// A service that backs up the orders topic by region (a field of the order), tenant (a custom partitioner), then
// hour of the order's own time in Seoul: field + time, which Confluent's connector cannot combine. Settings: appsettings.json, the
// environment (KafkaS3Sink__BootstrapServers=…) or arguments (--KafkaS3Sink:S3:BucketName …).
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddKafkaS3Sink(builder.Configuration.GetSection("KafkaS3Sink"), sink => sink
    .UsePartitioner(p => p
        .Field("order.region")                            // region=eu
        .Custom(new TenantPartitioner())                  // tenant=acme
        .Hourly(t =>                                      // year=2026/month=11/day=27/hour=18
        {
            t.TimestampSource = TimestampSource.RecordField;
            t.TimestampField = "order.createdAt";
            t.TimeZone = "Asia/Seoul";
        })));

await builder.Build().RunAsync();
