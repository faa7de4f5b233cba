using System.Globalization;
using System.Text.Json;

namespace KafkaS3Sink.Partitioning;

/// <summary>Reads (nested) fields of a converted record's structured value, schemaless.</summary>
internal static class RecordFields
{
    /// <summary>
    /// Looks up a dotted path in a <see cref="JsonElement"/> or in nested
    /// <see cref="IReadOnlyDictionary{TKey, TValue}"/> values (what a structured converter provides).
    /// </summary>
    /// <returns>The reason the lookup failed, or null with <paramref name="text"/> set to the scalar's text.</returns>
    public static string? TryGetScalar(object? value, string[] path, out string text, out bool isNull)
    {
        text = string.Empty;
        isNull = false;
        var current = value;
        for (var i = 0; i < path.Length; i++)
        {
            switch (current)
            {
                case JsonElement { ValueKind: JsonValueKind.Object } element:
                    if (!element.TryGetProperty(path[i], out var child))
                    {
                        return $"field '{string.Join('.', path[..(i + 1)])}' is missing";
                    }

                    current = child;
                    break;
                case IReadOnlyDictionary<string, object?> map:
                    if (!map.TryGetValue(path[i], out var next))
                    {
                        return $"field '{string.Join('.', path[..(i + 1)])}' is missing";
                    }

                    current = next;
                    break;
                case null or JsonElement { ValueKind: JsonValueKind.Null } when i > 0:
                    return $"field '{string.Join('.', path[..i])}' is null, so '{string.Join('.', path)}' is missing";
                case JsonElement other:
                    return i == 0
                        ? $"the record value is a JSON {other.ValueKind.ToString().ToLowerInvariant()}, not an object with field '{path[0]}'"
                        : $"field '{string.Join('.', path[..i])}' is a JSON {other.ValueKind.ToString().ToLowerInvariant()}, not an object, so '{string.Join('.', path)}' is missing";
                default:
                    return i == 0
                        ? "the record value is not structured (use a JSON or structured converter)"
                        : $"field '{string.Join('.', path[..i])}' is not an object, so '{string.Join('.', path)}' is missing";
            }
        }

        switch (current)
        {
            case JsonElement e:
                switch (e.ValueKind)
                {
                    case JsonValueKind.String:
                        text = e.GetString()!;
                        return null;
                    case JsonValueKind.Number:
                        text = e.GetRawText();
                        return null;
                    case JsonValueKind.True:
                        text = "true";
                        return null;
                    case JsonValueKind.False:
                        text = "false";
                        return null;
                    case JsonValueKind.Null:
                        isNull = true;
                        return null;
                    default:
                        return $"field '{string.Join('.', path)}' is a JSON {e.ValueKind.ToString().ToLowerInvariant()}, not a scalar";
                }

            case null:
                isNull = true;
                return null;
            case string s:
                text = s;
                return null;
            case bool b:
                text = b ? "true" : "false";
                return null;
            case IFormattable f when current is not DateTime and not DateTimeOffset:
                text = f.ToString(null, CultureInfo.InvariantCulture);
                return null;
            case DateTimeOffset dto:
                text = dto.ToString("O", CultureInfo.InvariantCulture);
                return null;
            default:
                return $"field '{string.Join('.', path)}' is a {current.GetType().Name}, not a scalar";
        }
    }
}
