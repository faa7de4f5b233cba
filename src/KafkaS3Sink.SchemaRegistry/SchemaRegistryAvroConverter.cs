using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Avro;
using Schema = Avro.Schema;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;

namespace KafkaS3Sink.SchemaRegistry;

/// <summary>
/// Reads Avro values in the Confluent Schema Registry wire format (magic byte 0, 4-byte schema id, Avro
/// binary), fetching writer schemas from the registry (cached by the Confluent client). JSON lines get the
/// value as JSON; Avro and Parquet output get the Avro datum with its writer schema (<see cref="SinkRecord.Avro"/>),
/// so the files keep the producer's schema and types. Partitioners see the record as a <see cref="JsonElement"/>.
/// </summary>
/// <remarks>
/// Avro to JSON: records → objects, enums → their symbol, bytes and fixed → base64 strings, maps → objects,
/// unions → the chosen branch's value, decimals → strings (exact), timestamps and dates (logical types) →
/// ISO-8601 strings, UUIDs → strings.
/// </remarks>
public sealed class SchemaRegistryAvroConverter : IRecordConverter, IDisposable
{
    private readonly CachedSchemaRegistryClient registry;
    private readonly AvroDeserializer<GenericRecord> deserializer;

    /// <summary>One schema string per schema object (the deserializer caches schemas by id), so segments compare by reference.</summary>
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Schema, string> schemaTexts = new();

    /// <summary>Creates a converter for the registry at <paramref name="registryUrl"/>.</summary>
    /// <param name="registryUrl">The Schema Registry URL, e.g. <c>http://registry:8081</c>.</param>
    /// <param name="configure">More client settings (authentication, timeouts).</param>
    public SchemaRegistryAvroConverter(string registryUrl, Action<SchemaRegistryConfig>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(registryUrl);
        var config = new SchemaRegistryConfig { Url = registryUrl };
        configure?.Invoke(config);
        registry = new CachedSchemaRegistryClient(config);
        deserializer = new AvroDeserializer<GenericRecord>(registry);
    }

    /// <inheritdoc />
    public SinkRecord Convert(KafkaRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var value = record.Value ?? throw new RecordConversionException(record, "the value is null (a tombstone); the sink handles tombstones before conversion (NullValues).");
        if (value.Length < 5 || value.Span[0] != 0)
        {
            throw new RecordConversionException(record, "the value is not in the Schema Registry wire format (magic byte 0 and a 4-byte schema id).");
        }

        GenericRecord avro;
        try
        {
            var context = new SerializationContext(MessageComponentType.Value, record.Topic);
            avro = deserializer.DeserializeAsync(value, isNull: false, context).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(value.Span[1..5]);
            throw new RecordConversionException(record, $"the Avro value with schema id {id} cannot be read ({ex.Message}).", ex);
        }

        var payload = Formats.AvroJson.ToJson(avro, avro.Schema);
        var reader = new Utf8JsonReader(payload);
        return new SinkRecord(record, payload, JsonElement.ParseValue(ref reader))
        {
            // The datum after the 5-byte header, with its writer schema: Avro and Parquet output keep it.
            Avro = new AvroValue(schemaTexts.GetValue(avro.Schema, s => s.ToString()), value[5..]),
        };
    }

    /// <summary>Releases the registry client.</summary>
    public void Dispose() => registry.Dispose();
}
