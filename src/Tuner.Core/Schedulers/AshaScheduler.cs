using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// Asynchronous successive halving in its stopping form (Ray's <c>AsyncHyperBandScheduler</c>, one
/// bracket). Rungs sit at <c>grace_period x reduction_factor^k</c> below <c>max_t</c>. When a trial first
/// reaches a rung (the highest it has passed and not yet been judged at) its score is compared with
/// the <c>1 - 1/reduction_factor</c> quantile of the scores already recorded there (linear
/// interpolation, as numpy's percentile): below it, the trial stops; either way its score joins the
/// rung. The first trial at a rung always passes. A trial that reaches <c>max_t</c> stops: it is done.
/// It never pauses.
/// </summary>
public sealed class AshaScheduler : ITrialScheduler
{
    private readonly MetricSign _sign;
    private readonly string _timeAttr;
    private readonly double _maxT;
    private readonly double _reductionFactor;

    // Highest milestone first, as Ray walks them.
    private readonly RungScores[] _rungs;

    public AshaScheduler(string metric, OptimizationMode mode, string timeAttr, double maxT, double gracePeriod, double reductionFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gracePeriod, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxT, gracePeriod);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(reductionFactor, 1);
        _sign = new MetricSign(metric, mode);
        _timeAttr = timeAttr;
        _maxT = maxT;
        _reductionFactor = reductionFactor;
        Milestones = RungMilestones(maxT, gracePeriod, reductionFactor);
        _rungs = [.. Milestones.Reverse().Select(m => new RungScores(m))];
    }

    /// <summary>The rungs' milestones, lowest first: <c>grace_period x rf^k</c> for <c>k &lt; floor(log_rf(max_t / grace_period)) + 1</c>.</summary>
    public IReadOnlyList<double> Milestones { get; }

    public static IReadOnlyList<double> RungMilestones(double maxT, double gracePeriod, double reductionFactor)
    {
        // Ray: MAX_RUNGS = int(log(max_t / grace_period) / log(rf) + 1), with a tolerance for exact powers.
        var count = (int)Math.Floor((Math.Log(maxT / gracePeriod) / Math.Log(reductionFactor)) + 1 + 1e-9);
        return [.. Enumerable.Range(0, count).Select(k => gracePeriod * Math.Pow(reductionFactor, k))];
    }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (!_sign.TryRead(result, _timeAttr, out var t, out var value))
        {
            return SchedulerDecision.Continue;
        }

        if (t >= _maxT)
        {
            return new SchedulerDecision(SchedulerAction.Stop, $"asha: reached max_t {MetricSign.F(_maxT)} {_timeAttr}");
        }

        var score = _sign.Score(value);
        foreach (var rung in _rungs)
        {
            if (t < rung.Milestone || rung.Scores.ContainsKey(trialId))
            {
                continue;
            }

            var decision = SchedulerDecision.Continue;
            if (Cutoff(rung.Scores.Values) is { } cutoff && score < cutoff)
            {
                decision = new SchedulerDecision(
                    SchedulerAction.Stop,
                    $"asha: at rung {MetricSign.F(rung.Milestone)} {_timeAttr}, {_sign.Metric} {MetricSign.F(value)} is {_sign.Worse} the cutoff {MetricSign.F(_sign.Value(cutoff))} (the top 1/{MetricSign.F(_reductionFactor)} of {rung.Scores.Count} trial(s) there go on)");
            }

            rung.Scores[trialId] = score;
            return decision;
        }

        return SchedulerDecision.Continue;
    }

    public void OnTrialComplete(string trialId)
    {
    }

    /// <summary>The <c>1 - 1/rf</c> quantile of the scores recorded at a rung; null when there are none.</summary>
    public double? Cutoff(IEnumerable<double> scores)
    {
        var sorted = scores.Where(s => !double.IsNaN(s)).Order().ToArray();
        return sorted.Length == 0 ? null : Quantile.Linear(sorted, 1 - (1 / _reductionFactor));
    }

    private sealed class RungScores(double milestone)
    {
        public double Milestone { get; } = milestone;

        public Dictionary<string, double> Scores { get; } = new(StringComparer.Ordinal);
    }
}
