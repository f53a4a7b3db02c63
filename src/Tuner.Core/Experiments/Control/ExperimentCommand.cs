using Tuner.Core.Space;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// What the controller asks of the world after it changed the experiment: the host (the experiment
/// grain) carries these out, in order, through trial grains, checkpoint copies and the run folder.
/// </summary>
public abstract record ExperimentCommand;

/// <summary>Create the trial's grain and queue its first run.</summary>
public sealed record StartTrial(string TrialId) : ExperimentCommand;

/// <summary>
/// Queue a paused trial again. With <see cref="CloneFrom"/> (population-based training's exploit) the
/// host copies that trial's latest checkpoint first and tells the controller
/// (<see cref="ExperimentController.Exploited"/>), which records the exploit; otherwise the trial
/// resumes from its own checkpoint and the decision is recorded already.
/// </summary>
public sealed record ResumeTrial(string TrialId, string? CloneFrom = null, TrialConfig? Config = null, string? Reason = null) : ExperimentCommand;

/// <summary>Stop the trial (a running one reports back as it ends; a paused one is already recorded as ended).</summary>
public sealed record StopTrial(string TrialId, string Reason) : ExperimentCommand;

/// <summary>The trial, TERMINATED by the user's stop of the experiment, is PAUSED again: the experiment was resumed.</summary>
public sealed record ReopenTrial(string TrialId) : ExperimentCommand;

/// <summary>After a restore: make the trial's grain again, paused, or queued as a new run from its latest checkpoint.</summary>
public sealed record RestoreTrial(string TrialId, bool Paused) : ExperimentCommand;

/// <summary>End the experiment (nothing is left to run, a time budget, a spec error): stop what runs, write the files.</summary>
public sealed record EndExperiment(ExperimentStatus Status, string? Reason) : ExperimentCommand;
