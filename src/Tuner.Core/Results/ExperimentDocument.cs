using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>What <c>experiment.json</c> holds: the spec, the status, counts by trial state, the best trial and every trial's summary.</summary>
public sealed record ExperimentDocument(
    string Id,
    ExperimentSpec Spec,
    ExperimentStatus Status,
    string? StatusReason,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyDictionary<TrialStatus, int> StateCounts,
    BestTrial? Best,
    IReadOnlyList<TrialSummary> Trials);

/// <summary>The best trial by its last report's metric.</summary>
public sealed record BestTrial(string TrialId, TrialConfig Config, TrialResult LastResult);

/// <summary>One trial in <c>experiment.json</c>.</summary>
public sealed record TrialSummary(
    string TrialId,
    TrialStatus Status,
    TrialConfig Config,
    long Iterations,
    int Failures,
    double? LastMetric,
    string? StatusReason,
    string? Diagnosis = null,
    IReadOnlyList<TrialDecision>? Decisions = null);
