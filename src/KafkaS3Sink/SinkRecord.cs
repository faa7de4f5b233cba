namespace KafkaS3Sink;

/// <summary>
/// A converted record: what is staged (<see cref="Payload"/>) and, where the converter understands
/// the value, a structured view of it (<see cref="Value"/>) that partitioners can read.
/// </summary>
public sealed class SinkRecord
{
    private object? value;
    private Func<object?>? valueFactory;
    private bool lazyJson;
    private Converters.JsonFieldCapture? fields;
    private long fieldsVersion;

    /// <summary>Creates a converted record.</summary>
    /// <param name="source">The record as consumed.</param>
    /// <param name="payload">The bytes to stage and to write for this record (one JSON document for JSON output).</param>
    /// <param name="value">
    /// The structured value: a <see cref="System.Text.Json.JsonElement"/> for JSON, a <see cref="string"/>
    /// for strings, <see langword="null"/> where there is none.
    /// </param>
    public SinkRecord(KafkaRecord source, ReadOnlyMemory<byte> payload, object? value)
    {
        ArgumentNullException.ThrowIfNull(source);
        Source = source;
        Payload = payload;
        this.value = value;
    }

    /// <summary>Creates a converted record whose structured value is built only when first read (e.g. a parse that only field partitioners need).</summary>
    /// <param name="source">The record as consumed.</param>
    /// <param name="payload">The bytes to stage and to write for this record.</param>
    /// <param name="valueFactory">Builds the structured value (see <see cref="Value"/>); called at most once, on the sink's consumer thread.</param>
    /// <returns>The record.</returns>
    public static SinkRecord WithLazyValue(KafkaRecord source, ReadOnlyMemory<byte> payload, Func<object?> valueFactory)
    {
        ArgumentNullException.ThrowIfNull(valueFactory);
        return new SinkRecord(source, payload, null) { valueFactory = valueFactory };
    }

    /// <summary>A JSON record (validated) whose <see cref="Value"/> is parsed from the payload when first read, with the fields captured in the validating pass.</summary>
    internal static SinkRecord WithLazyJson(KafkaRecord source, ReadOnlyMemory<byte> payload, Converters.JsonFieldCapture? fields)
        => new SinkRecord(source, payload, null).SetLazyJson(source, payload, fields);

    /// <summary>
    /// Makes this instance the converted form of a record whose value is validated JSON, parsed when first read. The
    /// sink's own JSON converter also uses it to reuse one instance for every record when the partitioner is built in
    /// (nothing else may hold on to a <see cref="SinkRecord"/> it was given): no allocation per record.
    /// </summary>
    internal SinkRecord SetLazyJson(KafkaRecord source, ReadOnlyMemory<byte> payload, Converters.JsonFieldCapture? fields)
    {
        Source = source;
        Payload = payload;
        value = null;
        valueFactory = null;
        lazyJson = true;
        this.fields = fields;
        fieldsVersion = fields?.Version ?? 0;
        return this;
    }

    /// <summary>The fields captured when this record was converted, while they are still this record's (null otherwise).</summary>
    internal Converters.JsonFieldCapture? Fields => fields is not null && fields.Version == fieldsVersion ? fields : null;

    /// <summary>The record as consumed from Kafka.</summary>
    public KafkaRecord Source { get; private set; }

    /// <summary>The bytes staged and written for this record.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>
    /// The value in Avro binary with its writer schema, if the converter read Avro. With Avro or Parquet
    /// output (and no <see cref="KafkaS3SinkOptions.WriteEnvelope"/>) this is what is staged and written, so the
    /// files keep the producer's schema; <see cref="Payload"/> is used for every other format.
    /// </summary>
    public AvroValue? Avro { get; init; }

    /// <summary>The structured value, if the converter provides one.</summary>
    public object? Value
    {
        get
        {
            if (lazyJson)
            {
                value = Converters.JsonRecordConverter.Parse(Payload);
                lazyJson = false;
            }
            else if (valueFactory is not null)
            {
                value = valueFactory();
                valueFactory = null;
            }

            return value;
        }
    }
}
