using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Results;

/// <summary>
/// What <c>experiment.json</c> holds: the spec, the status, counts by trial state, the best trial and every trial's row
/// (<see cref="TrialRowJson"/>), the table as it was when the document was made (written out on the writer's thread, the
/// ended trials' rows copied from their archive).
/// </summary>
public sealed record ExperimentDocument(
    string Id,
    ExperimentSpec Spec,
    ExperimentStatus Status,
    string? StatusReason,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    IReadOnlyDictionary<TrialStatus, int> StateCounts,
    BestTrial? Best,
    TrialTable.View Trials)
{
    /// <summary>With several objectives, the Pareto front of the feasible trials (each with its config and last metrics); null with one.</summary>
    public IReadOnlyList<BestTrial>? ParetoFront { get; init; }

    /// <summary>Trials whose last result breaks a constraint (<c>constraint_*</c> above 0): never the best nor on the front.</summary>
    public int InfeasibleTrials { get; init; }
}

/// <summary>The best trial by its last report's metric (or one trial of the Pareto front).</summary>
public sealed record BestTrial(string TrialId, TrialConfig Config, TrialResult LastResult);
