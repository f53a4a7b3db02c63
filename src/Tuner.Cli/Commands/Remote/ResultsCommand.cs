using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Cli;
using Tuner.Cli.Rendering;
using Tuner.Client;
using Tuner.Client.Results;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Spec;

namespace Tuner.Cli.Commands.Remote;

/// <summary><c>tuner results ID</c>: every trial with its config and last metrics, and the best by a scope, as a table, CSV or JSON.</summary>
public sealed class ResultsCommand(IAnsiConsole console) : RemoteCommand<ResultsCommand.Settings>(console)
{
    private static readonly string[] Formats = ["table", "csv", "json"];
    private static readonly Dictionary<string, ResultScope> Scopes = new(StringComparer.Ordinal)
    {
        ["last"] = ResultScope.Last,
        ["all"] = ResultScope.All,
        ["avg"] = ResultScope.Average,
        ["last-5-avg"] = ResultScope.LastFiveAverage,
        ["last-10-avg"] = ResultScope.LastTenAverage,
    };

    public sealed class Settings : ExperimentSettings
    {
        [CommandOption("-f|--format <FORMAT>")]
        [Description("table, csv or json (default table)")]
        public string Format { get; init; } = "table";

        [CommandOption("-o|--output <FILE>")]
        [Description("Write to FILE instead of the console")]
        public string? Output { get; init; }

        [CommandOption("--scope <SCOPE>")]
        [Description("Which results make a trial the best: last, all, avg, last-5-avg, last-10-avg (default last)")]
        public string Scope { get; init; } = "last";

        public override ValidationResult Validate() =>
            !Formats.Contains(Format) ? ValidationResult.Error($"--format: '{Format}' is not one of the allowed values: {string.Join(", ", Formats)}")
            : !Scopes.ContainsKey(Scope) ? ValidationResult.Error($"--scope: '{Scope}' is not one of the allowed values: {string.Join(", ", Scopes.Keys)}")
            : base.Validate();
    }

    protected override async Task<int> ExecuteAsync(TunerClient client, Settings settings, CancellationToken cancellationToken)
    {
        var snapshot = await client.GetAsync(settings.ExperimentId, 0, cancellationToken);
        ResultGrid grid;
        if (snapshot.IsFinal)
        {
            // Every result of every trial, replayed from the experiment's events.
            grid = await Console.Progress().AutoClear(true).StartAsync(async progress =>
            {
                var task = progress.AddTask("reading results", maxValue: Math.Max(1, snapshot.ResultsReported));
                return await client.FollowAsync(settings.ExperimentId, new Progress(p => task.Value = p.Results), cancellationToken);
            });
        }
        else
        {
            Console.MarkupLine("[yellow]the experiment is still running: these are the trials' latest results[/]");
            var trials = new List<TrialResults>();
            foreach (var row in await client.ListTrialsAsync(settings.ExperimentId, cancellationToken))
            {
                var info = await client.GetTrialAsync(settings.ExperimentId, row.TrialId, cancellationToken);
                trials.Add(new TrialResults(row.TrialId, info.Status, info.Config, info.LastResult is { } r ? [r] : [], info.Failures, info.StatusReason));
            }

            grid = new ResultGrid(snapshot, trials);
        }

        var best = grid.GetBestResult(scope: Scopes[settings.Scope]);
        var text = settings.Format switch
        {
            "csv" => grid.ToCsv(),
            "json" => Json(grid, best),
            _ => null,
        };
        if (text is null)
        {
            Console.Write(Table(grid));
            if (ExperimentView.FrontTable(snapshot) is { } front)
            {
                // Several objectives: no one best, the front.
                Console.Write(front);
            }
            else
            {
                Console.MarkupLineInterpolated($"best ({settings.Scope}): {(best is null ? "none reported the metric" : $"{best.Trial.TrialId} {best.Metric}={ExperimentView.Format(best.Value)} {{{best.Trial.Config}}}")}");
            }

            if (snapshot.InfeasibleTrials > 0)
            {
                Console.MarkupLineInterpolated($"[yellow]{snapshot.InfeasibleTrials} trial(s) infeasible[/] (a constraint_* metric above 0): never the best nor on the front");
            }
        }
        else if (settings.Output is { } path)
        {
            await File.WriteAllTextAsync(path, text, cancellationToken);
            Console.MarkupLineInterpolated($"wrote {grid.Trials.Count} trials to {path}");
        }
        else
        {
            Console.Profile.Out.Writer.Write(text);
        }

        return ExitCodes.Success;
    }

    private static Table Table(ResultGrid grid)
    {
        var parameters = grid.Trials.SelectMany(t => t.Config.Keys).Distinct().Take(6).ToList();
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("Trial");
        table.AddColumn("Status");
        foreach (var p in parameters)
        {
            table.AddColumn(new TableColumn(Markup.Escape(p)).RightAligned());
        }

        table.AddColumn(new TableColumn("Iter").RightAligned());
        var metrics = grid.Experiment.Metrics is { Count: > 1 } objectives ? objectives : [grid.Experiment.Metric];
        foreach (var metric in metrics)
        {
            table.AddColumn(new TableColumn(Markup.Escape(metric)).RightAligned());
        }

        foreach (var t in grid.Trials)
        {
            table.AddRow([
                Markup.Escape(t.TrialId),
                Markup.Escape(t.Status.ToWire()),
                .. parameters.Select(p => Markup.Escape(t.Config.TryGetValue(p, out var v) ? v.ToDisplayString() : string.Empty)),
                t.Iterations.ToString(CultureInfo.InvariantCulture),
                .. metrics.Select(metric => t.LastResult?.GetMetric(metric) is { } m ? ExperimentView.Format(m) : string.Empty),
            ]);
        }

        return table;
    }

    private static string Json(ResultGrid grid, BestResult? best)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = ResultJson.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("experiment_id", grid.ExperimentId);
            w.WriteString("status", grid.Status.ToWire());
            w.WriteString("metric", grid.Experiment.Metric);
            w.WriteString("mode", grid.Experiment.Mode == OptimizationMode.Min ? "min" : "max");
            if (grid.Experiment.ParetoFront is { } front)
            {
                ResultJson.WriteParetoFront(w, front);
            }

            w.WriteNumber("infeasible_trials", grid.Experiment.InfeasibleTrials);
            if (best is not null && grid.Experiment.ParetoFront is null)
            {
                w.WriteStartObject("best");
                w.WriteString("trial_id", best.Trial.TrialId);
                w.WriteString("scope", best.Scope.ToString());
                ResultJson.WriteNumber(w, "value", best.Value);
                w.WritePropertyName("config");
                SpecWriter.WriteConfig(w, best.Trial.Config);
                w.WriteEndObject();
            }

            w.WriteStartArray("trials");
            foreach (var t in grid.Trials)
            {
                w.WriteStartObject();
                w.WriteString("trial_id", t.TrialId);
                w.WriteString("status", t.Status.ToWire());
                w.WriteNumber("iterations", t.Iterations);
                w.WriteNumber("failures", t.Failures);
                w.WritePropertyName("config");
                SpecWriter.WriteConfig(w, t.Config);
                w.WriteStartObject("last_result");
                foreach (var (name, value) in t.LastResult?.Metrics ?? new Dictionary<string, double>())
                {
                    ResultJson.WriteNumber(w, name, value);
                }

                w.WriteEndObject();
                if (t.StatusReason is { } reason)
                {
                    w.WriteString("status_reason", reason);
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private sealed class Progress(Action<ExperimentProgress> report) : IProgress<ExperimentProgress>
    {
        public void Report(ExperimentProgress value) => report(value);
    }
}
