// A sink in a process of its own, for tests that kill it (SIGKILL) and start it again.
// Configuration comes from environment variables so a test can start it with one command:
//   SINK_BOOTSTRAP, SINK_TOPIC, SINK_GROUP, SINK_BUCKET, SINK_S3_ENDPOINT, SINK_S3_ACCESS_KEY,
//   SINK_S3_SECRET_KEY, SINK_STAGING, SINK_FLUSH_SIZE, SINK_PARTITIONER (default | hourly-field:<path>).
// It prints "READY" once the host has started; SIGTERM stops it gracefully.
using KafkaS3Sink.Partitioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

static string Env(string name) => Environment.GetEnvironmentVariable(name) ?? throw new InvalidOperationException($"{name} is not set.");

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
builder.Services.AddKafkaS3Sink(sink =>
{
    sink.Configure(o =>
    {
        o.Name = Env("SINK_GROUP");
        o.BootstrapServers = Env("SINK_BOOTSTRAP");
        o.GroupId = Env("SINK_GROUP");
        o.Topics.Add(Env("SINK_TOPIC"));
        o.FlushSize = int.Parse(Env("SINK_FLUSH_SIZE"), System.Globalization.CultureInfo.InvariantCulture);
        o.Staging.Directory = Env("SINK_STAGING");
        if (Environment.GetEnvironmentVariable("SINK_WRITE_BUFFER") is { } writeBuffer)
        {
            o.Staging.WriteBufferSize = int.Parse(writeBuffer, System.Globalization.CultureInfo.InvariantCulture);
        }
        o.KafkaProperties["session.timeout.ms"] = "3000";
        o.KafkaProperties["heartbeat.interval.ms"] = "500";
        if (Environment.GetEnvironmentVariable("SINK_SCHEDULE_MS") is { } schedule)
        {
            o.RotateScheduleInterval = TimeSpan.FromMilliseconds(int.Parse(schedule, System.Globalization.CultureInfo.InvariantCulture));
        }

        if (Environment.GetEnvironmentVariable("SINK_IDLE_MS") is { } idle)
        {
            o.IdleRotateInterval = TimeSpan.FromMilliseconds(int.Parse(idle, System.Globalization.CultureInfo.InvariantCulture));
        }

        if (Environment.GetEnvironmentVariable("SINK_ERRORS") == "all")
        {
            o.Errors.Tolerance = KafkaS3Sink.ErrorTolerance.All;
        }

        if (Environment.GetEnvironmentVariable("SINK_DLQ") is { } deadLetters)
        {
            o.Errors.DeadLetterTopic = deadLetters;
            o.Errors.DeadLetterContextHeaders = true;
        }

        o.S3.BucketName = Env("SINK_BUCKET");
        o.S3.ServiceUrl = new Uri(Env("SINK_S3_ENDPOINT"));
        o.S3.ForcePathStyle = true;
        o.S3.AccessKeyId = Env("SINK_S3_ACCESS_KEY");
        o.S3.SecretAccessKey = Env("SINK_S3_SECRET_KEY");
    });
    // "default", or parts joined by '+': "field:<path>", "hourly-field:<path>".
    var partitioner = Environment.GetEnvironmentVariable("SINK_PARTITIONER") ?? "default";
    if (partitioner != "default")
    {
        sink.UsePartitioner(p =>
        {
            foreach (var part in partitioner.Split('+'))
            {
                if (part.StartsWith("hourly-field:", StringComparison.Ordinal))
                {
                    p.Hourly(t =>
                    {
                        t.TimestampSource = TimestampSource.RecordField;
                        t.TimestampField = part["hourly-field:".Length..];
                    });
                }
                else if (part.StartsWith("field:", StringComparison.Ordinal))
                {
                    p.Field(part["field:".Length..]);
                }
                else
                {
                    throw new ArgumentException($"SINK_PARTITIONER: unknown part '{part}'.");
                }
            }
        });
    }
});

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("READY");
await host.WaitForShutdownAsync();
