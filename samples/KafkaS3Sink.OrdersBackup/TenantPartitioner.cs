using System.Text.Json;
using KafkaS3Sink;
using KafkaS3Sink.Partitioning;

namespace OrdersBackup;

/// <summary>
/// A custom partition part: the tenant of an order, lower-cased, from <c>order.tenant</c>, or from the
/// <c>tenant</c> header when the value has none; <c>tenant=unknown</c> when neither is there. Values that come
/// from records are encoded with <see cref="S3KeyEncoding.EncodeSegment"/>, so no tenant can escape the prefix.
/// </summary>
public sealed class TenantPartitioner : IS3Partitioner
{
    /// <inheritdoc />
    public string GetPartitionPath(SinkRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var tenant = record.Value is JsonElement { ValueKind: JsonValueKind.Object } value
            && value.TryGetProperty("order", out var order) && order.ValueKind == JsonValueKind.Object
            && order.TryGetProperty("tenant", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()
            : Header(record, "tenant");
        return "tenant=" + S3KeyEncoding.EncodeSegment(string.IsNullOrWhiteSpace(tenant) ? "unknown" : tenant.Trim().ToLowerInvariant());
    }

    private static string? Header(SinkRecord record, string name)
    {
        foreach (var (key, bytes) in record.Source.Headers)
        {
            if (key == name)
            {
                return System.Text.Encoding.UTF8.GetString(bytes);
            }
        }

        return null;
    }
}
