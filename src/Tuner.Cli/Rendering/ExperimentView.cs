using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Cli.Rendering;

/// <summary>How an experiment looks on the terminal: a live table of trials like Ray's CLIReporter, and the final summary.</summary>
public static class ExperimentView
{
    private const int MaxParamColumns = 6;

    /// <summary>The live view: a status line, the best trial so far, and a table of trials (running first).</summary>
    public static IRenderable Render(ExperimentSnapshot s, ExperimentSpec spec) => Render(s, spec.Space.Names);

    /// <summary>The same view for an experiment known only from the service: its columns from the trials' configs.</summary>
    public static IRenderable Render(ExperimentSnapshot s) => Render(s, s.Rows.SelectMany(r => r.Config.Keys).Distinct());

    private static IRenderable Render(ExperimentSnapshot s, IEnumerable<string> parameters)
    {
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("Trial");
        table.AddColumn("Status");
        var paramNames = parameters.Take(MaxParamColumns).ToList();
        foreach (var name in paramNames)
        {
            table.AddColumn(new TableColumn(Markup.Escape(name)).RightAligned());
        }

        table.AddColumn(new TableColumn("Iter").RightAligned());
        table.AddColumn(new TableColumn(Markup.Escape(s.Metric)).RightAligned());
        foreach (var row in s.Rows)
        {
            var cells = new List<IRenderable>
            {
                new Text(row.TrialId),
                new Markup(StatusMarkup(row.Status) + (row.Failures > 0 ? $" [grey]({row.Failures} failed)[/]" : string.Empty)),
            };
            cells.AddRange(paramNames.Select(n => new Text(row.Config.TryGetValue(n, out var v) ? v.ToDisplayString() : string.Empty)));
            cells.Add(new Text(row.Iteration > 0 ? row.Iteration.ToString(CultureInfo.InvariantCulture) : string.Empty));
            cells.Add(new Text(row.Metric is { } m ? Format(m) : string.Empty));
            table.AddRow(cells);
        }

        var hidden = s.StateCounts.Values.Sum() - s.Rows.Count;
        if (hidden > 0)
        {
            table.Caption($"... and {hidden:N0} more trials (see the results folder)");
        }

        return new Rows(new Markup(Markup.Escape(StatusLine(s))), new Markup(Markup.Escape(BestLine(s))), table);
    }

    /// <summary>One line of progress: elapsed time, trials by state, results so far.</summary>
    public static string StatusLine(ExperimentSnapshot s)
    {
        var states = string.Join(" | ", Enum.GetValues<TrialStatus>().Where(t => s.Count(t) > 0).Select(t => $"{s.Count(t)} {t.ToWire()}"));
        var created = s.StateCounts.Values.Sum();
        return string.Create(CultureInfo.InvariantCulture, $"{s.Name}: running for {s.ElapsedS:F1} s, {created:N0}/{s.TotalTrials:N0} trials ({(states.Length == 0 ? "none yet" : states)}), {s.ResultsReported:N0} results");
    }

    public static string BestLine(ExperimentSnapshot s) => s.Metrics is { Count: > 1 } metrics
        ? $"Current Pareto front ({string.Join(", ", metrics)}): {s.ParetoFront?.Count ?? 0} trial(s){(s.ParetoFront is { Count: > 0 } front ? ": " + string.Join(", ", front.Take(8).Select(t => t.TrialId)) + (front.Count > 8 ? ", ..." : string.Empty) : string.Empty)}"
        : s.Best is { } best
            ? $"Current best trial: {best.TrialId} with {s.Metric}={Format(best.LastResult.GetMetric(s.Metric) ?? double.NaN)} and params {{{best.Config}}}"
            : "Current best trial: none yet";

    /// <summary>With several objectives: the front's trials, one row each with its config and objectives, sorted by the first objective.</summary>
    public static Table? FrontTable(ExperimentSnapshot s)
    {
        if (s.Metrics is not { Count: > 1 } metrics || s.ParetoFront is null)
        {
            return null;
        }

        var front = s.ParetoFront.OrderBy(t => t.LastResult.GetMetric(metrics[0]) ?? double.NaN).ToList();
        // The parameters the front's trials differ in (fixed params are the same in every one).
        var keys = front.SelectMany(t => t.Config.Keys).Distinct(StringComparer.Ordinal)
            .Where(k => front.Select(t => t.Config.TryGetValue(k, out var v) ? v.ToString() : null).Distinct().Count() > 1 || front.Count == 1)
            .ToList();
        var table = new Table().Border(TableBorder.Simple).Title($"Pareto front: {front.Count} trial(s) no other feasible trial beats in every objective");
        table.AddColumn("Trial");
        foreach (var metric in metrics)
        {
            table.AddColumn(new TableColumn($"[bold]{Markup.Escape(metric)}[/]").RightAligned());
        }

        foreach (var key in keys)
        {
            table.AddColumn(new TableColumn(Markup.Escape(key)).RightAligned());
        }

        foreach (var trial in front)
        {
            table.AddRow([
                Markup.Escape(trial.TrialId),
                .. metrics.Select(m => Format(trial.LastResult.GetMetric(m) ?? double.NaN)),
                .. keys.Select(k => Markup.Escape(trial.Config.TryGetValue(k, out var v) ? v.ToDisplayString() : "-")),
            ]);
        }

        return table;
    }

