namespace KafkaS3Sink;

/// <summary>
/// Turns a consumed record into what the sink stages and partitions (the first pipeline stage).
/// Implementations must be thread-safe for a single caller at a time and should not keep the
/// record after <see cref="Convert"/> returns.
/// </summary>
public interface IRecordConverter
{
    /// <summary>Converts a record.</summary>
    /// <param name="record">The record as consumed.</param>
    /// <returns>The converted record.</returns>
    /// <exception cref="RecordConversionException">The record cannot be converted; the sink applies its error policy.</exception>
    SinkRecord Convert(KafkaRecord record);
}
