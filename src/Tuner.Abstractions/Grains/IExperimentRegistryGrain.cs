using Orleans.Concurrency;
using Tuner.Abstractions.Messages;

namespace Tuner.Abstractions.Grains;

/// <summary>Every experiment submitted to the cluster, in order. One per cluster: key <see cref="ClusterKey"/>.</summary>
[Alias("Tuner.IExperimentRegistryGrain")]
public interface IExperimentRegistryGrain : IGrainWithIntegerKey
{
    public const long ClusterKey = 0;

    /// <summary>Adds an experiment; false when its id is already taken.</summary>
    [Alias("Register")]
    Task<bool> RegisterAsync(ExperimentListing listing);

    [Alias("Contains"), AlwaysInterleave]
    Task<bool> ContainsAsync(string experimentId);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<ExperimentListing>> ListAsync();

    /// <summary>Records whether the experiment runs (and must be brought back after a restart) or has ended.</summary>
    [Alias("SetRunning")]
    Task SetRunningAsync(string experimentId, bool running);

    /// <summary>The experiments that have not ended: after a restart of the scheduler silo each is activated, which restores it from its journal.</summary>
    [Alias("ListRunning"), AlwaysInterleave]
    Task<IReadOnlyList<string>> ListRunningAsync();
}
