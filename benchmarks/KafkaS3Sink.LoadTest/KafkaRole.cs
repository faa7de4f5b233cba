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
        if (o.Warmup)
        {
            cluster.CreateTopic("warmup", o.Partitions);
        }

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
            // --warmup: the measured data's layout again, on a separate topic, before the measured data.
            var warmup = o.Warmup ? CompareLayout.Of(o).Records : 0;
            for (long id = 0; id < warmup; id++)
            {
                ProduceOne(producer, "warmup", (int)(id % o.Partitions), Records.Build(id, o));
            }

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

                ProduceOne(producer, "load", (int)(id % o.Partitions), Records.Build(id, o));
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

    private static void ProduceOne(IProducer<Null, byte[]> producer, string topic, int partition, byte[] value)
    {
        while (true)
        {
            try
            {
                producer.Produce(new TopicPartition(topic, partition), new Message<Null, byte[]> { Value = value });
                return;
            }
            catch (ProduceException<Null, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
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
