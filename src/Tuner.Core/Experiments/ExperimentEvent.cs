using Tuner.Core.Space;

namespace Tuner.Core.Experiments;

/// <summary>What happened in an experiment, in order: <see cref="ExperimentEvent.Position"/> counts from 1 and never repeats.</summary>
public enum ExperimentEventKind
{
    /// <summary>The experiment started, ended, or was resumed (<see cref="ExperimentEvent.ExperimentStatus"/>).</summary>
    ExperimentStatus,

    /// <summary>A trial was created with <see cref="ExperimentEvent.Config"/>.</summary>
    TrialCreated,

    /// <summary>A trial changed state (<see cref="ExperimentEvent.TrialStatus"/>, with the reason in <see cref="ExperimentEvent.Message"/>).</summary>
    TrialStatus,

    /// <summary>A trial's result was recorded.</summary>
    Result,

    /// <summary>The scheduler, a stop rule or the user decided about a trial (<see cref="ExperimentEvent.Action"/>: pause, stop, resume, exploit).</summary>
    Decision,

    /// <summary>A trial's config changed (population-based training's explore).</summary>
    ConfigChanged,
}

/// <summary>One thing that happened in an experiment: what watchers see, what the journal records, and what the experiment's controller applies to its trial table (live and in a replay alike).</summary>
public sealed record ExperimentEvent(
    long Position,
    DateTimeOffset Time,
    ExperimentEventKind Kind,
    string? TrialId = null,
    TrialStatus? TrialStatus = null,
    TrialResult? Result = null,
    TrialConfig? Config = null,
    string? Action = null,
    string? Message = null,
    ExperimentStatus? ExperimentStatus = null);
