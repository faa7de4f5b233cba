using System.Runtime.InteropServices;

namespace KafkaS3Sink.Testing;

/// <summary>
/// P/Invokes into the very librdkafka that Confluent.Kafka loaded. On Debian 12 the package's
/// primary build needs libsasl2.so.3, which is missing, so Confluent.Kafka silently falls back to
/// another build; a plain DllImport("librdkafka") would then fail or load a second copy.
/// </summary>
internal static partial class RdKafkaNative
{
    private const string Lib = "librdkafka";
    private static readonly object Gate = new();
    private static bool resolverSet;

    public static void EnsureResolver()
    {
        lock (Gate)
        {
            if (resolverSet)
            {
                return;
            }

            // Touching the version makes Confluent.Kafka load its native library now.
            _ = Confluent.Kafka.Library.Version;
            var path = FindLoadedLibrary()
                ?? throw new InvalidOperationException("Could not find the librdkafka that Confluent.Kafka loaded.");
            NativeLibrary.SetDllImportResolver(typeof(RdKafkaNative).Assembly, (name, _, _) =>
                name == Lib ? NativeLibrary.Load(path) : IntPtr.Zero);
            resolverSet = true;
        }
    }

    private static string? FindLoadedLibrary()
    {
        if (File.Exists("/proc/self/maps"))
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var idx = line.IndexOf('/', StringComparison.Ordinal);
                if (idx >= 0 && line.Contains("librdkafka", StringComparison.Ordinal))
                {
                    return line[idx..].Trim();
                }
            }
        }

        // Other platforms: fall back to the package's own native folder next to Confluent.Kafka.
        var dir = Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location);
        return dir is null ? null : Directory.EnumerateFiles(dir, "*rdkafka*", SearchOption.AllDirectories).FirstOrDefault();
    }

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mc);

    [LibraryImport(Lib)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mc);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_topic_create(IntPtr mc, string topic, int partitions, int replicationFactor);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_down(IntPtr mc, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_up(IntPtr mc, int brokerId);

    [LibraryImport(Lib)]
    internal static partial int rd_kafka_mock_broker_set_rtt(IntPtr mc, int brokerId, int rttMs);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_coordinator_set(IntPtr mc, string keyType, string key, int brokerId);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int rd_kafka_mock_partition_set_leader(IntPtr mc, string topic, int partition, int brokerId);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_push_request_errors_array(IntPtr mc, short apiKey, UIntPtr count, int[] errors);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_clear_request_errors(IntPtr mc, short apiKey);

    [LibraryImport(Lib)]
    internal static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mc, int delayMs);
}
