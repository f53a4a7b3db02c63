using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Core.Search;

/// <summary>
/// Lets its searcher have at most <see cref="MaxConcurrent"/> trials in flight (Ray's
/// <c>ConcurrencyLimiter</c>): a model-based searcher learns more from each result when fewer
/// suggestions are made blind, whatever parallelism the cluster would allow.
/// </summary>
public sealed class ConcurrencyLimiter(ISearcher inner, int maxConcurrent) : ISearcher
{
    private readonly HashSet<string> _live = new(StringComparer.Ordinal);

    public int MaxConcurrent { get; } = maxConcurrent >= 1 ? maxConcurrent : throw new ArgumentOutOfRangeException(nameof(maxConcurrent), maxConcurrent, "must be at least 1");

    public bool IsExhausted => inner.IsExhausted;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (_live.Count >= MaxConcurrent || !inner.TrySuggest(trialId, out config))
        {
            config = TrialConfig.Empty;
            return false;
        }

        _live.Add(trialId);
        return true;
    }

    public bool LearnsFromResults => inner.LearnsFromResults;

    public void OnTrialResult(string trialId, TrialResult result) => inner.OnTrialResult(trialId, result);

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        _live.Remove(trialId);
        inner.OnTrialComplete(trialId, lastMetrics, failed);
    }
}
