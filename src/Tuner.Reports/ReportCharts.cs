using ScottPlot;

namespace Tuner.Reports;

/// <summary>The report's charts, drawn with ScottPlot; each returns the PNG's bytes.</summary>
internal static class ReportCharts
{
    public const int Width = 900;
    public const int Height = 500;

    /// <summary>Every trial's metric per iteration; a trial stopped early is marked with a red cross at the rung it was stopped at.</summary>
    public static byte[] LearningCurves(RunFolder run, string? bestTrial)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var i = 0;
        foreach (var trial in run.Trials.Where(t => t.Results.Count > 0))
        {
            var line = plot.Add.ScatterLine(trial.Results.Select(r => (double)r.Iteration).ToArray(), trial.Results.Select(r => r.Metric).ToArray());
            var best = trial.Id == bestTrial;
            line.Color = best ? Colors.Black : palette.GetColor(i++).WithAlpha(0.55);
            line.LineWidth = best ? 3 : 1.2f;
            if (best)
            {
                line.LegendText = $"best: {trial.Id}";
            }
        }

        var stopped = run.Trials.Where(t => t.StoppedAt is not null && t.ValueAt(t.StoppedAt.Value.Iteration) is not null).ToList();
        if (stopped.Count > 0)
        {
            var marks = plot.Add.Markers(
                stopped.Select(t => (double)t.StoppedAt!.Value.Iteration).ToArray(),
                stopped.Select(t => t.ValueAt(t.StoppedAt!.Value.Iteration)!.Value).ToArray(),
                MarkerShape.Cross,
                12,
                Colors.Red);
            marks.LegendText = $"stopped early ({stopped.Count})";
        }

