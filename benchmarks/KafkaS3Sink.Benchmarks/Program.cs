using System.Globalization;
using BenchmarkDotNet.Running;
using KafkaS3Sink.Benchmarks;

if (args is ["--open-segment-bytes", var count])
{
    OpenSegmentMemory.Run(int.Parse(count, CultureInfo.InvariantCulture));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

/// <summary>Entry point type for BenchmarkSwitcher.</summary>
internal sealed partial class Program;
