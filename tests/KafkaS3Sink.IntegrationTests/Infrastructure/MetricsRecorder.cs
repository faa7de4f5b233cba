using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Collects the sink's instruments (meter "KafkaS3Sink") for one sink name, sampling gauges every 20 ms.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly string sink;
    private readonly CancellationTokenSource stop = new();
    private readonly Task sampler;

    public MetricsRecorder(string sink)
    {
        this.sink = sink;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "KafkaS3Sink")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
        sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                listener.RecordObservableInstruments();
                await Task.Delay(20);
            }
        });
    }

    public ConcurrentDictionary<string, long> Sums { get; } = new();

    public ConcurrentDictionary<string, long> Max { get; } = new();

    public void Dispose()
    {
        stop.Cancel();
        sampler.Wait();
        listener.Dispose();
        stop.Dispose();
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "kafkas3sink.sink" && (string?)tag.Value == sink)
            {
                if (instrument is Counter<long>)
                {
                    Sums.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
                }
                else
                {
                    Max.AddOrUpdate(instrument.Name, value, (_, old) => Math.Max(old, value));
                }

                return;
            }
        }
    }
}
