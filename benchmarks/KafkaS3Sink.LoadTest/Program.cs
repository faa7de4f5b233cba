// Load harness: drives the real sink through the Kafka protocol into a real S3 server with N
// concurrently open output files, and reports throughput, staging and peak RSS of this process.
// The Kafka cluster and the producer run in a child process (this same program, --role kafka), so
// the RSS measured here is the sink's. See benchmarks/README.md.
using KafkaS3Sink.LoadTest;

if (args is ["--plot", var results, var svg])
{
    return Plot.Run(results, svg);
}

if (args is ["--plot-compare", var compareResults, var compareSvg])
{
    return PlotCompare.Run(compareResults, compareSvg);
}

if (args is ["--request-costs", var endpoint])
{
    return await RequestCostRole.RunAsync(endpoint);
}

var options = HarnessOptions.Parse(args);
if (options.Role == "kafka")
{
    return KafkaRole.Run(options);
}

if (options.Role == "mode")
{
    return await ModeRole.RunAsync(options);
}

if (options.Compare)
{
    return await CompareRole.RunAsync(options);
}

return await SinkRole.RunAsync(options);
