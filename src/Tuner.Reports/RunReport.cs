using System.Globalization;
using System.Net;
using System.Text;

namespace Tuner.Reports;

/// <summary>
/// <c>tuner report RUN_DIR</c>: <c>report.html</c> in the run folder, one self-contained page (its charts
/// inline, no scripts, styles or fonts from anywhere), and the charts as PNGs in <c>report/</c>.
/// </summary>
public static class RunReport
{
    public const string FileName = "report.html";

    /// <summary>Writes the report; returns the page's path and the charts written.</summary>
    public static (string Page, IReadOnlyList<string> Charts) Write(string runDirectory)
    {
        var run = RunFolder.Read(runDirectory);
        var analysis = new RunAnalysis(run);
        var best = run.Trials.Where(t => t.Last is not null).OrderBy(t => run.Minimize ? t.Last : -t.Last).FirstOrDefault();
        var charts = new List<(string File, string Title, string Caption, byte[] Png)>
        {
            ("learning-curves.png", "Learning curves", $"Every trial's {run.Metric} per iteration. Red crosses: trials the early-stopping scheduler (or a stop rule) stopped, at the iteration (rung) it stopped them.", ReportCharts.LearningCurves(run, best?.Id)),
            ("best-over-time.png", "Best so far against wall time", "How quickly the search found good configurations: the best value reported by then, at each moment of the run.", ReportCharts.BestOverTime(run)),
        };
        if (run.Objectives.Count >= 2)
        {
            charts.Insert(0, ("pareto-front.png", "Pareto front", $"Every trial's last {run.Objectives[0].Metric} and {run.Objectives[1].Metric}; in red the trials no other feasible trial beats in every objective{(run.Objectives.Count > 2 ? $" (of all {run.Objectives.Count} objectives)" : string.Empty)}, joined by the staircase they dominate.", ReportCharts.ParetoFront(run)));
        }

        if (run.Parameters.Count > 0)
        {
            charts.Add(("parallel-coordinates.png", "Parallel coordinates", "Each line is a trial through its parameter values and its last metric, coloured by that metric. Numeric axes span the values tried (log-scaled over two decades).", ReportCharts.ParallelCoordinates(analysis)));
        }

        if (analysis.Importance.Count > 0)
        {
            charts.Add(("importance.png", "Parameter importance", $"How much of the variance of {run.Metric} at iteration {analysis.Budget} each parameter explains on its own (trials binned by the parameter; between-bin over total variance). Tune the tall ones first.", ReportCharts.Importance(analysis)));
        }

        var top = analysis.Importance.Select(i => i.Parameter).Take(3).ToList();
        if (top.Count < 2)
        {
            top = [.. run.Parameters.Take(3)];
        }

        if (analysis.AtBudget.Count >= 3)
        {
            for (var i = 0; i < top.Count; i++)
            {
                for (var j = i + 1; j < top.Count; j++)
                {
                    charts.Add(($"heatmap-{Safe(top[i])}-{Safe(top[j])}.png", $"{top[i]} × {top[j]}", $"Mean {run.Metric} per cell, only from the {analysis.AtBudget.Count} trials that reached iteration {analysis.Budget}: trials stopped earlier are left out, since their values are not comparable.", ReportCharts.Heatmap(analysis, top[i], top[j])));
                }
            }
        }

        var folder = Path.Combine(runDirectory, "report");
        Directory.CreateDirectory(folder);
        foreach (var chart in charts)
        {
            File.WriteAllBytes(Path.Combine(folder, chart.File), chart.Png);
        }

        var page = Path.Combine(runDirectory, FileName);
        File.WriteAllText(page, Html(run, analysis, best, charts), Encoding.UTF8);
        return (page, [.. charts.Select(c => Path.Combine(folder, c.File))]);
    }

