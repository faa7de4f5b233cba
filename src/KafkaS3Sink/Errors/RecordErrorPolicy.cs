using System.Text;
using Confluent.Kafka;
using KafkaS3Sink.Internal;
using KafkaS3Sink.Resilience;
using Microsoft.Extensions.Logging;

namespace KafkaS3Sink.Errors;

/// <summary>Where in the per-record path a record was rejected, with Kafka Connect's stage name and the metric's reason tag.</summary>
internal enum RecordErrorStage
{
    /// <summary>The value converter rejected the value (<c>VALUE_CONVERTER</c>, reason <c>conversion</c>).</summary>
    ValueConverter,

    /// <summary>The key converter rejected the key (<c>KEY_CONVERTER</c>, reason <c>key-conversion</c>).</summary>
    KeyConverter,

    /// <summary>The partitioner could not place the record, or its path is invalid (<c>TASK_PUT</c>, reason <c>partitioning</c>).</summary>
    Partitioner,

    /// <summary>The record is larger than <see cref="ErrorOptions.MaxRecordBytes"/> (<c>TASK_PUT</c>, reason <c>oversized</c>).</summary>
    Oversized,
}

/// <summary>
/// Applies <see cref="ErrorOptions"/> to a record the sink cannot write: with <see cref="ErrorTolerance.None"/> it
/// stops the sink naming the record, the stage, the reason and the setting; with <see cref="ErrorTolerance.All"/> it
/// skips the record (its offset is committed with the rotation around it), counts and logs it, and hands it to
/// the dead-letter topic when one is set. Consumer thread only. The decision is a function of the record and
/// the settings, so a replay decides the same way and writes the same keys.
/// </summary>
internal sealed class RecordErrorPolicy(ErrorOptions options, DeadLetterQueue? deadLetters, SinkMetrics metrics, SinkControl control, LogThrottle throttle, ILogger logger)
{
    private const int MaxLoggedChars = 2_000;

    /// <summary>Kafka Connect's name for a stage (the <c>__connect.errors.stage</c> header).</summary>
    public static string StageName(RecordErrorStage stage) => stage switch
    {
        RecordErrorStage.ValueConverter => "VALUE_CONVERTER",
        RecordErrorStage.KeyConverter => "KEY_CONVERTER",
        _ => "TASK_PUT",
    };

    /// <summary>The <c>reason</c> tag of <c>kafkas3sink.records.skipped</c> and <c>.deadlettered</c>.</summary>
    public static string Reason(RecordErrorStage stage) => stage switch
    {
        RecordErrorStage.ValueConverter => "conversion",
        RecordErrorStage.KeyConverter => "key-conversion",
        RecordErrorStage.Partitioner => "partitioning",
        _ => "oversized",
    };

    /// <summary>
    /// A record failed at <paramref name="stage"/> in <paramref name="executing"/> (converter or partitioner):
    /// throws with <see cref="ErrorTolerance.None"/>; otherwise skips it (and dead-letters it).
    /// </summary>
    public void Handle(PartitionState state, Message<byte[], byte[]> message, KafkaRecord record, RecordErrorStage stage, Type executing, Exception exception)
    {
        var error = Explain(record, stage, executing, exception);
        if (options.Tolerance == ErrorTolerance.None)
        {
            // The same exception type (callers catch RecordConversionException / RecordPartitioningException), with the way out.
            var stopped = $"{error.Message} Errors.Tolerance is None (errors.tolerance=none), so a bad record stops the sink and a restart stops at it again: "
                + "set Errors.Tolerance = All (errors.tolerance=all) to skip such records, with Errors.DeadLetterTopic (errors.deadletterqueue.topic.name) to keep them.";
            throw error is RecordPartitioningException
                ? new RecordPartitioningException(stopped, error) { Record = record }
                : new RecordConversionException(stopped, error) { Record = record };
        }

        state.OnSkipped(record.Offset);
        var reason = Reason(stage);
        metrics.RecordSkipped(reason);
        control.RecordError(state.Name, $"offset {record.Offset} ({reason}, {(deadLetters is null ? "skipped" : "dead-lettered")}): {error.Message}");
        deadLetters?.Send(state, message, record, stage, executing, error);
        if (options.LogErrors)
        {
            Log.BadRecord(logger, error, record.ToString(), StageName(stage), executing.FullName ?? executing.Name, deadLetters is null ? "skipped" : "sent to the dead-letter topic", options.LogIncludeMessages ? Describe(record) : string.Empty);
        }
        else if (throttle.ShouldLog("bad record", out var suppressed))
        {
            Log.BadRecordsSkipped(logger, error.Message, suppressed, deadLetters is null ? "skipped" : "sent to the dead-letter topic");
        }
    }

    /// <summary>The exception reported for a record: the sink's own record exceptions as they are, anything else wrapped, naming the record and the class that threw.</summary>
    internal static KafkaS3SinkException Explain(KafkaRecord record, RecordErrorStage stage, Type executing, Exception exception) => exception switch
    {
        RecordConversionException or RecordPartitioningException => (KafkaS3SinkException)exception,
        _ when stage is RecordErrorStage.Partitioner => new RecordPartitioningException(record, $"{executing.Name} threw {exception.GetType().Name}: {exception.Message}", exception),
        _ => new RecordConversionException(record, $"{executing.Name} threw {exception.GetType().Name}: {exception.Message}", exception),
    };

    private static string Describe(KafkaRecord record)
    {
        var text = new StringBuilder(" Key: ").Append(Printable(record.Key)).Append("; value: ").Append(Printable(record.Value)).Append("; headers: ");
        foreach (var (name, value) in record.Headers)
        {
            text.Append(name).Append('=').Append(Printable(value)).Append(' ');
        }

        return text.Length > MaxLoggedChars ? text.ToString(0, MaxLoggedChars) + "…" : text.ToString();
    }

    private static string Printable(ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } b)
        {
            return "null";
        }

        var span = b.Length > MaxLoggedChars ? b.Span[..MaxLoggedChars] : b.Span;
        return System.Text.Unicode.Utf8.IsValid(span) && !span.ContainsAnyInRange((byte)0, (byte)8)
            ? Encoding.UTF8.GetString(span)
            : "base64:" + Convert.ToBase64String(span);
    }
}
