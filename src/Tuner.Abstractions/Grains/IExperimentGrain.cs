using Orleans.Concurrency;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;

namespace Tuner.Abstractions.Grains;

/// <summary>
/// Ray's tuner, one per experiment: asks the searcher for configs, creates trials, applies the
/// early-stopping scheduler and stop rules to every reported result, and keeps the best trial.
/// </summary>
[Alias("Tuner.IExperimentGrain")]
public interface IExperimentGrain : IGrainWithStringKey
{
    [Alias("Start")]
    Task<ExperimentSnapshot> StartAsync(ExperimentSubmission submission);

    /// <summary>
    /// Rebuilds the experiment from the journal in its run folder (<paramref name="runDirectory"/>),
    /// as after a kill: finished trials stay finished, the searcher and the scheduler are where they
    /// were, interrupted trials go back to the queue to resume from their last checkpoints, and
    /// watchers find every event at the position it had. An experiment already active here is
    /// returned as it is. The grain's id must be the one the journal names. <paramref name="spec"/>, when
    /// given and the same as the journal's, supplies what the journal holds redacted (a command's environment).
    /// </summary>
    [Alias("Restore")]
    Task<ExperimentSnapshot> RestoreAsync(string runDirectory, Tuner.Core.Spec.ExperimentSpec? spec = null);

    /// <summary>The experiment now, with up to <paramref name="maxRows"/> trial rows (running first).</summary>
    [Alias("GetSnapshot"), AlwaysInterleave]
    Task<ExperimentSnapshot> GetSnapshotAsync(int maxRows);

    /// <summary>Returns true as soon as the experiment has ended (its files written), or false after <paramref name="timeout"/>.</summary>
    [Alias("WaitForEnd"), AlwaysInterleave]
    Task<bool> WaitForEndAsync(TimeSpan timeout);

    /// <summary>Stops the experiment: no new trials, running ones are stopped, status <c>stopped</c>.</summary>
    [Alias("Stop")]
    Task StopAsync(string reason);

    /// <summary>
    /// Continues a stopped experiment: the trials the stop interrupted resume from their last
    /// checkpoints and the searcher goes on where it was.
    /// </summary>
    [Alias("Resume")]
    Task<ExperimentSnapshot> ResumeAsync();

    /// <summary>A completed experiment goes on to <paramref name="samples"/> configs; the grain restarts from its journal at the next call.</summary>
    [Alias("Extend")]
    Task ExtendAsync(int samples);

    /// <summary>Stops one trial on the user's request (recorded as a decision); stopping an ended trial does nothing.</summary>
    [Alias("StopTrial")]
    Task StopTrialAsync(string trialId, string reason);

    /// <summary>The trial's state as its grain holds it.</summary>
    [Alias("GetTrial"), AlwaysInterleave]
    Task<TrialInfo> GetTrialAsync(string trialId);

    /// <summary>
    /// Events after position <paramref name="after"/>, at most <paramref name="max"/>; waits up to
    /// <paramref name="wait"/> for one when there is none yet and the experiment still runs.
    /// </summary>
    [Alias("ReadEvents"), AlwaysInterleave]
    Task<EventPage> ReadEventsAsync(long after, int max, TimeSpan wait);

    /// <summary>The spec the experiment runs, or null when no experiment was started under this id.</summary>
    [Alias("GetSpec"), AlwaysInterleave]
    Task<Tuner.Core.Spec.ExperimentSpec?> GetSpecAsync();

    /// <summary>Run <paramref name="attempt"/> of the trial began on a worker; results of earlier runs are refused from now on.</summary>
    [Alias("OnTrialStarted"), OneWay]
    Task OnTrialStartedAsync(string trialId, string workerId, int attempt);

    /// <summary>
    /// A worker reports results of its trials, as Ray's trial actors report to the tuner, batched
    /// (one answer per report, in order). The experiment records each (dropping iterations it
    /// already has), decides centrally and answers continue, pause or stop. A report from a run the
    /// trial has moved past (a worker that lost its lease, or a run from before a restart) is not
    /// recorded and is answered stop.
    /// </summary>
    [Alias("OnTrialResults")]
    Task<TrialCommand[]> OnTrialResultsAsync(IReadOnlyList<TrialReport> reports);

    /// <summary>A trial failed (or was handed back) and will run again as <paramref name="attempt"/>, from its last checkpoint.</summary>
    [Alias("OnTrialRetrying"), OneWay]
    Task OnTrialRetryingAsync(string trialId, int failures, string error, int attempt);

    /// <summary>A trial paused on the scheduler's decision: its checkpoint is saved and its slot is about to be free.</summary>
    [Alias("OnTrialPaused")]
    Task OnTrialPausedAsync(string trialId);

    /// <summary>A trial reached TERMINATED or ERROR.</summary>
    [Alias("OnTrialEnded")]
    Task OnTrialEndedAsync(string trialId, TrialStatus status, string? reason);
}
