using KafkaS3Sink.Converters;
using KafkaS3Sink.Internal;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Asks a partitioner for a record's path the way a sink does — convert, partition, check the path — so a
/// layout can be unit-tested without Kafka or S3 (see docs/partitioning.md).
/// </summary>
public static class PartitionPaths
{
    /// <summary>The partition path the sink would write <paramref name="record"/> under (between <c>&lt;topics.dir&gt;/&lt;topic&gt;/</c> and the file name).</summary>
    /// <param name="partitioner">The partitioner, e.g. from <see cref="S3PartitionerBuilder.Build"/>.</param>
    /// <param name="record">The record as consumed.</param>
    /// <param name="converter">The value converter; schemaless JSON (<see cref="RecordConverters.Json"/>) when null.</param>
    /// <returns>The path.</returns>
    /// <exception cref="RecordConversionException">The converter rejects the value.</exception>
    /// <exception cref="RecordPartitioningException">The partitioner cannot place the record, or the path is not one the sink writes.</exception>
    public static string Of(IS3Partitioner partitioner, KafkaRecord record, IRecordConverter? converter = null)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        ArgumentNullException.ThrowIfNull(record);
        var path = partitioner.GetPartitionPath((converter ?? RecordConverters.Json()).Convert(record));
        PathValidation.ThrowIfInvalid(path, record);
        return path;
    }

    /// <summary>The partition path of <paramref name="record"/> under a layout built with <paramref name="layout"/>.</summary>
    /// <param name="layout">The parts, as passed to <c>KafkaS3SinkBuilder.UsePartitioner</c>.</param>
    /// <param name="record">The record as consumed.</param>
    /// <param name="converter">The value converter; schemaless JSON when null.</param>
    /// <returns>The path.</returns>
    public static string Of(Action<S3PartitionerBuilder> layout, KafkaRecord record, IRecordConverter? converter = null)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var builder = new S3PartitionerBuilder();
        layout(builder);
        return Of(builder.Build(), record, converter);
    }
}
