using Amazon.S3;
using KafkaS3Sink.Buffering;
using KafkaS3Sink.Converters;
using KafkaS3Sink.Partitioning;
using KafkaS3Sink.Rotation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KafkaS3Sink;

/// <summary>
/// Composes a sink from options and the pipeline's pluggable stages. Every <c>Use…</c> call
/// replaces the stage's default; <see cref="Build"/> validates everything at once.
/// </summary>
/// <example>
/// <code>
/// var sink = new KafkaS3SinkBuilder()
///     .Configure(o =>
///     {
///         o.BootstrapServers = "localhost:9092";
///         o.GroupId = "orders-backup";
///         o.Topics.Add("orders");
///         o.S3.BucketName = "backups";
///     })
///     .UseTimeBasedPartitioner(t => t.TimestampSource = TimestampSource.RecordField, t.TimestampField = "createdAt")
///     .Build();
/// await sink.RunAsync(stoppingToken);
/// </code>
/// </example>
public sealed class KafkaS3SinkBuilder
{
    private readonly List<Action<KafkaS3SinkOptions>> configureActions = [];
    private Func<IRecordConverter>? converterFactory;
    private IRecordConverter? keyConverter;
    private Func<TimeProvider, IS3Partitioner>? partitionerFactory;
    private IRotationPolicy? rotationPolicy;
    private Func<KafkaS3SinkOptions, ISegmentBuffer>? bufferFactory;
    private IAmazonS3? s3Client;
    private TimeProvider timeProvider = TimeProvider.System;
    private ILoggerFactory loggerFactory = NullLoggerFactory.Instance;
    private TimeSpan drainTimeout = TimeSpan.FromSeconds(20);
    private readonly List<string> configurationErrors = [];