        plot.Title($"Learning curves: {run.Metric} per iteration");
        plot.XLabel("training iteration");
        plot.YLabel(run.Metric);
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>
    /// Several objectives: every trial's last values of the first two, the Pareto front's trials marked and joined by the
    /// staircase they dominate (the region beyond it is what no trial reached).
    /// </summary>
    public static byte[] ParetoFront(RunFolder run)
    {
        var (x, y) = (run.Objectives[0], run.Objectives[1]);
        var plot = new Plot();
        var all = run.Trials.Where(t => t.Objectives.ContainsKey(x.Metric) && t.Objectives.ContainsKey(y.Metric)).ToList();
        var others = all.Where(t => !run.ParetoFront.Contains(t.Id)).ToList();
        var others1 = plot.Add.Markers(others.Select(t => t.Objectives[x.Metric]).ToArray(), others.Select(t => t.Objectives[y.Metric]).ToArray(), MarkerShape.FilledCircle, 6, Colors.Gray.WithAlpha(0.6));
        others1.LegendText = $"other trials ({others.Count})";

        var front = all.Where(t => run.ParetoFront.Contains(t.Id)).OrderBy(t => t.Objectives[x.Metric]).ToList();
        if (front.Count > 0)
        {
            // The staircase: from each front point to the next along the first objective, the second held until it changes.
            var stairX = new List<double>();
            var stairY = new List<double>();
            foreach (var t in front)
            {
                if (stairX.Count > 0)
                {
                    stairX.Add(t.Objectives[x.Metric]);
                    stairY.Add(stairY[^1]);
                }

                stairX.Add(t.Objectives[x.Metric]);
                stairY.Add(t.Objectives[y.Metric]);
            }

            var stairs = plot.Add.ScatterLine(stairX.ToArray(), stairY.ToArray());
            stairs.Color = Colors.Red.WithAlpha(0.6);
            stairs.LineWidth = 1.5f;
            var points = plot.Add.Markers(front.Select(t => t.Objectives[x.Metric]).ToArray(), front.Select(t => t.Objectives[y.Metric]).ToArray(), MarkerShape.FilledCircle, 9, Colors.Red);
            points.LegendText = $"Pareto front ({front.Count})";
        }

        plot.Title($"Pareto front: {y.Metric} ({y.Mode}) against {x.Metric} ({x.Mode})");
        plot.XLabel($"{x.Metric} ({x.Mode})");
        plot.YLabel($"{y.Metric} ({y.Mode})");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>The best value reported so far against the experiment's wall time.</summary>
    public static byte[] BestOverTime(RunFolder run)
    {
        var points = run.Trials.SelectMany(t => t.Results).OrderBy(r => r.WallSeconds).ToList();
        var xs = new List<double>();
        var ys = new List<double>();
        double? best = null;
        foreach (var p in points)
        {
            if (best is null || (run.Minimize ? p.Metric < best : p.Metric > best))
            {
                best = p.Metric;
                xs.Add(Math.Max(0, p.WallSeconds));
                ys.Add(p.Metric);
            }
        }

        if (points.Count > 0 && best is not null)
        {
            xs.Add(Math.Max(0, points[^1].WallSeconds));
            ys.Add(best.Value);
        }

        var plot = new Plot();
        var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.LineWidth = 2;
        line.MarkerSize = 5;
        plot.Title($"Best {run.Metric} so far ({run.Mode})");
        plot.XLabel("wall time since the start (s)");
        plot.YLabel($"best {run.Metric}");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>One line per trial across every parameter's axis and the metric's, coloured by the metric (bright = better).</summary>
    public static byte[] ParallelCoordinates(RunAnalysis analysis)
    {
        var run = analysis.Run;
        var axes = run.Parameters.ToList();
        var trials = run.Trials.Where(t => t.Last is not null).ToList();
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        var metrics = trials.Select(t => t.Last!.Value).ToList();
        var (low, high) = metrics.Count > 0 ? (metrics.Min(), metrics.Max()) : (0, 1);
        var positions = Enumerable.Range(0, axes.Count + 1).Select(i => (double)i).ToArray();
        var scales = axes.Select(a => Scale(run, a, analysis.IsNumeric(a))).ToList();
        foreach (var trial in trials.OrderBy(t => Goodness(run, t.Last!.Value, low, high)))
        {
            var ys = axes.Select((a, i) => trial.Config.TryGetValue(a, out var v) ? scales[i](v) : double.NaN).Append(Normalize(trial.Last!.Value, low, high)).ToArray();
            var line = plot.Add.ScatterLine(positions, ys);
            line.Color = colormap.GetColor(Goodness(run, trial.Last!.Value, low, high)).WithAlpha(0.8);
            line.LineWidth = 1.5f;
        }

        foreach (var x in positions)
        {
            plot.Add.VerticalLine(x, 1, Colors.Gray);
        }

        plot.Axes.Bottom.SetTicks(positions, [.. axes, run.Metric]);
        plot.Axes.Left.SetTicks([0, 0.5, 1], ["low", "mid", "high"]);
        plot.Title($"Parallel coordinates: {trials.Count} trials, coloured by last {run.Metric} (bright = better)");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Mean value of the metric over a grid of two parameters, from trials that reached the same budget only.</summary>
    public static byte[] Heatmap(RunAnalysis analysis, string x, string y)
    {
        var (means, counts, xLabels, yLabels) = analysis.Grid(x, y);
        var plot = new Plot();

        // ScottPlot draws row 0 at the top: flip so the first bin is at the bottom.
        var rows = means.GetLength(0);
        var flipped = new double[rows, means.GetLength(1)];
        for (var j = 0; j < rows; j++)
        {
            for (var i = 0; i < means.GetLength(1); i++)
            {
                flipped[rows - 1 - j, i] = means[j, i];
            }
        }

        var heatmap = plot.Add.Heatmap(flipped);
        heatmap.Colormap = analysis.Run.Minimize ? new ScottPlot.Colormaps.Viridis().Reversed() : new ScottPlot.Colormaps.Viridis();
        heatmap.NaNCellColor = Colors.LightGray;
        plot.Add.ColorBar(heatmap);
        for (var j = 0; j < rows; j++)
        {
            for (var i = 0; i < means.GetLength(1); i++)
            {
                if (counts[j, i] > 0)
                {
                    var text = plot.Add.Text($"{means[j, i]:G3}\nn={counts[j, i]}", i, j);
                    text.LabelFontSize = 11;
                    text.LabelAlignment = Alignment.MiddleCenter;
                    text.LabelFontColor = Colors.White;
                }
            }
        }

        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, xLabels.Count).Select(i => (double)i)], [.. xLabels]);
        plot.Axes.Left.SetTicks([.. Enumerable.Range(0, yLabels.Count).Select(i => (double)i)], [.. yLabels]);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.Title($"Mean {analysis.Run.Metric} at iteration {analysis.Budget} ({analysis.AtBudget.Count} trials that reached it)");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Each parameter's share of the variance it explains alone.</summary>
    public static byte[] Importance(RunAnalysis analysis)
    {
        var plot = new Plot();
        var items = analysis.Importance;
        var bars = plot.Add.Bars(items.Select(i => i.Share).ToArray());
        bars.Color = Colors.SteelBlue;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, items.Count).Select(i => (double)i)], [.. items.Select(i => i.Parameter)]);
        plot.Axes.SetLimitsY(0, 1);
        plot.YLabel("share of variance explained alone");
        plot.Title($"Parameter importance at iteration {analysis.Budget} ({analysis.AtBudget.Count} trials)");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static double Normalize(double value, double low, double high) => high > low ? (value - low) / (high - low) : 0.5;

    private static double Goodness(RunFolder run, double value, double low, double high) =>
        run.Minimize ? 1 - Normalize(value, low, high) : Normalize(value, low, high);

    /// <summary>A parameter's axis: numbers scaled to [0, 1] (log-scaled when they span over two decades), categories evenly spaced.</summary>
    private static Func<System.Text.Json.JsonElement, double> Scale(RunFolder run, string parameter, bool numeric)
    {
        var values = run.Trials.Where(t => t.Config.ContainsKey(parameter)).Select(t => t.Config[parameter]).ToList();
        if (!numeric)
        {
            var labels = values.Select(RunAnalysis.Label).Distinct().Order(StringComparer.Ordinal).ToList();
            return v => labels.Count <= 1 ? 0.5 : (double)labels.IndexOf(RunAnalysis.Label(v)) / (labels.Count - 1);
        }

        var numbers = values.Select(v => v.GetDouble()).ToList();
        var (low, high) = numbers.Count > 0 ? (numbers.Min(), numbers.Max()) : (0, 1);
        var log = low > 0 && high / low > 100;
        return log
            ? v => Normalize(Math.Log(v.GetDouble()), Math.Log(low), Math.Log(high))
            : v => Normalize(v.GetDouble(), low, high);
    }
}
