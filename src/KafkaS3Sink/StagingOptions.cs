namespace KafkaS3Sink;

/// <summary>How records are staged on local disk before upload.</summary>
public sealed class StagingOptions
{
    /// <summary>
    /// Folder where segments are staged. Default: <c>&lt;temp&gt;/kafkas3sink/&lt;sink name&gt;</c>. Each sink needs its own
    /// folder; its content is a cache that the sink clears when it starts.
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>
    /// Whether sealing a segment fsyncs it (on the upload's thread, before the segment is first read, not on
    /// the consumer thread). Default <see langword="false"/>: the staging folder is a cache that the sink clears
    /// when it starts, so after any crash the records are replayed from Kafka whether or not a segment reached
    /// the disk, and a segment is read back for its upload from the page cache. Without the fsync a segment
    /// deleted after its upload is often never written to the disk at all. Turn it on to have the kernel write
    /// every sealed segment before its upload (e.g. to keep dirty pages low on a small machine).
    /// </summary>
    public bool FsyncOnSeal { get; set; }

    /// <summary>
    /// Most segment files kept open at once (an LRU over open segments; an evicted segment is reopened to
    /// append). Handles cost kernel memory, not process memory. When records arrive round-robin over more
    /// open segments than handles, appends reopen files. The sink uses at most the process's open-file
    /// limit minus 512. Default 4,096.
    /// </summary>
    public int MaxOpenFileHandles { get; set; } = 4096;

    /// <summary>
    /// Most pooled write buffers at once (an LRU over segments with a handle; a segment without one borrows
    /// the least recently used, which is flushed first). Memory for staging is about this × <see cref="WriteBufferSize"/>.
    /// Default 1,024.
    /// </summary>
    public int MaxWriteBuffers { get; set; } = 1024;

    /// <summary>
    /// Size of each pooled write buffer when many segments are open, in bytes. Default 8 KiB. The buffers share a
    /// budget of <see cref="MaxWriteBuffers"/> × this (8 MiB by default): with fewer open segments each gets a larger
    /// share, up to 64 KiB (fewer write calls).
    /// </summary>
    public int WriteBufferSize { get; set; } = 8 * 1024;

    /// <summary>
    /// Most open segments (distinct topic-partition × path) at once. Beyond it, the topic-partition written least
    /// recently is rotated (all its open segments). Default 100,000.
    /// </summary>
    public int MaxOpenSegments { get; set; } = 100_000;

    /// <summary>
    /// High watermark of staged bytes (open and sealed segments, object files). Above it the sink pauses
    /// consumption (still polling), rotates to free space through uploads, and resumes below
    /// <see cref="ResumeStagedBytes"/>. Default 10 GiB.
    /// </summary>
    public long MaxStagedBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>Low watermark: consumption resumes once staged bytes fall below it. Default: 75 % of <see cref="MaxStagedBytes"/>.</summary>
    public long? ResumeStagedBytes { get; set; }

    /// <summary>
    /// Pause consumption while the staging volume has less free space than this, in bytes; 0 turns the check off.
    /// Default 512 MiB.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = 512L * 1024 * 1024;

    internal long EffectiveResumeStagedBytes => ResumeStagedBytes ?? MaxStagedBytes / 4 * 3;

    /// <summary><see cref="MaxOpenFileHandles"/>, kept 512 below the process's open-file limit so the sink cannot exhaust it.</summary>
    internal int EffectiveMaxOpenFileHandles => Math.Min(MaxOpenFileHandles, Math.Max(16, OpenFileLimit() - 512));

    private static int OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return soft == "unlimited" ? int.MaxValue : (int)Math.Min(int.MaxValue, long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            // Not Linux, or not readable: trust the setting.
        }

        return int.MaxValue;
    }

    internal void Validate(List<string> errors)
    {
        if (Directory is { Length: 0 })
        {
            errors.Add("Staging.Directory: must not be empty (leave it null for the default).");
        }

        if (MaxOpenFileHandles < 1)
        {
            errors.Add($"Staging.MaxOpenFileHandles: must be at least 1 (was {MaxOpenFileHandles}).");
        }

        if (MaxWriteBuffers < 1)
        {
            errors.Add($"Staging.MaxWriteBuffers: must be at least 1 (was {MaxWriteBuffers}).");
        }

        if (WriteBufferSize < 512)
        {
            errors.Add($"Staging.WriteBufferSize: must be at least 512 bytes (was {WriteBufferSize}).");
        }

        if (MaxOpenSegments < 1)
        {
            errors.Add($"Staging.MaxOpenSegments: must be at least 1 (was {MaxOpenSegments}).");
        }

        if (MaxStagedBytes < 1)
        {
            errors.Add($"Staging.MaxStagedBytes: must be positive (was {MaxStagedBytes}).");
        }

        if (ResumeStagedBytes is { } resume && (resume < 0 || resume >= MaxStagedBytes))
        {
            errors.Add($"Staging.ResumeStagedBytes: must be at least 0 and below Staging.MaxStagedBytes (was {resume}).");
        }

        if (MinFreeDiskBytes < 0)
        {
            errors.Add($"Staging.MinFreeDiskBytes: must not be negative (was {MinFreeDiskBytes}).");
        }
    }
}
