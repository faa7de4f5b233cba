namespace KafkaS3Sink;

/// <summary>
/// A record value in Avro binary encoding with its writer schema. A converter that reads Avro sets it on
/// <see cref="SinkRecord.Avro"/>; Avro and Parquet output then keep the producer's schema and types
/// instead of inferring them from the JSON payload.
/// </summary>
public sealed class AvroValue
{
    /// <summary>Creates an Avro value.</summary>
    /// <param name="schema">The writer schema as Avro JSON. Return the same string instance for the same schema: it is compared per record.</param>
    /// <param name="datum">The value encoded with <paramref name="schema"/> (Avro binary, no header).</param>
    public AvroValue(string schema, ReadOnlyMemory<byte> datum)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(schema);
        Schema = schema;
        Datum = datum;
    }

    /// <summary>The writer schema (Avro JSON).</summary>
    public string Schema { get; }

    /// <summary>The value in Avro binary encoding.</summary>
    public ReadOnlyMemory<byte> Datum { get; }
}
