using System.Collections.Concurrent;

namespace KafkaS3Sink.Resilience;

/// <summary>
/// The operations that are failing right now and being retried (S3 requests, the partition leases),
/// with when they started failing and the last error: what status and health report.
/// Written from upload threads and the consumer thread, read by status callers.
/// </summary>
internal sealed class FaultRegistry
{
    private readonly ConcurrentDictionary<long, ActiveFault> active = new();
    private long nextId;
    private string? lastError;

    /// <summary>The last transient error seen, even if it has cleared since.</summary>
    public string? LastError => Volatile.Read(ref lastError);

    /// <summary>Starts tracking a failing operation; dispose the returned handle when it succeeds or ends.</summary>
    public ActiveFault Begin(string what, string? partition, DateTimeOffset since, string error)
    {
        var fault = new ActiveFault(this, Interlocked.Increment(ref nextId), what, partition, since, error);
        active[fault.Id] = fault;
        Volatile.Write(ref lastError, error);
        return fault;
    }

    /// <summary>Every failing operation, oldest first, as <c>what (partition) since …: error</c>.</summary>
    public IReadOnlyList<FaultSnapshot> Snapshot() =>
        [.. active.Values.OrderBy(f => f.Since).Select(f => new FaultSnapshot(f.What, f.Partition, f.Since, f.Attempts, f.Error))];

    internal void Update(string error) => Volatile.Write(ref lastError, error);

    internal void End(ActiveFault fault) => active.TryRemove(fault.Id, out _);
}

/// <summary>One failing operation being retried.</summary>
internal sealed class ActiveFault(FaultRegistry owner, long id, string what, string? partition, DateTimeOffset since, string error) : IDisposable
{
    private string error = error;
    private int attempts = 1;

    public long Id { get; } = id;

    public string What { get; } = what;

    public string? Partition { get; } = partition;

    public DateTimeOffset Since { get; } = since;

    public int Attempts => Volatile.Read(ref attempts);

    public string Error => Volatile.Read(ref error);

    public void Failed(string latest)
    {
        Interlocked.Increment(ref attempts);
        Volatile.Write(ref error, latest);
        owner.Update(latest);
    }

    public void Dispose() => owner.End(this);
}

/// <summary>A failing operation as status reports it.</summary>
internal readonly record struct FaultSnapshot(string What, string? Partition, DateTimeOffset Since, int Attempts, string Error);
