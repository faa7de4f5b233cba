namespace KafkaS3Sink.Configuration;

/// <summary>The connector's output-format keys and its error-handling keys (<c>errors.*</c>, null values, record size).</summary>
public static partial class KafkaConnectConfig
{
    /// <summary>Reads <c>format.class</c>, its codecs and byte-array settings and <c>s3.compression.type</c>.</summary>
    private static Action<KafkaS3SinkOptions> ReadFormatKeys(ConnectConfigReader r)
    {
        var formatClass = r.Get("format.class");
        r.Expect("format.class", formatClass, "io.confluent.connect.s3.format.json.JsonFormat", "io.confluent.connect.s3.format.parquet.ParquetFormat", "io.confluent.connect.s3.format.bytearray.ByteArrayFormat", "io.confluent.connect.s3.format.avro.AvroFormat");
        var avroCodec = r.Get("avro.codec");
        r.Expect("avro.codec", avroCodec, "null", "deflate", "snappy", "zstandard");
        var bytesSeparator = r.Get("format.bytearray.separator");
        var bytesExtension = r.Get("format.bytearray.extension");
        var parquetCodec = r.Get("parquet.codec");
        r.Expect("parquet.codec", parquetCodec, "none", "snappy", "gzip", "zstd");
        var compression = r.Get("s3.compression.type");
        r.Expect("s3.compression.type", compression, "none", "gzip", "zstd");

        return o =>
        {
            if (formatClass == "io.confluent.connect.s3.format.bytearray.ByteArrayFormat")
            {
                o.Format = OutputFormat.Bytes;
                o.BytesSeparator = bytesSeparator is null ? o.BytesSeparator : System.Text.RegularExpressions.Regex.Unescape(bytesSeparator);
                o.BytesExtension = bytesExtension?.TrimStart('.') ?? o.BytesExtension;
            }

            var codec = compression;
            if (formatClass == "io.confluent.connect.s3.format.avro.AvroFormat")
            {
                o.Format = OutputFormat.Avro;
                codec = avroCodec switch
                {
                    "deflate" => "gzip",
                    "snappy" => "snappy",
                    "zstandard" => "zstd",
                    _ => "none",
                };
            }

            if (formatClass == "io.confluent.connect.s3.format.parquet.ParquetFormat")
            {
                o.Format = OutputFormat.Parquet;
                o.Compression = OutputCompression.Snappy; // Confluent's parquet.codec default
                codec = parquetCodec ?? "snappy";
            }

            o.Compression = codec switch
            {
                "gzip" => OutputCompression.Gzip,
                "zstd" => OutputCompression.Zstd,
                "snappy" => OutputCompression.Snappy,
                "none" => OutputCompression.None,
                _ => o.Compression,
            };
        };
    }

    /// <summary>Reads <c>errors.*</c>, <c>max.record.bytes</c> and <c>behavior.on.null.values</c>.</summary>
    private static Action<KafkaS3SinkOptions> ReadErrorKeys(ConnectConfigReader r)
    {
        var tolerance = r.Get("errors.tolerance")?.ToLowerInvariant();
        r.Expect("errors.tolerance", tolerance, "none", "all");
        var logErrors = r.Bool("errors.log.enable");
        var logMessages = r.Bool("errors.log.include.messages");
        var deadLetterTopic = r.Get("errors.deadletterqueue.topic.name");
        var deadLetterReplication = r.Long("errors.deadletterqueue.topic.replication.factor");
        var contextHeaders = r.Bool("errors.deadletterqueue.context.headers.enable");
        var maxRecordBytes = r.Long("max.record.bytes");
        var nullValues = r.Get("behavior.on.null.values");
        r.Expect("behavior.on.null.values", nullValues, "fail", "ignore", "write");

        return o =>
        {
            if (tolerance is "all" or "none")
            {
                o.Errors.Tolerance = tolerance == "all" ? ErrorTolerance.All : ErrorTolerance.None;
            }

            o.Errors.LogErrors = logErrors ?? o.Errors.LogErrors;
            o.Errors.LogIncludeMessages = logMessages ?? o.Errors.LogIncludeMessages;
            o.Errors.DeadLetterContextHeaders = contextHeaders ?? o.Errors.DeadLetterContextHeaders;

            // Kafka Connect treats an empty topic name as "no dead-letter topic".
            if (!string.IsNullOrEmpty(deadLetterTopic))
            {
                o.Errors.DeadLetterTopic = deadLetterTopic;
            }

            if (deadLetterReplication is { } rf)
            {
                o.Errors.DeadLetterTopicReplicationFactor = (short)Math.Clamp(rf, short.MinValue, short.MaxValue);
            }

            if (maxRecordBytes is { } mrb)
            {
                o.Errors.MaxRecordBytes = (int)Math.Clamp(mrb, int.MinValue, int.MaxValue);
            }

            o.NullValues = nullValues switch
            {
                "ignore" => NullValueBehavior.Ignore,
                "write" => NullValueBehavior.Write,
                "fail" => NullValueBehavior.Fail,
                _ => o.NullValues,
            };
        };
    }
}
