using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>The experiment as its callers see it: status, counts, the best trial and the first trial rows (running first).</summary>
internal static class ExperimentSnapshots
{
    /// <summary>Until the end is <paramref name="published"/> (its files written) the experiment shows as running.</summary>
    public static ExperimentSnapshot Of(string experimentId, ExperimentController controller, bool published, string? directory, long totalTrials, double elapsedS, int maxRows)
    {
        var spec = controller.Spec;
        var best = spec.IsMultiObjective ? null : controller.Best();
        // The open trials (few) first, then the newest ended ones: no pass over every trial for a page of rows.
        var open = controller.Open
            .OrderBy(t => t.Status switch { TrialStatus.Running => 0, TrialStatus.Paused => 1, _ => 2 })
            .ThenBy(t => t.Index);
        var ended = controller.NewestEnded;
        var rows = open.Concat(ended)
            .Take(Math.Max(maxRows, 0))
            .Select(t => new TrialRow(t.TrialId, t.Status, t.Config, t.Iteration, t.LastMetric, t.Failures, t.Reason, t.Diagnosis, t.Decisions?.Select(d => d.ToString()).ToList(), t.Worker))
            .ToList();
        return new ExperimentSnapshot(
            experimentId,
            spec.Name,
            published ? controller.Status : ExperimentStatus.Running,
            published ? controller.StatusReason : null,
            directory,
            spec.Metric,
            spec.Mode,
            totalTrials,
            new Dictionary<TrialStatus, int>(controller.Counts),
            rows,
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            controller.ResultsRecorded,
            elapsedS,
            controller.IsSpecError,
            spec.IsMultiObjective ? [.. controller.ParetoFront().Select(t => new BestTrial(t.TrialId, t.Config, t.LastResult!))] : null,
            controller.InfeasibleTrials,
            spec.IsMultiObjective ? [.. spec.Objectives.Select(o => o.Metric)] : null);
    }
}
