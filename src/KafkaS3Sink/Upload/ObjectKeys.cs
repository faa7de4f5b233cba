using System.Globalization;

namespace KafkaS3Sink.Upload;

/// <summary>
/// Deterministic object keys, Confluent's default layout:
/// <c>&lt;topics.dir&gt;/&lt;topic&gt;/&lt;encoded path&gt;/&lt;topic&gt;+&lt;partition&gt;+&lt;start offset, 10 digits&gt;.&lt;ext&gt;</c>.
/// No clock, counter or random id takes part, so a replay overwrites the same keys.
/// </summary>
internal static class ObjectKeys
{
    public static string For(string topicsDir, SegmentDescriptor d, string extension, int offsetPadWidth = 10)
    {
        var prefix = string.IsNullOrEmpty(topicsDir) ? string.Empty : topicsDir + "/";
        var path = string.IsNullOrEmpty(d.PartitionPath) ? string.Empty : d.PartitionPath + "/";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{prefix}{d.Topic}/{path}{d.Topic}+{d.Partition}+{d.StartOffset.ToString("D" + offsetPadWidth, CultureInfo.InvariantCulture)}.{extension}");
    }
}
