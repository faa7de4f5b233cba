using System.Text.Json;
using KafkaS3Sink.Converters;

namespace KafkaS3Sink.Partitioning;

/// <summary>
/// Path segments by the raw UTF-8 of a field's JSON value, looked up from a span without allocating. The raw
/// form decides the segment (a string's escapes are part of the key), so any two equal keys have one segment.
/// Bounded: cleared when full.
/// </summary>
internal sealed class RawValueCache
{
    private const int MaxEntries = 16_384;
    private readonly Dictionary<byte[], string> map = new(ByteSpanComparer.Instance);
    private readonly Dictionary<byte[], string>.AlternateLookup<ReadOnlySpan<byte>> lookup;

    public RawValueCache() => lookup = map.GetAlternateLookup<ReadOnlySpan<byte>>();

    public bool TryGet(ReadOnlySpan<byte> raw, out string segment) => lookup.TryGetValue(raw, out segment!);

    public void Add(ReadOnlySpan<byte> raw, string segment)
    {
        if (map.Count >= MaxEntries)
        {
            map.Clear();
        }

        lookup[raw] = segment;
    }

    private sealed class ByteSpanComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteSpanComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}

/// <summary>Finds a partitioner's field in a record's <see cref="JsonFieldCapture"/> (the index is looked up once per capture).</summary>
internal struct CapturedField(string[] path)
{
    private JsonFieldCapture? capture;
    private int index;

    /// <summary>
    /// The field's token type and raw UTF-8 in this record's capture (see <see cref="JsonFieldCapture.Get"/>);
    /// <see cref="JsonTokenType.None"/> when there is none to read, with <paramref name="at"/> -1 when there is no capture of it at all.
    /// </summary>
    public JsonTokenType Find(SinkRecord record, out JsonFieldCapture fields, out int at, out ReadOnlySpan<byte> raw)
    {
        fields = record.Fields!;
        at = -1;
        raw = default;
        if (fields is null)
        {
            return JsonTokenType.None;
        }

        if (!ReferenceEquals(fields, capture))
        {
            capture = fields;
            index = fields.IndexOf(path);
        }

        at = index;
        return at < 0 ? JsonTokenType.None : fields.Get(at, out raw);
    }
}