    /// <summary>Adds a change to the sink's options; changes apply in order.</summary>
    /// <param name="configure">The change.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder Configure(Action<KafkaS3SinkOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configureActions.Add(configure);
        return this;
    }

    /// <summary>
    /// Applies a Confluent S3 sink connector config (e.g. from <see cref="Configuration.KafkaConnectConfig.Parse"/>):
    /// <c>topics</c>, <c>flush.size</c>, <c>rotate.*</c>, <c>partitioner.class</c> and its settings, <c>s3.*</c>,
    /// <c>topics.dir</c>, credentials. Unknown or unsupported keys are reported by <see cref="Build"/>, each by name.
    /// The Kafka bootstrap servers are not part of a connector config: set them with <see cref="Configure"/>.
    /// </summary>
    /// <param name="config">The flat connector config.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseKafkaConnectConfig(IReadOnlyDictionary<string, string> config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Configuration.KafkaConnectConfig.Apply(this, config);
    }

    /// <summary>
    /// Binds the options from configuration (e.g. an appsettings.json section): property names as in
    /// <see cref="KafkaS3SinkOptions"/> (<c>BootstrapServers</c>, <c>Topics:0</c>, <c>S3:BucketName</c>,
    /// <c>Staging:MaxStagedBytes</c>, durations as <c>00:01:00</c>). A key that matches no option is reported by
    /// <see cref="Build"/>, named.
    /// </summary>
    /// <param name="configuration">The sink's configuration section.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder BindConfiguration(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Configure(o =>
        {
            // Bind everything known, then find unknown keys on a scratch instance (the binder stops at the first).
            Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, o);
            try
            {
                Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, new KafkaS3SinkOptions(), b => b.ErrorOnUnknownConfiguration = true);
            }
            catch (InvalidOperationException ex)
            {
                var section = configuration is Microsoft.Extensions.Configuration.IConfigurationSection s ? s.Path : "(configuration)";
                configurationErrors.Add($"{section}: {ex.Message}");
            }
        });
    }

    /// <summary>Sets the value converter (e.g. one of <see cref="RecordConverters"/>, or your own). Default: per <see cref="KafkaS3SinkOptions.ValueConverter"/>, schemaless JSON.</summary>
    /// <param name="converter">The converter.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseConverter(IRecordConverter converter)
    {
        ArgumentNullException.ThrowIfNull(converter);
        converterFactory = () => converter;
        return this;
    }

    /// <summary>
    /// Sets the key converter (Kafka Connect's <c>key.converter</c>): with <see cref="KafkaS3SinkOptions.WriteEnvelope"/>
    /// the envelope's <c>key</c> is the key converted like a value (the converter reads <see cref="KafkaRecord.Value"/>,
    /// which holds the key). Default: <see cref="KafkaS3SinkOptions.KeyConverter"/>.
    /// </summary>
    /// <param name="converter">The key converter.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseKeyConverter(IRecordConverter converter)
    {
        ArgumentNullException.ThrowIfNull(converter);
        keyConverter = converter;
        return this;
    }

    /// <summary>Sets the partitioner. Default: <c>partition=&lt;kafka partition&gt;</c>.</summary>
    /// <param name="partitioner">The partitioner.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UsePartitioner(IS3Partitioner partitioner)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        partitionerFactory = _ => partitioner;
        return this;
    }

    /// <summary>Sets the partitioner to a function of the record; it must return an encoded path (see <see cref="S3KeyEncoding"/>).</summary>
    /// <param name="partitioner">The function.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UsePartitioner(Func<SinkRecord, string> partitioner)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        partitionerFactory = _ => new DelegatePartitioner(partitioner);
        return this;
    }

    /// <summary>
    /// Sets the partitioner to a composition of parts, joined in order:
    /// <c>.UsePartitioner(p =&gt; p.Field("order.customer.region").Hourly(t =&gt; { t.TimestampSource = TimestampSource.RecordField; t.TimestampField = "createdAt"; }))</c>.
    /// </summary>
    /// <param name="configure">Adds the parts.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UsePartitioner(Action<S3PartitionerBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var partitioner = new S3PartitionerBuilder();
        configure(partitioner);
        if (partitioner.Count == 0)
        {
            throw new ArgumentException("The partitioner has no parts.", nameof(configure));
        }

        partitionerFactory = partitioner.Build;
        return this;
    }

    /// <summary>Partitions by record time (Confluent's TimeBasedPartitioner); defaults to hourly Hive-style paths in UTC.</summary>
    /// <param name="configure">Changes to the defaults.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">A setting is invalid; the message names each one.</exception>
    public KafkaS3SinkBuilder UseTimeBasedPartitioner(Action<TimeBasedPartitionerOptions>? configure = null)
    {
        var partitionerOptions = new TimeBasedPartitionerOptions();
        configure?.Invoke(partitionerOptions);
        var errors = TimeBasedPartitioner.Validate(partitionerOptions);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid time-based partitioner settings: " + string.Join(" ", errors), nameof(configure));
        }

        partitionerFactory = time => new TimeBasedPartitioner(partitionerOptions, time);
        return this;
    }

    /// <summary>
    /// Sets the rotation policy. Default: rotate after <see cref="KafkaS3SinkOptions.FlushSize"/> records per topic-partition,
    /// or on whichever of <see cref="KafkaS3SinkOptions.FlushBytes"/>, <see cref="KafkaS3SinkOptions.RotateInterval"/>,
    /// <see cref="KafkaS3SinkOptions.RotateScheduleInterval"/> and <see cref="KafkaS3SinkOptions.IdleRotateInterval"/> are set comes first.
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseRotationPolicy(IRotationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        rotationPolicy = policy;
        return this;
    }

    /// <summary>Sets the segment buffer. Default: files under <see cref="StagingOptions.Directory"/>.</summary>
    /// <param name="factory">Creates the buffer from the final options.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseSegmentBuffer(Func<KafkaS3SinkOptions, ISegmentBuffer> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        bufferFactory = factory;
        return this;
    }

    /// <summary>
    /// Stages segments in memory instead of on disk: no disk use, but memory grows with the bytes staged and the
    /// number of open segments. For small deployments; the disk quota settings still apply, to memory.
    /// </summary>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseMemorySegmentBuffer()
    {
        bufferFactory = _ => new MemorySegmentBuffer();
        return this;
    }

    /// <summary>Uses this S3 client instead of one made from <see cref="KafkaS3SinkOptions.S3"/>. The sink does not dispose it.</summary>
    /// <param name="client">The client.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseS3Client(IAmazonS3 client)
    {
        ArgumentNullException.ThrowIfNull(client);
        s3Client = client;
        return this;
    }

    /// <summary>Sets the clock. Default <see cref="TimeProvider.System"/>.</summary>
    /// <param name="time">The clock.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseTimeProvider(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        timeProvider = time;
        return this;
    }

    /// <summary>Sets where the sink logs. Default: nowhere.</summary>
    /// <param name="factory">The logger factory.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseLoggerFactory(ILoggerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        loggerFactory = factory;
        return this;
    }

    /// <summary>How long stopping (or a revoke) waits for in-flight uploads before cancelling them. Default 20 s (below a host's default 30 s shutdown timeout).</summary>
    /// <param name="timeout">The timeout.</param>
    /// <returns>This builder.</returns>
    public KafkaS3SinkBuilder UseDrainTimeout(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        drainTimeout = timeout;
        return this;
    }

    /// <summary>Validates the options and builds the sink. Nothing connects until <see cref="KafkaS3Sink.RunAsync"/>.</summary>
    /// <returns>The sink.</returns>
    /// <exception cref="KafkaS3SinkConfigurationException">The options are invalid; every problem is listed.</exception>
    public KafkaS3Sink Build()
    {
        var options = new KafkaS3SinkOptions();
        foreach (var configure in configureActions)
        {
            configure(options);
        }

        var errors = configurationErrors.Concat(options.Validate()).ToList();
        if (errors.Count > 0)
        {
            throw new KafkaS3SinkConfigurationException(options.Name, errors);
        }

        options.Staging.Directory ??= Path.Combine(StagingRoot ?? Path.Combine(Path.GetTempPath(), "kafkas3sink"), options.Name);
        var partitioner = partitionerFactory?.Invoke(timeProvider) ?? new DefaultPartitioner();
        return new KafkaS3Sink(
            options,
            converterFactory?.Invoke() ?? options.ValueConverter switch
            {
                // Validate only when the partitioner reads nothing of the value; find the fields it reads in that pass
                // when it reads only fields; parse once when it may read the value as a whole (custom partitioners).
                // Built-in partitioners keep nothing of a record they are given, so one SinkRecord serves every record.
                ValueConverter.Json => ValueReading.Fields(partitioner) switch
                {
                    null => new JsonRecordConverter { ParseEagerly = true },
                    { Count: 0 } => new JsonRecordConverter { ReuseRecords = true },
                    var fields => new JsonRecordConverter { Fields = new JsonFieldCapture(fields), ReuseRecords = true },
                },
                var other => Builtin(other),
            },
            keyConverter ?? (options.KeyConverter is { } key ? Builtin(key) : null),
            partitioner,
            rotationPolicy ?? DefaultRotation(options),
            bufferFactory ?? (o => new FileSegmentBuffer(
                Path.Combine(o.Staging.Directory!, "segments"),
                o.Staging.FsyncOnSeal,
                o.Staging.EffectiveMaxOpenFileHandles,
                o.Staging.WriteBufferSize,
                o.Staging.MaxWriteBuffers)),
            s3Client,
            timeProvider,
            loggerFactory,
            drainTimeout);
    }

    /// <summary>Where sinks without a staging folder of their own stage, in a folder per sink name (a worker's, in distributed mode).</summary>
    internal string? StagingRoot { get; set; }

    internal void AddConfigurationErrors(IEnumerable<string> errors) => configurationErrors.AddRange(errors);

    private static IRecordConverter Builtin(ValueConverter converter) => converter switch
    {
        ValueConverter.JsonWithSchemaEnvelope => RecordConverters.JsonWithSchemaEnvelope(),
        ValueConverter.Utf8String => RecordConverters.Utf8String(),
        ValueConverter.ByteArray => RecordConverters.Bytes(),
        ValueConverter.Cbor => RecordConverters.Cbor(),
        _ => RecordConverters.Json(),
    };

    private static IRotationPolicy DefaultRotation(KafkaS3SinkOptions options)
    {
        var policies = new List<IRotationPolicy> { new RecordCountRotationPolicy(options.FlushSize) };
        if (options.FlushBytes is { } bytes)
        {
            policies.Add(new ByteSizeRotationPolicy(bytes));
        }

        if (options.RotateInterval is { } interval)
        {
            policies.Add(new RecordTimeSpanRotationPolicy(interval));
        }

        if (options.RotateScheduleInterval is { } schedule)
        {
            policies.Add(new ScheduledRotationPolicy(schedule, Partitioning.TimeZones.Find(options.RotateScheduleTimeZone)));
        }

        if (options.IdleRotateInterval is { } idle)
        {
            policies.Add(new IdleRotationPolicy(idle));
        }

        return policies.Count == 1 ? policies[0] : new AnyOfRotationPolicy(policies);
    }
}

/// <summary>The sink's settings are invalid; <see cref="Errors"/> names each bad setting.</summary>
public sealed class KafkaS3SinkConfigurationException : KafkaS3SinkException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="sinkName">The sink's name.</param>
    /// <param name="errors">Each problem, naming its setting.</param>
    public KafkaS3SinkConfigurationException(string sinkName, IReadOnlyList<string> errors)
        : base($"Sink '{sinkName}' is misconfigured:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors ?? []))
    {
        Errors = errors ?? [];
    }

    /// <summary>Each problem, naming its setting.</summary>
    public IReadOnlyList<string> Errors { get; }
}
