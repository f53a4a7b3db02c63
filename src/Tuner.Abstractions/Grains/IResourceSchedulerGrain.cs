using Orleans.Concurrency;
using Tuner.Abstractions.Messages;

namespace Tuner.Abstractions.Grains;

/// <summary>
/// Knows every worker and its CPU and GPU slots, grants them to trials in arrival order, releases
/// them when trials end, and queues what does not fit. One per cluster: key <see cref="ClusterKey"/>.
/// </summary>
[Alias("Tuner.IResourceSchedulerGrain")]
public interface IResourceSchedulerGrain : IGrainWithIntegerKey
{
    public const long ClusterKey = 0;

    [Alias("RegisterWorker")]
    Task RegisterWorkerAsync(WorkerInfo info, ITrialWorker worker);

    [Alias("UnregisterWorker")]
    Task UnregisterWorkerAsync(string workerId);

    /// <summary>Queues a trial; it starts on a worker as soon as one has room.</summary>
    [Alias("Submit")]
    Task SubmitAsync(TrialAssignment assignment);

    /// <summary>Gives back what a trial held.</summary>
    [Alias("Release")]
    Task ReleaseAsync(string trialKey);

    /// <summary>Takes a queued trial off the queue (true), or asks its worker to stop it (false).</summary>
    [Alias("Cancel")]
    Task<bool> CancelAsync(string trialKey, string reason);

    /// <summary>Tells every worker that an experiment has ended.</summary>
    [Alias("ExperimentEnded"), OneWay]
    Task ExperimentEndedAsync(string experimentId);

    [Alias("GetResources"), AlwaysInterleave]
    Task<ClusterResources> GetResourcesAsync();
}
