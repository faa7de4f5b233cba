namespace KafkaS3Sink;

/// <summary>The base of every exception the sink throws.</summary>
public class KafkaS3SinkException : Exception
{
    /// <summary>Creates an exception.</summary>
    public KafkaS3SinkException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public KafkaS3SinkException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public KafkaS3SinkException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A record could not be converted. Carries where it came from and its raw bytes.</summary>
public class RecordConversionException : KafkaS3SinkException
{
    /// <summary>Creates an exception.</summary>
    public RecordConversionException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">Why the record could not be converted.</param>
    public RecordConversionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">Why the record could not be converted.</param>
    /// <param name="innerException">The cause.</param>
    public RecordConversionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a record.</summary>
    /// <param name="record">The record.</param>
    /// <param name="reason">Why it could not be converted.</param>
    /// <param name="innerException">The cause.</param>
    public RecordConversionException(KafkaRecord record, string reason, Exception? innerException = null)
        : base($"Cannot convert record {record?.ToString()}: {reason}", innerException)
    {
        Record = record;
    }

    /// <summary>The record (topic, partition, offset, raw key, value and headers), when known.</summary>
    public KafkaRecord? Record { get; internal init; }
}

/// <summary>A record could not be partitioned (e.g. a missing field or an unparsable timestamp).</summary>
public class RecordPartitioningException : KafkaS3SinkException
{
    /// <summary>Creates an exception.</summary>
    public RecordPartitioningException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">Why the record could not be partitioned.</param>
    public RecordPartitioningException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    /// <param name="message">Why the record could not be partitioned.</param>
    /// <param name="innerException">The cause.</param>
    public RecordPartitioningException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a record.</summary>
    /// <param name="record">The record.</param>
    /// <param name="reason">Why it could not be partitioned.</param>
    /// <param name="innerException">The cause.</param>
    public RecordPartitioningException(KafkaRecord record, string reason, Exception? innerException = null)
        : base($"Cannot partition record {record?.ToString()}: {reason}", innerException)
    {
        Record = record;
    }

    /// <summary>The record, when known.</summary>
    public KafkaRecord? Record { get; internal init; }
}
