using Orleans.Concurrency;
using Tuner.Abstractions.Messages;

namespace Tuner.Abstractions.Grains;

/// <summary>
/// A worker process's trial runner, reached through an Orleans observer reference: the resource
/// scheduler calls the exact process it granted slots on, never a grain placed by chance.
/// </summary>
[Alias("Tuner.ITrialWorker")]
public interface ITrialWorker : IGrainObserver
{
    /// <summary>Starts the trial in the background and returns at once.</summary>
    [Alias("StartTrial")]
    Task StartTrialAsync(TrialAssignment assignment);

    /// <summary>Cancels a running trial; it reports its outcome to its trial grain.</summary>
    [Alias("StopTrial")]
    Task StopTrialAsync(string trialKey, string reason);

    /// <summary>The experiment has ended: what the worker holds for it (a custom trainable's assembly) can go.</summary>
    [Alias("ExperimentEnded")]
    Task ExperimentEndedAsync(string experimentId);
}
