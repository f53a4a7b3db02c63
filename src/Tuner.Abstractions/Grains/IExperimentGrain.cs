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

    /// <summary>The experiment now, with up to <paramref name="maxRows"/> trial rows (running first).</summary>
    [Alias("GetSnapshot"), AlwaysInterleave]
    Task<ExperimentSnapshot> GetSnapshotAsync(int maxRows);

    /// <summary>Returns true as soon as the experiment has ended (its files written), or false after <paramref name="timeout"/>.</summary>
    [Alias("WaitForEnd"), AlwaysInterleave]
    Task<bool> WaitForEndAsync(TimeSpan timeout);

    /// <summary>Stops the experiment: no new trials, running ones are stopped, status <c>stopped</c>.</summary>
    [Alias("Stop")]
    Task StopAsync(string reason);

    [Alias("OnTrialStarted"), OneWay]
    Task OnTrialStartedAsync(string trialId, string workerId);

    /// <summary>
    /// A trial's worker reports a result, as Ray's trial actors report to the tuner. The experiment
    /// records it (dropping iterations it already has), decides centrally, forwards the result to
    /// the trial grain and answers continue, pause or stop.
    /// </summary>
    [Alias("OnTrialResult")]
    Task<TrialCommand> OnTrialResultAsync(string trialId, TrialResult result);

    /// <summary>A trial failed and will be retried from its last checkpoint.</summary>
    [Alias("OnTrialRetrying"), OneWay]
    Task OnTrialRetryingAsync(string trialId, int failures, string error);

    /// <summary>A trial paused on the scheduler's decision: its checkpoint is saved and its slot is about to be free.</summary>
    [Alias("OnTrialPaused")]
    Task OnTrialPausedAsync(string trialId);

    /// <summary>A trial reached TERMINATED or ERROR.</summary>
    [Alias("OnTrialEnded")]
    Task OnTrialEndedAsync(string trialId, TrialStatus status, string? reason);
}
