using System.Globalization;
using System.Text;
using System.Text.Json;

namespace KafkaS3Sink.LoadTest;

/// <summary>Draws peak RSS against the number of open files (log scale), one line per buffer, as SVG.</summary>
internal static class Plot
{
    public static int Run(string resultsFile, string svgFile)
    {
        var points = File.ReadLines(resultsFile)
            .Where(l => l.TrimStart().StartsWith('{'))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Buffer: e.GetProperty("buffer").GetString()!, N: e.GetProperty("openFiles").GetInt32(), Rss: e.GetProperty("peakRssMb").GetDouble()))
            .ToList();
        const int width = 640, height = 400, left = 70, right = 150, top = 40, bottom = 60;
        var maxRss = Math.Ceiling(points.Max(p => p.Rss) / 100) * 100;
        var minLog = Math.Log10(points.Min(p => p.N));
        var maxLog = Math.Log10(points.Max(p => p.N));
        double X(int n) => left + ((Math.Log10(n) - minLog) / Math.Max(maxLog - minLog, 1) * (width - left - right));
        double Y(double rss) => height - bottom - (rss / maxRss * (height - top - bottom));
        string F(double v) => v.ToString("F1", CultureInfo.InvariantCulture);

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Peak RSS of the sink process vs open output files (1 GiB through)</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{height - bottom}\" x2=\"{width - right}\" y2=\"{height - bottom}\" stroke=\"black\"/>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{height - bottom}\" stroke=\"black\"/>");
        for (var i = 0; i <= 5; i++)
        {
            var v = maxRss * i / 5;
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{left - 6}\" y=\"{F(Y(v) + 4)}\" text-anchor=\"end\">{v:F0}</text>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{left}\" y1=\"{F(Y(v))}\" x2=\"{width - right}\" y2=\"{F(Y(v))}\" stroke=\"#ddd\"/>");
        }

        foreach (var n in points.Select(p => p.N).Distinct().Order())
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{F(X(n))}\" y=\"{height - bottom + 18}\" text-anchor=\"middle\">{n:N0}</text>");
        }

        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{(left + width - right) / 2}\" y=\"{height - 15}\" text-anchor=\"middle\">open output files N (log scale)</text>");
        svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"18\" y=\"{height / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {height / 2})\">peak RSS (MB)</text>");
        var colors = new Dictionary<string, string> { ["file"] = "#1f77b4", ["memory"] = "#d62728" };
        var legendY = top + 10;
        foreach (var group in points.GroupBy(p => p.Buffer))
        {
            var color = colors.GetValueOrDefault(group.Key, "black");
            var ordered = group.OrderBy(p => p.N).ToList();
            svg.AppendLine(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', ordered.Select(p => F(X(p.N)) + "," + F(Y(p.Rss))))}\"/>");
            foreach (var p in ordered)
            {
                svg.AppendLine(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(p.N))}\" cy=\"{F(Y(p.Rss))}\" r=\"4\" fill=\"{color}\"/>");
                svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{F(X(p.N) + 6)}\" y=\"{F(Y(p.Rss) - 6)}\" fill=\"{color}\">{p.Rss:F0}</text>");
            }

            svg.AppendLine(CultureInfo.InvariantCulture, $"<line x1=\"{width - right + 15}\" y1=\"{legendY}\" x2=\"{width - right + 40}\" y2=\"{legendY}\" stroke=\"{color}\" stroke-width=\"2\"/>");
            svg.AppendLine(CultureInfo.InvariantCulture, $"<text x=\"{width - right + 45}\" y=\"{legendY + 4}\">{group.Key} buffer</text>");
            legendY += 20;
        }

        svg.AppendLine("</svg>");
        File.WriteAllText(svgFile, svg.ToString());
        return 0;
    }
}
