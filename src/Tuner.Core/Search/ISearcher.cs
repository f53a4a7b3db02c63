using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Core.Search;

/// <summary>
/// Suggests configs for new trials and learns from their results (Ray's Searcher).
/// The experiment calls it from one thread at a time.
/// </summary>
public interface ISearcher
{
    /// <summary>True when no further config will ever be suggested.</summary>
    bool IsExhausted { get; }

    /// <summary>The next config for <paramref name="trialId"/>, or false when there is none now.</summary>
    bool TrySuggest(string trialId, out TrialConfig config);

    /// <summary>True for searchers that learn from intermediate results (<see cref="OnTrialResult"/>), such as BOHB.</summary>
    bool LearnsFromResults => false;

    /// <summary>A trial reported <paramref name="result"/> (multi-fidelity searchers learn from intermediate results).</summary>
    void OnTrialResult(string trialId, TrialResult result)
    {
    }

    /// <summary>
    /// <paramref name="trialId"/> runs <paramref name="config"/>, which this searcher did not suggest (a warm start's point, or an
    /// evaluated one): from here it is told of the trial as of its own, and learns from it the same way. It does not count
    /// among the searcher's suggestions.
    /// </summary>
    void Adopt(string trialId, TrialConfig config)
    {
    }

    /// <summary>A trial ended; <paramref name="lastMetrics"/> is its last report, null when it reported nothing.</summary>
    void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed);
}
