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
    TrialTable.View Trials);

/// <summary>The best trial by its last report's metric.</summary>
public sealed record BestTrial(string TrialId, TrialConfig Config, TrialResult LastResult);
