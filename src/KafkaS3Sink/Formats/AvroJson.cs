using System.Globalization;
using System.Text.Json;
using Avro;
using Avro.Generic;

namespace KafkaS3Sink.Formats;

/// <summary>
/// Avro values (as Apache.Avro's generic reader returns them) to JSON: records → objects, enums → their
/// symbol, bytes and fixed → base64 strings, maps → objects, unions → the chosen branch's value, decimals →
/// strings (exact), timestamps and dates (logical types) → ISO-8601 strings, UUIDs → strings.
/// </summary>
internal static class AvroJson
{
    public static byte[] ToJson(object? value, Schema schema)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, value, schema);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter writer, object? value, Schema schema)
    {
        switch (schema)
        {
            case UnionSchema union:
                Write(writer, value, value is null ? union.Schemas.First(s => s.Tag == Schema.Type.Null) : Branch(union, value));
                return;
            case RecordSchema recordSchema:
                var record = (GenericRecord)value!;
                writer.WriteStartObject();
                foreach (var field in recordSchema.Fields)
                {
                    writer.WritePropertyName(field.Name);
                    Write(writer, record.GetValue(field.Pos), field.Schema);
                }

                writer.WriteEndObject();
                return;
            case ArraySchema array:
                writer.WriteStartArray();
                foreach (var item in (System.Collections.IEnumerable)value!)
                {
                    Write(writer, item, array.ItemSchema);
                }

                writer.WriteEndArray();
                return;
            case MapSchema map:
                writer.WriteStartObject();
                foreach (var (key, item) in (IDictionary<string, object>)value!)
                {
                    writer.WritePropertyName(key);
                    Write(writer, item, map.ValueSchema);
                }

                writer.WriteEndObject();
                return;
        }

        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case GenericEnum e:
                writer.WriteStringValue(e.Value);
                break;
            case GenericFixed f:
                writer.WriteBase64StringValue(f.Value);
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case int i:
                writer.WriteNumberValue(i);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case float x when float.IsFinite(x):
                writer.WriteNumberValue(x);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case DateTime dt:
                writer.WriteStringValue(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime());
                break;
            case AvroDecimal dec:
                writer.WriteStringValue(dec.ToString());
                break;
            case IFormattable formattable:
                writer.WriteStringValue(formattable.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                writer.WriteStringValue(value.ToString());
                break;
        }
    }

    private static Schema Branch(UnionSchema union, object value)
    {
        foreach (var candidate in union.Schemas)
        {
            var matches = candidate switch
            {
                RecordSchema r => value is GenericRecord g && g.Schema.Fullname == r.Fullname,
                EnumSchema e => value is GenericEnum ge && ge.Schema.Fullname == e.Fullname,
                FixedSchema f => value is GenericFixed gf && gf.Schema.Fullname == f.Fullname,
                ArraySchema => value is System.Collections.IList,
                MapSchema => value is IDictionary<string, object>,
                PrimitiveSchema p => p.Tag switch
                {
                    Schema.Type.String => value is string,
                    Schema.Type.Boolean => value is bool,
                    Schema.Type.Int => value is int,
                    Schema.Type.Long => value is long,
                    Schema.Type.Float => value is float,
                    Schema.Type.Double => value is double,
                    Schema.Type.Bytes => value is byte[],
                    _ => false,
                },
                LogicalSchema => true,
                _ => false,
            };
            if (matches)
            {
                return candidate;
            }
        }

        return union.Schemas.First(s => s.Tag != Schema.Type.Null);
    }
}
