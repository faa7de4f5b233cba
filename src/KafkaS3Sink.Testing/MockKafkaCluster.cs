using System.Runtime.InteropServices;
using System.Text;

namespace KafkaS3Sink.Testing;

/// <summary>
/// An in-process Kafka cluster that speaks the Kafka wire protocol on 127.0.0.1: librdkafka's
/// built-in mock cluster, driven through its C API. Any Kafka client (in this process or another)
/// can connect to <see cref="BootstrapServers"/>. Meant for tests and demos, not production.
/// </summary>
/// <remarks>
/// Limits inherited from librdkafka's mock: each partition keeps at most about 5 MiB or 100,000
/// message sets and silently drops older data; topics must be created with
/// <see cref="CreateTopic"/> (the admin API times out); auto-created topics get 4 partitions.
/// </remarks>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly object gate = new();
    private IntPtr handle;
    private IntPtr cluster;

    private MockKafkaCluster(IntPtr handle, IntPtr cluster, string bootstrapServers)
    {
        this.handle = handle;
        this.cluster = cluster;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>The brokers' addresses, e.g. <c>127.0.0.1:41234,127.0.0.1:41235</c>.</summary>
    public string BootstrapServers { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokerCount"/> brokers.</summary>
    /// <param name="brokerCount">Number of brokers (1 or more).</param>
    /// <returns>The running cluster; dispose it to stop it.</returns>
    public static MockKafkaCluster Start(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        RdKafkaNative.EnsureResolver();

        var conf = RdKafkaNative.rd_kafka_conf_new();
        var errBuf = new byte[512];
        // Keep the standalone handle quiet: it never connects anywhere.
        Set(conf, "log_level", "0", errBuf);
        var rk = RdKafkaNative.rd_kafka_new(0, conf, errBuf, (UIntPtr)errBuf.Length);
        if (rk == IntPtr.Zero)
        {
            throw new InvalidOperationException("rd_kafka_new failed: " + Decode(errBuf));
        }

        var mc = RdKafkaNative.rd_kafka_mock_cluster_new(rk, brokerCount);
        if (mc == IntPtr.Zero)
        {
            RdKafkaNative.rd_kafka_destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed.");
        }

        var bootstraps = Marshal.PtrToStringUTF8(RdKafkaNative.rd_kafka_mock_cluster_bootstraps(mc))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
        RdKafkaNative.rd_kafka_mock_group_initial_rebalance_delay_ms(mc, 0);
        return new MockKafkaCluster(rk, mc, bootstraps);
    }

    /// <summary>Creates a topic with the given number of partitions.</summary>
    /// <param name="topic">Topic name.</param>
    /// <param name="partitions">Number of partitions.</param>
    /// <param name="replicationFactor">Replication factor (at most the number of brokers).</param>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        Check(RdKafkaNative.rd_kafka_mock_topic_create(Cluster, topic, partitions, replicationFactor), $"create topic '{topic}'");
    }

    /// <summary>Takes a broker down (<c>-1</c>: all brokers). Clients see connection failures.</summary>
    /// <param name="brokerId">Broker id (1-based) or -1.</param>
    public void SetBrokerDown(int brokerId) => Check(RdKafkaNative.rd_kafka_mock_broker_set_down(Cluster, brokerId), "set broker down");

    /// <summary>Brings a broker back up (<c>-1</c>: all brokers).</summary>
    /// <param name="brokerId">Broker id (1-based) or -1.</param>
    public void SetBrokerUp(int brokerId) => Check(RdKafkaNative.rd_kafka_mock_broker_set_up(Cluster, brokerId), "set broker up");

    /// <summary>Adds a round-trip delay to every response of a broker.</summary>
    /// <param name="brokerId">Broker id (1-based) or -1.</param>
    /// <param name="rtt">The delay.</param>
    public void SetBrokerRoundTripTime(int brokerId, TimeSpan rtt)
        => Check(RdKafkaNative.rd_kafka_mock_broker_set_rtt(Cluster, brokerId, (int)rtt.TotalMilliseconds), "set rtt");

    /// <summary>Moves the coordinator of a consumer group to another broker.</summary>
    /// <param name="groupId">Consumer group id.</param>
    /// <param name="brokerId">Broker id (1-based).</param>
    public void SetGroupCoordinator(string groupId, int brokerId)
        => Check(RdKafkaNative.rd_kafka_mock_coordinator_set(Cluster, "group", groupId, brokerId), "set coordinator");

    /// <summary>Moves the leadership of a partition to another broker (clients must rediscover it).</summary>
    /// <param name="topic">Topic name.</param>
    /// <param name="partition">Partition number.</param>
    /// <param name="brokerId">Broker id (1-based).</param>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
        => Check(RdKafkaNative.rd_kafka_mock_partition_set_leader(Cluster, topic, partition, brokerId), "set partition leader");

    /// <summary>
    /// Makes the next requests with the given API key fail, one error per request, in order.
    /// </summary>
    /// <param name="apiKey">The Kafka protocol API key (e.g. 8 = OffsetCommit, 0 = Produce, 1 = Fetch).</param>
    /// <param name="errorCodes">Kafka protocol error codes (e.g. 27 = RebalanceInProgress).</param>
    public void PushRequestErrors(short apiKey, params int[] errorCodes)
    {
        ArgumentNullException.ThrowIfNull(errorCodes);
        RdKafkaNative.rd_kafka_mock_push_request_errors_array(Cluster, apiKey, (UIntPtr)errorCodes.Length, errorCodes);
    }

    /// <summary>Removes errors queued by <see cref="PushRequestErrors"/> for an API key.</summary>
    /// <param name="apiKey">The Kafka protocol API key.</param>
    public void ClearRequestErrors(short apiKey) => RdKafkaNative.rd_kafka_mock_clear_request_errors(Cluster, apiKey);

    /// <summary>Stops the cluster. Connected clients see the brokers disappear.</summary>
    public void Dispose()
    {
        lock (gate)
        {
            if (cluster != IntPtr.Zero)
            {
                RdKafkaNative.rd_kafka_mock_cluster_destroy(cluster);
                cluster = IntPtr.Zero;
            }

            if (handle != IntPtr.Zero)
            {
                RdKafkaNative.rd_kafka_destroy(handle);
                handle = IntPtr.Zero;
            }
        }
    }

    private IntPtr Cluster
    {
        get
        {
            lock (gate)
            {
                ObjectDisposedException.ThrowIf(cluster == IntPtr.Zero, this);
                return cluster;
            }
        }
    }

    private static void Set(IntPtr conf, string name, string value, byte[] errBuf)
    {
        if (RdKafkaNative.rd_kafka_conf_set(conf, name, value, errBuf, (UIntPtr)errBuf.Length) != 0)
        {
            throw new InvalidOperationException($"rd_kafka_conf_set({name}) failed: {Decode(errBuf)}");
        }
    }

    private static void Check(int err, string what)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"Mock cluster: {what} failed with librdkafka error {err}.");
        }
    }

    private static string Decode(byte[] buffer)
    {
        var end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }
}
