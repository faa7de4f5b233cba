using Confluent.Kafka;
using KafkaS3Sink.Errors;

namespace KafkaS3Sink.Internal;

/// <summary>A record ready to append: its partition path, what is staged, and its Avro writer schema (if any).</summary>
internal readonly record struct PreparedRecord(KafkaRecord Record, string Path, ReadOnlyMemory<byte> Payload, string? AvroSchema);

/// <summary>
/// The conversion stage of the per-record path: tombstones (<see cref="KafkaS3SinkOptions.NullValues"/>), the size
/// limit, value conversion, partitioning and path checks, and what is staged (raw bytes, envelope, Avro datum or
/// converted JSON). A record that fails any of them goes to the <see cref="RecordErrorPolicy"/>. Consumer thread only.
/// </summary>
internal sealed class RecordPreparer(KafkaS3SinkOptions options, IRecordConverter converter, IRecordConverter? keyConverter, IS3Partitioner partitioner, RecordErrorPolicy errors)
{
    private static readonly ReadOnlyMemory<byte> NullPayload = "null"u8.ToArray();
    private string? lastValidPath;

    /// <summary>Prepares a record; false when it is not written (an ignored tombstone, a skipped bad record). Throws when it stops the sink.</summary>
    public bool TryPrepare(PartitionState state, ConsumeResult<byte[], byte[]> result, out PreparedRecord prepared)
    {
        prepared = default;
        // result.Topic and .Partition, not result.TopicPartition: that property allocates a new object per call.
        var message = result.Message;
        var record = new KafkaRecord(
            result.Topic,
            result.Partition.Value,
            result.Offset.Value,
            message.Timestamp.Type == TimestampType.NotAvailable
                ? DateTimeOffset.UnixEpoch
                : DateTimeOffset.FromUnixTimeMilliseconds(message.Timestamp.UnixTimestampMs),

            // A null byte[] would convert to an empty ReadOnlyMemory, turning tombstones into empty values.
            message.Key is null ? null : (ReadOnlyMemory<byte>?)message.Key,
            message.Value is null ? null : (ReadOnlyMemory<byte>?)message.Value,
            ToHeaders(message.Headers));

        // Tombstones: behavior.on.null.values. Ignored records count as done: the next rotation commits past them.
        SinkRecord converted;
        if (record.Value is null)
        {
            switch (options.NullValues)
            {
                case NullValueBehavior.Ignore:
                    state.OnSkipped(record.Offset);
                    return false;
                case NullValueBehavior.Write:
                    converted = new SinkRecord(record, NullPayload, null);
                    break;
                default:
                    throw new RecordConversionException(record, "the value is null (a tombstone); set NullValues (behavior.on.null.values) to Ignore or Write to accept tombstones.");
            }
        }
        else if (options.Errors.MaxRecordBytes is { } max && (long)(message.Key?.Length ?? 0) + message.Value!.Length > max)
        {
            var size = (long)(message.Key?.Length ?? 0) + message.Value!.Length;
            errors.Handle(state, message, record, RecordErrorStage.Oversized, typeof(KafkaS3Sink), new RecordConversionException(record, $"the record is {size} bytes (key and value), more than Errors.MaxRecordBytes (max.record.bytes) = {max}."));
            return false;
        }
        else
        {
            try
            {
                converted = converter.Convert(record);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                errors.Handle(state, message, record, RecordErrorStage.ValueConverter, converter.GetType(), ex);
                return false;
            }
        }

        string path;
        try
        {
            path = partitioner.GetPartitionPath(converted);
            if (!ReferenceEquals(path, lastValidPath))
            {
                PathValidation.ThrowIfInvalid(path, record);
                lastValidPath = path;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            errors.Handle(state, message, record, RecordErrorStage.Partitioner, partitioner.GetType(), ex);
            return false;
        }

        // What is staged: the raw value (Bytes output), the value in its envelope, or the converted value.
        // Avro values keep their writer schema in Avro and Parquet files (one schema per segment).
        var avro = options.Format is OutputFormat.Avro or OutputFormat.Parquet && !options.WriteEnvelope ? converted.Avro : null;
        ReadOnlyMemory<byte> payload;
        if (options.WriteEnvelope)
        {
            ReadOnlyMemory<byte>? key;
            try
            {
                key = ConvertKey(record);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                errors.Handle(state, message, record, RecordErrorStage.KeyConverter, keyConverter!.GetType(), ex);
                return false;
            }

            payload = Formats.RecordEnvelope.Wrap(converted, key);
        }
        else
        {
            payload = options.Format == OutputFormat.Bytes ? record.Value ?? ReadOnlyMemory<byte>.Empty
                : avro is not null ? avro.Datum
                : converted.Payload;
        }

        prepared = new PreparedRecord(record, path, payload, avro?.Schema);
        return true;
    }

    /// <summary>The key as the key converter reads it; null without one or for a null key (the envelope's default encoding).</summary>
    private ReadOnlyMemory<byte>? ConvertKey(KafkaRecord record)
    {
        if (keyConverter is null || record.Key is null)
        {
            return null;
        }

        try
        {
            return keyConverter.Convert(new KafkaRecord(record.Topic, record.Partition, record.Offset, record.Timestamp, record.Key, record.Key, record.Headers)).Payload;
        }
        catch (RecordConversionException ex)
        {
            throw new RecordConversionException(record, $"the key cannot be read by the key converter ({ex.Message})", ex);
        }
    }

    private static KeyValuePair<string, byte[]>[] ToHeaders(Headers? headers)
    {
        if (headers is null || headers.Count == 0)
        {
            return [];
        }

        var list = new KeyValuePair<string, byte[]>[headers.Count];
        for (var i = 0; i < headers.Count; i++)
        {
            list[i] = new KeyValuePair<string, byte[]>(headers[i].Key, headers[i].GetValueBytes());
        }

        return list;
    }
}
