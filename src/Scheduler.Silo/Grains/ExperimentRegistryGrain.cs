using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;

namespace Tuner.Scheduler.Grains;

/// <summary>The cluster's list of experiments, for listing them and for telling a known id from an unknown one.</summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class ExperimentRegistryGrain : Grain, IExperimentRegistryGrain
{
    private readonly Dictionary<string, ExperimentListing> _byId = new(StringComparer.Ordinal);
    private readonly List<ExperimentListing> _ordered = [];

    public Task<bool> RegisterAsync(ExperimentListing listing)
    {
        if (!_byId.TryAdd(listing.ExperimentId, listing))
        {
            return Task.FromResult(false);
        }

        _ordered.Add(listing);
        return Task.FromResult(true);
    }

    public Task<bool> ContainsAsync(string experimentId) => Task.FromResult(_byId.ContainsKey(experimentId));

    public Task<IReadOnlyList<ExperimentListing>> ListAsync() => Task.FromResult<IReadOnlyList<ExperimentListing>>([.. _ordered]);
}
