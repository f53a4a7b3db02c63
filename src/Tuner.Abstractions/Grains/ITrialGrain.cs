using Orleans.Concurrency;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;

namespace Tuner.Abstractions.Grains;

/// <summary>
/// Ray's trial actor: one trial's state (PENDING, RUNNING, PAUSED, TERMINATED, ERROR), config,
/// last result, checkpoint and failures. Keyed by <see cref="TrialKeys.Of"/>.
/// </summary>
[Alias("Tuner.ITrialGrain")]
public interface ITrialGrain : IGrainWithStringKey
{
    /// <summary>Creates the trial (PENDING) and asks the resource scheduler for its slots.</summary>
    [Alias("Initialize")]
    Task InitializeAsync(TrialAssignment assignment, int maxFailures);

    /// <summary>
    /// The trial again, as its experiment's journal left it (after a restart): PAUSED, or PENDING and
    /// queued to run <paramref name="assignment"/> (from its <c>RestoreFrom</c> checkpoint).
    /// </summary>
    [Alias("Restore")]
    Task RestoreAsync(TrialAssignment assignment, int maxFailures, int failures, bool paused);

    /// <summary>A worker began running the trial.</summary>
    [Alias("Started")]
    Task StartedAsync(string workerId, int attempt);

    [Alias("Checkpointed")]
    Task CheckpointedAsync(CheckpointRef checkpoint);

    /// <summary>The worker's run ended: finished, stopped or failed (then retried while failures allow).</summary>
    [Alias("Complete")]
    Task CompleteAsync(TrialOutcome outcome);

    /// <summary>
    /// The resource scheduler's word that the run failed without its worker (the worker was lost, or refused to start it): as
    /// <see cref="CompleteAsync"/>, but one-way, since the trial then calls the scheduler back (release, resubmit).
    /// </summary>
    [Alias("RunFailed"), OneWay]
    Task RunFailedAsync(TrialOutcome outcome);

    /// <summary>
    /// Resumes a PAUSED trial: back in the resource scheduler's queue, to restart from
    /// <paramref name="restoreFrom"/> (its own latest checkpoint when null) with <paramref name="config"/>
    /// (its own when null).
    /// </summary>
    [Alias("Resume")]
    Task ResumeAsync(Tuner.Core.Space.TrialConfig? config, CheckpointRef? restoreFrom);

    /// <summary>Stops the trial wherever it is: taken from the queue if pending, cancelled on its worker if running, ended at once if paused (the caller, the experiment, records that end itself).</summary>
    [Alias("Stop"), AlwaysInterleave]
    Task StopAsync(string reason);

    /// <summary>
    /// A trial the experiment's stop ended goes back to PAUSED, for the resumed experiment to resume it. An ended trial's
    /// grain may have deactivated (finished trials do not stay in memory): it is made again from <paramref name="assignment"/>
    /// (its latest run, from its latest checkpoint) with the failures it had.
    /// </summary>
    [Alias("Reopen")]
    Task ReopenAsync(TrialAssignment assignment, int maxFailures, int failures);

    [Alias("Get"), AlwaysInterleave]
    Task<TrialInfo> GetAsync();
}
