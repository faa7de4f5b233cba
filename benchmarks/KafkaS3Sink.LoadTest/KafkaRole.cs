using System.Globalization;
using Confluent.Kafka;
using KafkaS3Sink.Testing;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// The child process: hosts the mock Kafka cluster and produces the records, staying at most a few
/// MiB per partition ahead of what the sink reports consumed (the mock keeps only ~5 MiB per partition).
/// </summary>
internal static class KafkaRole
{
    public static int Run(HarnessOptions o)
    {
        using var cluster = MockKafkaCluster.Start(brokerCount: 1);
        cluster.CreateTopic("load", o.Partitions);
        Console.WriteLine("BOOTSTRAP " + cluster.BootstrapServers);

        var maxAhead = Math.Max(1000, 3L * 1024 * 1024 / o.RecordSize) * o.Partitions;
        using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            LingerMs = 5,
            BatchSize = 256 * 1024,
            QueueBufferingMaxKbytes = 32 * 1024,
            Acks = Acks.Leader,
        }).Build())
        {
            long consumed = 0;
            for (long id = 0; id < o.Records; id++)
            {
                // Re-read the sink's progress only when this producer may be too far ahead.
                while (!o.Preproduce && id - consumed > maxAhead)
                {
                    consumed = ReadProgress(o.ProgressFile!);
                    if (id - consumed > maxAhead)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(5));
                    }
                }

                var value = Records.Build(id, o);
                while (true)
                {
                    try
                    {
                        producer.Produce(new TopicPartition("load", (int)(id % o.Partitions)), new Message<Null, byte[]> { Value = value });
                        break;
                    }
                    catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(10));
                    }
                }
            }

            producer.Flush(TimeSpan.FromMinutes(5));
        }

        Console.WriteLine("PRODUCED " + o.Records.ToString(CultureInfo.InvariantCulture));
        if (o.Preproduce)
        {
            // The mock drops a partition's oldest records past ~5 MiB: say whether every record is still there.
            using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "probe" }).Build();
            var low = Enumerable.Range(0, o.Partitions).Max(p => probe.QueryWatermarkOffsets(new TopicPartition("load", p), TimeSpan.FromSeconds(10)).Low.Value);
            Console.WriteLine("LOW " + low.ToString(CultureInfo.InvariantCulture));
        }

        // Keep the cluster up until the parent closes our stdin.
        Console.In.ReadToEnd();
        return 0;
    }

    private static long ReadProgress(string file)
    {
        try
        {
            var text = File.ReadAllText(file);
            return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