    private static string Html(RunFolder run, RunAnalysis analysis, ReportTrial? best, List<(string File, string Title, string Caption, byte[] Png)> charts)
    {
        static string E(string? text) => WebUtility.HtmlEncode(text ?? string.Empty);
        static string N(double? v) => v is { } x ? x.ToString("G5", CultureInfo.InvariantCulture) : string.Empty;
        var html = new StringBuilder();
        html.Append($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>{{E(run.Name)}}: Tuner report</title>
            <style>
              body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1f2328; background: #fff; }
              h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
              table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid #d0d7de; padding: .2rem .5rem; text-align: left; font-variant-numeric: tabular-nums; }
              th { background: #f6f8fa; } img { max-width: 100%; border: 1px solid #d0d7de; } .muted { color: #57606a; } .flag { background: #fff8c5; }
            </style>
            </head>
            <body>
            <h1>{{E(run.Name)}}</h1>
            <p class="muted">Experiment {{E(run.Id)}}: {{E(run.Status)}}. Search {{E(run.Searcher)}}, early stopping {{E(run.Scheduler)}}, metric {{E(run.Metric)}} ({{E(run.Mode)}}).
            Trials: {{E(string.Join(", ", run.StateCounts.Where(c => c.Value > 0).Select(c => $"{c.Value} {c.Key}")))}}.</p>
            """);
        if (run.Objectives.Count >= 2)
        {
            html.Append($"<h2>Pareto front</h2><p>{run.ParetoFront.Count} trial(s) no other feasible trial beats in every objective:</p><table id=\"pareto-front\"><tr><th>trial</th>");
            html.Append(string.Concat(run.Objectives.Select(o => $"<th>{E(o.Metric)} ({E(o.Mode)})</th>")));
            html.Append("<th>config</th></tr>");
            foreach (var trial in run.Trials.Where(t => run.ParetoFront.Contains(t.Id)).OrderBy(t => t.Objectives.GetValueOrDefault(run.Objectives[0].Metric)))
            {
                html.Append($"<tr><td>{E(trial.Id)}</td>");
                html.Append(string.Concat(run.Objectives.Select(o => $"<td>{N(trial.Objectives.TryGetValue(o.Metric, out var v) ? v : null)}</td>")));
                html.Append($"<td>{E(string.Join(", ", trial.Config.Select(c => $"{c.Key} = {RunAnalysis.Label(c.Value)}")))}</td></tr>");
            }

            html.Append("</table>");
        }
        else if (best is not null)
        {
            html.Append($"<h2>Best trial</h2><p id=\"best\">{E(best.Id)}: {E(run.Metric)} = {N(best.Last)} after {best.Results[^1].Iteration} iterations, with ");
            html.Append(E(string.Join(", ", best.Config.Select(c => $"{c.Key} = {RunAnalysis.Label(c.Value)}"))));
            html.Append(".</p>");
        }

        html.Append("<h2>Learning-rate scheduler flags</h2>");
        var flagged = run.Trials.Where(t => t.Diagnosis is not null).ToList();
        if (flagged.Count == 0)
        {
            var reportsCurves = run.Trials.Any(t => t.Results.Any(r => r.LearningRate is not null && r.ValidLoss is not null));
            html.Append(reportsCurves
                ? "<p>No trial was flagged: no validation-loss curve plateaued or oscillated at a constant learning rate.</p>"
                : "<p class=\"muted\">No trial reports <code>valid_loss</code> and <code>lr</code>, which the flags read.</p>");
        }
        else
        {
            html.Append("<table id=\"flags\"><tr><th>trial</th><th>status</th><th>what its curve says</th></tr>");
            foreach (var t in flagged)
            {
                html.Append($"<tr class=\"flag\"><td>{E(t.Id)}</td><td>{E(t.Status)}</td><td>{E(t.Diagnosis)}</td></tr>");
            }

            html.Append("</table>");
        }

        foreach (var (file, title, caption, png) in charts)
        {
            html.Append($"<h2>{E(title)}</h2><p class=\"muted\">{E(caption)}</p>");
            html.Append($"<img alt=\"{E(title)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\" data-file=\"report/{E(file)}\">");
        }

        html.Append("<h2>Trials</h2><table id=\"trials\"><tr><th>trial</th><th>status</th><th>iterations</th>");
        foreach (var p in run.Parameters)
        {
            html.Append($"<th>{E(p)}</th>");
        }

        html.Append($"<th>{E(run.Metric)}</th>");
        var compared = RunFolder.ComparedMetrics.Where(m => m != run.Metric && run.Trials.Any(t => t.Compared.ContainsKey(m))).ToList();
        foreach (var m in compared)
        {
            html.Append($"<th>{E(m)}</th>");
        }

        html.Append("<th>stopped at</th></tr>");
        foreach (var t in run.Trials.OrderBy(t => t.Last is null).ThenBy(t => run.Minimize ? t.Last : -t.Last))
        {
            html.Append($"<tr><td>{E(t.Id)}</td><td>{E(t.Status)}</td><td>{(t.Results.Count > 0 ? t.Results[^1].Iteration : 0)}</td>");
            foreach (var p in run.Parameters)
            {
                html.Append($"<td>{(t.Config.TryGetValue(p, out var v) ? E(RunAnalysis.Label(v)) : string.Empty)}</td>");
            }

            html.Append($"<td>{N(t.Last)}</td>");
            foreach (var m in compared)
            {
                html.Append($"<td>{(t.Compared.TryGetValue(m, out var v) ? N(v) : string.Empty)}</td>");
            }

            html.Append($"<td>{(t.StoppedAt is { } s ? E($"{s.Iteration}: {s.Reason}") : string.Empty)}</td></tr>");
        }

        html.Append("</table>");

        // Learned embeddings: the nearest words of the best trial that left them.
        if (run.Trials.Where(t => t.Neighbours is not null).OrderBy(t => t.Last is null).ThenBy(t => run.Minimize ? t.Last : -t.Last).FirstOrDefault() is { } embedded)
        {
            html.Append($"<h2>Nearest neighbours in the learned embedding space</h2><p class=\"muted\">Trial {E(embedded.Id)}, the best that learned embeddings; cosine similarity, among the {EmbeddingCandidates} most frequent words. Every trial's are in <code>trials/&lt;id&gt;/embeddings/</code>, with vectors for TensorBoard's projector.</p>");
            html.Append($"<pre id=\"neighbours\">{E(embedded.Neighbours!)}</pre>");
        }

        html.Append("\n</body>\n</html>\n");
        return html.ToString();
    }

    private const int EmbeddingCandidates = 1000;

    private static string Safe(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) ? c : '_'));
}
