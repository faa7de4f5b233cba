using System.Text;

namespace KafkaS3Sink.Internal;

/// <summary>Checks what a (possibly custom) partitioner returned before it becomes part of a key.</summary>
internal static class PathValidation
{
    /// <summary>Room left in a 1,024-byte key for the prefix and file name; paths longer than this are rejected.</summary>
    public const int MaxPathBytes = 512;

    public static void ThrowIfInvalid(string path, KafkaRecord record)
    {
        if (path is null)
        {
            throw new RecordPartitioningException(record, "the partitioner returned null.");
        }

        if (path.Length == 0)
        {
            return;
        }

        if (path[0] == '/' || path[^1] == '/')
        {
            throw new RecordPartitioningException(record, $"partition path '{path}' starts or ends with '/'.");
        }

        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment is "." or "..")
            {
                throw new RecordPartitioningException(record, $"partition path '{path}' has an empty, '.' or '..' segment; encode values with S3KeyEncoding.");
            }
        }

        foreach (var c in path)
        {
            if (char.IsControl(c) || c == '\\')
            {
                throw new RecordPartitioningException(record, $"partition path '{path}' contains a control character or backslash; encode values with S3KeyEncoding.");
            }
        }

        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw new RecordPartitioningException(record, $"partition path is longer than {MaxPathBytes} UTF-8 bytes (S3 keys are limited to 1,024).");
        }
    }
}