    /// <summary>The end: how it went, the best trial, failures, and where the results are.</summary>
    public static void PrintSummary(IAnsiConsole console, ExperimentSnapshot s)
    {
        var color = s.Status switch
        {
            ExperimentStatus.Completed when s.Count(TrialStatus.Error) == 0 => "green",
            ExperimentStatus.Completed or ExperimentStatus.Stopped => "yellow",
            _ => "red",
        };
        var created = s.StateCounts.Values.Sum();
        var states = string.Join(", ", Enum.GetValues<TrialStatus>().Where(t => s.Count(t) > 0).Select(t => $"{s.Count(t)} {t.ToWire()}"));
        console.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"[{color}]Experiment {Markup.Escape(s.Name)} {s.Status.ToWire()}[/] in {s.ElapsedS:F1} s: {created:N0} trials ({states}), {s.ResultsReported:N0} results"));
        if (s.StatusReason is { } reason)
        {
            console.MarkupLineInterpolated($"  reason: {reason}");
        }

        if (s.Best is { } best)
        {
            var table = new Table().Border(TableBorder.Simple).Title($"Best trial {best.TrialId} ({(s.Mode == OptimizationMode.Min ? "lowest" : "highest")} {s.Metric})");
            table.AddColumn("Parameter");
            table.AddColumn(new TableColumn("Value").RightAligned());
            foreach (var (key, value) in best.Config)
            {
                table.AddRow(Markup.Escape(key), Markup.Escape(value.ToString()));
            }

            table.AddRow(new Markup("[bold]training_iteration[/]"), new Text(best.LastResult.TrainingIteration.ToString(CultureInfo.InvariantCulture)));
            foreach (var (key, value) in best.LastResult.Metrics)
            {
                table.AddRow(new Markup($"[bold]{Markup.Escape(key)}[/]"), new Text(Format(value)));
            }

            console.Write(table);
        }

        if (FrontTable(s) is { } frontTable)
        {
            console.Write(frontTable);
        }

        if (s.InfeasibleTrials > 0)
        {
            console.MarkupLineInterpolated($"  [yellow]{s.InfeasibleTrials} trial(s) infeasible[/]: their last result breaks a constraint (a constraint_* metric above 0); they are never the best nor on the front");
        }

        foreach (var row in s.Rows.Where(r => r.Status == TrialStatus.Error).Take(5))
        {
            console.MarkupLineInterpolated($"  [red]{row.TrialId} ERROR[/]: {row.StatusReason}");
        }

        // Early-stopping decisions say which scheduler made them ("asha: at rung 3 ...").
        var stopped = s.Rows.Where(r => r.Status == TrialStatus.Terminated && r.StatusReason is { } why && SchedulerSpec.Algorithms.Any(a => why.StartsWith(a + ":", StringComparison.Ordinal)) && !why.Contains("reached max_t", StringComparison.Ordinal) && !why.Contains("reached the full resource", StringComparison.Ordinal)).ToList();
        if (stopped.Count > 0)
        {
            console.MarkupLineInterpolated($"Stopped early by the scheduler: {stopped.Count} of the {s.Rows.Count} trials shown (every reason is in experiment.json):");
            foreach (var row in stopped.Take(5))
            {
                console.MarkupLineInterpolated($"  {row.TrialId} after {row.Iteration}: {row.StatusReason}");
            }
        }

        // Pausing schedulers (and PBT) leave a trail per trial: pause, resume, exploit, stop.
        var decisions = s.Rows.SelectMany(r => r.Decisions ?? []).ToList();
        if (decisions.Any(d => !d.StartsWith("stop ", StringComparison.Ordinal)))
        {
            int Count(string action) => decisions.Count(d => d.StartsWith(action + " ", StringComparison.Ordinal));
            console.MarkupLineInterpolated($"Scheduler decisions for the {s.Rows.Count} trials shown: {Count("pause")} pauses, {Count("resume")} resumes, {Count("exploit")} exploits, {Count("stop")} stops (per trial in experiment.json and journal.jsonl)");
            if (s.Best is { } leader && s.Rows.FirstOrDefault(r => r.TrialId == leader.TrialId)?.Decisions is { Count: > 0 } trail)
            {
                console.MarkupLineInterpolated($"  the best trial, {leader.TrialId}:");
                foreach (var line in trail.TakeLast(6))
                {
                    console.MarkupLineInterpolated($"    {line}");
                }
            }
        }

        var advised = s.Rows.Where(r => r.Diagnosis is not null).ToList();
        if (s.Best is { } top && advised.FirstOrDefault(r => r.TrialId == top.TrialId) is { } bestAdvice)
        {
            console.MarkupLineInterpolated($"[yellow]The best trial {bestAdvice.TrialId}[/]: {bestAdvice.Diagnosis}");
        }

        if (advised.Count > 0)
        {
            console.MarkupLineInterpolated($"Learning-rate advice for {advised.Count} of {s.Rows.Count} trials (see \"diagnosis\" in experiment.json):");
            foreach (var row in advised.Take(5))
            {
                console.MarkupLineInterpolated($"  [yellow]{row.TrialId}[/]: {row.Diagnosis}");
            }
        }

        if (s.OutputDirectory is { } dir)
        {
            console.MarkupLineInterpolated($"Results: {dir}");
        }
    }

    private static string StatusMarkup(TrialStatus status) => status switch
    {
        TrialStatus.Running => "[blue]RUNNING[/]",
        TrialStatus.Pending => "[grey]PENDING[/]",
        TrialStatus.Paused => "[yellow]PAUSED[/]",
        TrialStatus.Terminated => "[green]TERMINATED[/]",
        _ => "[red]ERROR[/]",
    };

    public static string Format(double value) => value.ToString("G5", CultureInfo.InvariantCulture);
}
