using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace KafkaS3Sink.IntegrationTests.Infrastructure;

/// <summary>Collects the sink's instruments (meter "KafkaS3Sink") for one sink name, sampling gauges every 10 ms on a thread of its own.</summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly string sink;
    private readonly CancellationTokenSource stop = new();
    private readonly Thread sampler;

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
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) =>
        {
            if (i is Histogram<double>)
            {
                Record(new CountOf(i), 1, tags);
            }
            else
            {
                Record(i, (long)Math.Round(v), tags);
            }
        });
        listener.Start();
        // A thread of its own: a loop of Task.Delay continuations waits for a free pool thread, and on a loaded
        // machine with the sink's uploads on the pool it sampled nothing for the whole 1.2 s a test's sink had up to
        // 200 segments open (CI of 93117e3, a build running alongside).
        sampler = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                listener.RecordObservableInstruments();
                Thread.Sleep(10);
            }
        })
        {
            IsBackground = true,
            Name = "metrics sampler",
        };
        sampler.Start();
    }

    public ConcurrentDictionary<string, long> Sums { get; } = new();

    public ConcurrentDictionary<string, long> Max { get; } = new();

    /// <summary>The last value observed of each gauge.</summary>
    public ConcurrentDictionary<string, long> Last { get; } = new();

    public void Dispose()
    {
        stop.Cancel();
        sampler.Join();
        listener.Dispose();
        stop.Dispose();
    }

    private void Record(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        => Record(new CountOf(instrument) { Counts = false }, value, tags);

    private void Record(CountOf source, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var instrument = source.Instrument;
        foreach (var tag in tags)
        {
            if (tag.Key == "kafkas3sink.sink" && (string?)tag.Value == sink)
            {
                if (source.Counts)
                {
                    Sums.AddOrUpdate(instrument.Name + ".count", value, (_, old) => old + value);
                }
                else if (instrument is Counter<long>)
                {
                    Sums.AddOrUpdate(instrument.Name, value, (_, old) => old + value);

                    // Also per tag, as "name{tag=value}" (e.g. kafkas3sink.records.skipped{reason=conversion}).
                    foreach (var other in tags)
                    {
                        if (other.Key != "kafkas3sink.sink")
                        {
                            Sums.AddOrUpdate($"{instrument.Name}{{{other.Key}={other.Value}}}", value, (_, old) => old + value);
                        }
                    }
                }
                else
                {
                    Max.AddOrUpdate(instrument.Name, value, (_, old) => Math.Max(old, value));
                    Last[instrument.Name] = value;
                }

                return;
            }
        }
    }

    /// <summary>An instrument, and whether its measurements are to be counted (histograms) rather than valued.</summary>
    private sealed record CountOf(Instrument Instrument)
    {
        public bool Counts { get; init; } = true;
    }
}
