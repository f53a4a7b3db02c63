using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Hosting;

namespace Tuner.Scheduler.Grains;

/// <summary>
/// The cluster's list of experiments, for listing them, for telling a known id from an unknown one,
/// and for bringing back the running ones after the scheduler silo restarts. Kept in the cluster's
/// grain storage (Redis in a cluster).
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class ExperimentRegistryGrain(
    [PersistentState("registry", TunerStorage.Name)] IPersistentState<ExperimentRegistryState> state) : Grain, IExperimentRegistryGrain
{
    private readonly Dictionary<string, ExperimentListing> _byId = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var listing in state.State.Experiments)
        {
            _byId[listing.ExperimentId] = listing;
        }

        return Task.CompletedTask;
    }

    public async Task<bool> RegisterAsync(ExperimentListing listing)
    {
        if (!_byId.TryAdd(listing.ExperimentId, listing))
        {
            return false;
        }

        state.State.Experiments.Add(listing);
        state.State.Running.Add(listing.ExperimentId);
        await state.WriteStateAsync();
        return true;
    }

    public Task<bool> ContainsAsync(string experimentId) => Task.FromResult(_byId.ContainsKey(experimentId));

    public Task<IReadOnlyList<ExperimentListing>> ListAsync() => Task.FromResult<IReadOnlyList<ExperimentListing>>([.. state.State.Experiments]);

    public async Task SetRunningAsync(string experimentId, bool running)
    {
        if (running ? state.State.Running.Add(experimentId) : state.State.Running.Remove(experimentId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<IReadOnlyList<string>> ListRunningAsync() => Task.FromResult<IReadOnlyList<string>>([.. state.State.Running]);
}

/// <summary>What the registry keeps in grain storage.</summary>
[GenerateSerializer, Alias("Tuner.ExperimentRegistryState")]
public sealed class ExperimentRegistryState
{
    [Id(0)]
    public List<ExperimentListing> Experiments { get; set; } = [];

    /// <summary>The experiments that have not ended: brought back after a restart.</summary>
    [Id(1)]
    public HashSet<string> Running { get; set; } = new(StringComparer.Ordinal);
}
