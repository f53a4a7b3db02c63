using System.Globalization;
using CsvHelper;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Client.Results;

/// <summary>Which of a trial's results count when trials are compared (Ray's <c>scope</c>).</summary>
public enum ResultScope
{
    /// <summary>The last result (<c>last</c>).</summary>
    Last,

    /// <summary>The best result the trial ever reported (<c>all</c>).</summary>
    All,

    /// <summary>The mean over all its results (<c>avg</c>).</summary>
    Average,

    /// <summary>The mean over its last 5 results (<c>last-5-avg</c>).</summary>
    LastFiveAverage,

    /// <summary>The mean over its last 10 results (<c>last-10-avg</c>).</summary>
    LastTenAverage,
}

/// <summary>One trial of a finished experiment: its config, every result it reported, and how it ended.</summary>
public sealed record TrialResults(string TrialId, TrialStatus Status, TrialConfig Config, IReadOnlyList<TrialResult> Results, int Failures, string? StatusReason)
{
    public TrialResult? LastResult => Results.Count == 0 ? null : Results[^1];

    public long Iterations => LastResult?.TrainingIteration ?? 0;
}

/// <summary>The best trial by a metric and scope, and the value that made it best.</summary>
public sealed record BestResult(TrialResults Trial, string Metric, double Value, ResultScope Scope);

/// <summary>
/// An experiment's outcome, as Ray's ResultGrid: every trial with its config and results, the best
/// by any metric, mode and scope, and a CSV export.
/// </summary>
public sealed class ResultGrid(ExperimentSnapshot experiment, IReadOnlyList<TrialResults> trials)
{
    public ExperimentSnapshot Experiment { get; } = experiment;

    public IReadOnlyList<TrialResults> Trials { get; } = trials;

    public string ExperimentId => Experiment.ExperimentId;

    public ExperimentStatus Status => Experiment.Status;

    /// <summary>The best trial by <paramref name="metric"/> (the experiment's by default) in <paramref name="mode"/>, comparing each trial's <paramref name="scope"/>; null when no trial reported it.</summary>
    public BestResult? GetBestResult(string? metric = null, OptimizationMode? mode = null, ResultScope scope = ResultScope.Last)
    {
        metric ??= Experiment.Metric;
        var minimise = (mode ?? Experiment.Mode) == OptimizationMode.Min;
        BestResult? best = null;
        foreach (var trial in Trials)
        {
            var values = trial.Results.Select(r => r.GetMetric(metric)).Where(v => v is { } x && !double.IsNaN(x)).Select(v => v!.Value).ToList();
            if (values.Count == 0)
            {
                continue;
            }

            var value = scope switch
            {
                ResultScope.Last => values[^1],
                ResultScope.All => minimise ? values.Min() : values.Max(),
                ResultScope.Average => values.Average(),
                ResultScope.LastFiveAverage => values.TakeLast(5).Average(),
                _ => values.TakeLast(10).Average(),
            };
            if (best is null || (minimise ? value < best.Value : value > best.Value))
            {
                best = new BestResult(trial, metric, value, scope);
            }
        }

        return best;
    }

    /// <summary>
    /// One row per trial: trial_id, status, iterations, failures, <c>config/NAME</c> per hyperparameter,
    /// every metric of its last result, status_reason.
    /// </summary>
    public void WriteCsv(TextWriter writer)
    {
        var parameters = Trials.SelectMany(t => t.Config.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        var metrics = Trials.SelectMany(t => t.LastResult?.Metrics.Keys ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        using var csv = CsvWriter.Create(writer, new CsvWriterOptions(), true);
        csv.WriteRecord([.. new[] { "trial_id", "status", "iterations", "failures" }.Concat(parameters.Select(p => $"config/{p}")).Concat(metrics).Append("status_reason")]);
        foreach (var trial in Trials)
        {
            csv.WriteRecord([
                trial.TrialId,
                trial.Status.ToWire(),
                trial.Iterations.ToString(CultureInfo.InvariantCulture),
                trial.Failures.ToString(CultureInfo.InvariantCulture),
                .. parameters.Select(p => trial.Config.TryGetValue(p, out var v) ? v.ToDisplayString() : string.Empty),
                .. metrics.Select(m => trial.LastResult?.GetMetric(m) is { } x ? x.ToString("R", CultureInfo.InvariantCulture) : string.Empty),
                trial.StatusReason ?? string.Empty,
            ]);
        }
    }

    public void WriteCsv(string path)
    {
        using var writer = new StreamWriter(path);
        WriteCsv(writer);
    }

    public string ToCsv()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteCsv(writer);
        return writer.ToString();
    }
}
