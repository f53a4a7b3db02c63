using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Core.Search;

/// <summary>
/// Runs every config its searcher suggests <see cref="Repeat"/> times (Ray's <c>Repeater</c>): each
/// copy is its own trial with its own seed, and once all copies have ended the searcher learns the
/// mean of their metric, so a noisy result is averaged over seeds before it steers the search.
/// </summary>
public sealed class Repeater(ISearcher inner, int repeat, string metric) : ISearcher
{
    private readonly Dictionary<string, Group> _groupOf = new(StringComparer.Ordinal);
    private Group? _filling;

    public int Repeat { get; } = repeat >= 1 ? repeat : throw new ArgumentOutOfRangeException(nameof(repeat), repeat, "must be at least 1");

    public bool IsExhausted => _filling is null && inner.IsExhausted;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (_filling is null)
        {
            if (!inner.TrySuggest(trialId, out var fresh))
            {
                config = TrialConfig.Empty;
                return false;
            }

            // The group is known to the searcher by its first trial's id.
            _filling = new Group(trialId, fresh);
        }

        var group = _filling;
        group.Members++;
        _groupOf[trialId] = group;
        if (group.Members == Repeat)
        {
            _filling = null;
        }

        config = group.Config;
        return true;
    }

    public bool LearnsFromResults => inner.LearnsFromResults;

    /// <summary>Intermediate results reach the searcher from each group's first trial, the id it knows the group by.</summary>
    public void OnTrialResult(string trialId, TrialResult result)
    {
        if (_groupOf.TryGetValue(trialId, out var group) && group.Id == trialId)
        {
            inner.OnTrialResult(trialId, result);
        }
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        if (!_groupOf.Remove(trialId, out var group))
        {
            return;
        }

        group.Ended++;
        if (!failed && lastMetrics is not null && lastMetrics.TryGetValue(metric, out var value) && double.IsFinite(value))
        {
            group.Values.Add(value);
        }

        if (group.Ended == Repeat)
        {
            var mean = group.Values.Count == 0 ? (IReadOnlyDictionary<string, double>?)null : new Dictionary<string, double> { [metric] = group.Values.Average() };
            inner.OnTrialComplete(group.Id, mean, failed: mean is null);
        }
    }

    private sealed class Group(string id, TrialConfig config)
    {
        public string Id { get; } = id;

        public TrialConfig Config { get; } = config;

        public int Members { get; set; }

        public int Ended { get; set; }

        public List<double> Values { get; } = [];
    }
}
