using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.LoadTest;

/// <summary>
/// Draws records/s per mode from --compare summaries (the JSON last lines, one per run), as SVG: one panel per
/// run (record size, partitioner, the sink's format), a horizontal bar per mode on that panel's own scale, labelled with the
/// records/s and the ratio to the bare pipe (p).
/// </summary>
internal static class PlotCompare
{
    private static readonly string[] Order = ["a", "b", "p", "c", "d", "e"];

    private static readonly Dictionary<string, (string Label, string Color)> Modes = new()
    {
        ["a"] = ("(a) consume only", "#9e9e9e"),
        ["b"] = ("(b) raw PUT", "#bdbdbd"),
        ["p"] = ("(p) bare pipe", "#ff7f0e"),
        ["c"] = ("(c) sink, file buffer", "#1f77b4"),
        ["d"] = ("(d) sink, memory buffer", "#6baed6"),
        ["e"] = ("(e) hand-written loop", "#d62728"),
    };

    public static int Run(string resultsFile, string svgFile)
    {
        var runs = File.ReadLines(resultsFile)
            .Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (
                Title: string.Create(CultureInfo.InvariantCulture, $"{e.GetProperty("recordBytes").GetInt32():N0} B records, {e.GetProperty("partitioner").GetString()} partitioner{(e.TryGetProperty("format", out var f) && f.GetString() is { } format && format != "jsonl" ? $", the sink writing {format}" : "")}{(e.TryGetProperty("warmup", out var w) && w.ValueKind == JsonValueKind.True ? ", steady state (--warmup)" : ", cold")}"),
                Modes: e.GetProperty("modes").EnumerateObject().ToDictionary(m => m.Name, m => m.Value.GetProperty("RecordsPerSec").GetDouble())))
            .ToList();
        if (runs.Count == 0)
        {
            Console.Error.WriteLine($"{resultsFile} holds no --compare summary.");
            return 2;
        }

        const int width = 760, left = 180, right = 170, barHeight = 18, gap = 4, panelTop = 28, panelGap = 24;
        var panelHeights = runs.Select(r => panelTop + (r.Modes.Count * (barHeight + gap))).ToList();
        var height = 50 + panelHeights.Sum() + (panelGap * runs.Count);
        string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Records/s per mode, same data and servers (--compare, medians)</text>");
        var y = 40.0;
        for (var i = 0; i < runs.Count; i++)
        {
            var (title, modes) = runs[i];
            var max = modes.Values.Max();
            var pipe = modes.GetValueOrDefault("p");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left}\" y=\"{F(y + 16)}\" font-weight=\"bold\">{title}</text>");
            var barY = y + panelTop;
            foreach (var mode in Order.Where(modes.ContainsKey))
            {
                var value = modes[mode];
                var (label, color) = Modes[mode];
                var barWidth = value / max * (width - left - right);
                var ratio = pipe > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({value / pipe:F2} × p)") : string.Empty;
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 8}\" y=\"{F(barY + 13)}\" text-anchor=\"end\">{label}</text>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<rect x=\"{left}\" y=\"{F(barY)}\" width=\"{F(barWidth)}\" height=\"{barHeight}\" fill=\"{color}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{F(left + barWidth + 6)}\" y=\"{F(barY + 13)}\">{value:N0}/s{ratio}</text>");
                barY += barHeight + gap;
            }

            y += panelHeights[i] + panelGap;
        }

        svg.AppendLine("</svg>");
        File.WriteAllText(svgFile, svg.ToString());
        return 0;
    }
}
