using System.Globalization;
using System.Text;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// Record i: partition i % P, and field "shard" = (i / P) % (N / P), so each partition cycles through
/// N / P values and N output files are open at once. Padded to the record size.
/// </summary>
internal static class Records
{
    public static byte[] Build(long id, HarnessOptions o)
    {
        var perPartition = o.OpenFiles / o.Partitions;
        var shard = id / o.Partitions % perPartition;
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"id\":{id},\"shard\":{shard},\"pad\":\"");
        var padLength = Math.Max(0, o.RecordSize - head.Length - 2);
        return Encoding.ASCII.GetBytes(head + new string('x', padLength) + "\"}");
    }

    /// <summary>Reads the id of a line without parsing the whole document.</summary>
    public static long ParseId(ReadOnlySpan<byte> line)
    {
        var start = line.IndexOf("\"id\":"u8) + 5;
        var end = start;
        while (end < line.Length && line[end] is >= (byte)'0' and <= (byte)'9')
        {
            end++;
        }

        return long.Parse(Encoding.ASCII.GetString(line[start..end]), CultureInfo.InvariantCulture);
    }
}
