using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// The median stopping rule (Golovin et al., Google Vizier; Ray's <c>MedianStoppingRule</c>): once
/// past <c>grace_period</c>, a trial stops when its best score so far is worse than the median, over
/// the other trials that have reached the same time, of their running averages up to that time.
/// Needs at least <c>min_samples_required</c> such trials to judge.
/// </summary>
public sealed class MedianStoppingRule : ITrialScheduler
{
    private readonly MetricSign _sign;
    private readonly string _timeAttr;
    private readonly double _gracePeriod;
    private readonly int _minSamples;
    private readonly Dictionary<string, List<(double Time, double Score)>> _history = new(StringComparer.Ordinal);

    public MedianStoppingRule(string metric, OptimizationMode mode, string timeAttr, double gracePeriod, int minSamplesRequired)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(gracePeriod);
        ArgumentOutOfRangeException.ThrowIfLessThan(minSamplesRequired, 1);
        _sign = new MetricSign(metric, mode);
        _timeAttr = timeAttr;
        _gracePeriod = gracePeriod;
        _minSamples = minSamplesRequired;
    }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (!_sign.TryRead(result, _timeAttr, out var t, out var value))
        {
            return SchedulerDecision.Continue;
        }

        if (!_history.TryGetValue(trialId, out var own))
        {
            _history[trialId] = own = [];
        }

        own.Add((t, _sign.Score(value)));
        if (t < _gracePeriod)
        {
            return SchedulerDecision.Continue;
        }

        // The others that have reached this time, each by its running average up to it.
        var averages = _history
            .Where(h => h.Key != trialId && h.Value.Count > 0 && h.Value[^1].Time >= t)
            .Select(h => h.Value.Where(p => p.Time <= t).Select(p => p.Score).DefaultIfEmpty(double.NaN).Average())
            .Where(a => !double.IsNaN(a))
            .ToArray();
        if (averages.Length < _minSamples)
        {
            return SchedulerDecision.Continue;
        }

        var median = Quantile.Median(averages);
        var best = own.Max(p => p.Score);
        return best < median
            ? new SchedulerDecision(SchedulerAction.Stop, $"median: at {MetricSign.F(t)} {_timeAttr}, best {_sign.Metric} {MetricSign.F(_sign.Value(best))} is {_sign.Worse} the median {MetricSign.F(_sign.Value(median))} of {averages.Length} other trials' running averages")
            : SchedulerDecision.Continue;
    }

    public void OnTrialComplete(string trialId)
    {
    }
}
