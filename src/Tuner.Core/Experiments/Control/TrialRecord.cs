using Tuner.Core.Space;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// One row of the experiment's trial table, as the controller keeps it. Changed by the controller
/// alone: by the events it applies (<see cref="ExperimentController.Apply"/>) and the runs it records.
/// </summary>
public sealed class TrialRecord(string trialId, TrialConfig config, int index)
{
    public string TrialId { get; } = trialId;

    public TrialConfig Config { get; internal set; } = config;

    /// <summary>1 for the first trial created, and so on: the order of creation.</summary>
    public int Index { get; } = index;

    public TrialStatus Status { get; internal set; } = TrialStatus.Pending;

    /// <summary>The last iteration recorded; a report at or below it is one already recorded.</summary>
    public long Iteration { get; internal set; }

    /// <summary>The latest run (assignment attempt) the trial has started or queued; reports of earlier runs are refused.</summary>
    public int Attempt { get; internal set; } = 1;

    public double? LastMetric { get; internal set; }

    public TrialResult? LastResult { get; internal set; }

    public int Failures { get; internal set; }

    public string? Reason { get; internal set; }

    /// <summary>The worker of its latest run (a label of its iteration times).</summary>
    public string? Worker { get; internal set; }

    /// <summary>(valid_loss, lr) per iteration, for trials that report both.</summary>
    public List<(double Loss, double Rate)>? Curve { get; internal set; }

    /// <summary>Every decision other than "continue", in order; null until there is one.</summary>
    public List<TrialDecision>? Decisions { get; internal set; }

    /// <summary>Learning-rate advice from the curve, once the trial has ended.</summary>
    public string? Diagnosis { get; internal set; }

    /// <summary>The last decision, or null.</summary>
    public TrialDecision? LastDecision => Decisions is { Count: > 0 } decisions ? decisions[^1] : null;
}
