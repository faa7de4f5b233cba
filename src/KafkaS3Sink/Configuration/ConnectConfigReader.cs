using System.Globalization;

namespace KafkaS3Sink.Configuration;

/// <summary>
/// Reads keys from a flat connector config while remembering which keys were read (every other key is reported as
/// unknown) and collecting problems, each naming its key.
/// </summary>
internal sealed class ConnectConfigReader(IReadOnlyDictionary<string, string> config)
{
    /// <summary>The config being read.</summary>
    public IReadOnlyDictionary<string, string> Config => config;

    /// <summary>Problems found so far, each starting with the key it is about.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>The keys read so far (known to the sink).</summary>
    public HashSet<string> Known { get; } = new(StringComparer.Ordinal);

    /// <summary>The trimmed value of a key; null when absent. Marks the key as known.</summary>
    public string? Get(string key)
    {
        Known.Add(key);
        return config.TryGetValue(key, out var value) ? value.Trim() : null;
    }

    /// <summary>An integer key; null when absent or not an integer (then reported).</summary>
    public long? Long(string key)
    {
        var text = Get(key);
        if (text is null)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        Errors.Add($"{key}: '{text}' is not an integer.");
        return null;
    }

    /// <summary>A boolean key; null when absent or not true/false (then reported).</summary>
    public bool? Bool(string key)
    {
        var text = Get(key);
        if (text is null)
        {
            return null;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        Errors.Add($"{key}: '{text}' is not a boolean (true or false).");
        return null;
    }

    /// <summary>Reports <paramref name="value"/> when it is set and not one of <paramref name="supported"/>.</summary>
    public void Expect(string key, string? value, params string[] supported)
    {
        if (value is not null && !supported.Contains(value, StringComparer.Ordinal))
        {
            Errors.Add($"{key}: '{value}' is not supported (supported: {string.Join(", ", supported)}).");
        }
    }

    /// <summary>Reports every key of the config that was never read: unknown, or known but not supported.</summary>
    public void ReportUnread()
    {
        foreach (var key in config.Keys)
        {
            if (!Known.Contains(key))
            {
                Errors.Add($"{key}: unknown or unsupported setting.");
            }
        }
    }
}
