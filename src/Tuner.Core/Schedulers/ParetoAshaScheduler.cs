using System.Globalization;
using Tuner.Core.Experiments;
using Tuner.Core.Search.Pareto;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// ASHA's stopping form for several objectives (<c>scheduler.algorithm: asha</c> with a list of metrics): the rungs are
/// ASHA's, and a trial that reaches one is judged there once, by dominance instead of a quantile. With <c>m</c> trials
/// recorded at the rung (itself included), it stops when at least <c>max(1, m / reduction_factor)</c> of them dominate it
/// (no worse in every objective, better in one; with constraints, Deb's constrained dominance): a trial on the rung's
/// Pareto front always goes on, and about the top 1/rf by dominance go on, as with one metric. A trial that reaches
/// <c>max_t</c> stops: it is done. It never pauses.
/// </summary>
public sealed class ParetoAshaScheduler : ITrialScheduler
{
    private readonly Objective[] _objectives;
    private readonly string _timeAttr;
    private readonly double _maxT;
    private readonly double _reductionFactor;
    private readonly Rung[] _rungs;

    public ParetoAshaScheduler(IReadOnlyList<Objective> objectives, string timeAttr, double maxT, double gracePeriod, double reductionFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gracePeriod, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxT, gracePeriod);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(reductionFactor, 1);
        _objectives = [.. objectives];
        _timeAttr = timeAttr;
        _maxT = maxT;
        _reductionFactor = reductionFactor;
        _rungs = [.. AshaScheduler.RungMilestones(maxT, gracePeriod, reductionFactor).Reverse().Select(m => new Rung(m))];
    }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (TimeAttribute.Read(result, _timeAttr) is not { } t || double.IsNaN(t) || Losses(result) is not { } losses)
        {
            return SchedulerDecision.Continue;
        }

        if (t >= _maxT)
        {
            return new SchedulerDecision(SchedulerAction.Stop, $"asha: reached max_t {MetricSign.F(_maxT)} {_timeAttr}");
        }

        var violation = Constraints.Violation(result.Metrics);
        foreach (var rung in _rungs)
        {
            if (t < rung.Milestone || rung.Trials.ContainsKey(trialId))
            {
                continue;
            }

            var dominating = rung.Trials.Values.Count(o => Pareto.Dominates(o.Losses, o.Violation, losses, violation));
            rung.Trials[trialId] = (losses, violation);
            var quota = Math.Max(1, rung.Trials.Count / _reductionFactor);
            if (dominating < quota)
            {
                return SchedulerDecision.Continue;
            }

            var values = string.Join(", ", _objectives.Select(o => $"{o.Metric} {MetricSign.F(result.GetMetric(o.Metric)!.Value)}"));
            return new SchedulerDecision(
                SchedulerAction.Stop,
                string.Create(CultureInfo.InvariantCulture, $"asha: at rung {MetricSign.F(rung.Milestone)} {_timeAttr}, {dominating} of the {rung.Trials.Count} trial(s) there dominate it ({values}); it goes on while fewer than {MetricSign.F(quota)} do"));
        }

        return SchedulerDecision.Continue;
    }

    public void OnTrialComplete(string trialId)
    {
    }

    private double[]? Losses(TrialResult result)
    {
        var losses = new double[_objectives.Length];
        for (var i = 0; i < losses.Length; i++)
        {
            if (result.GetMetric(_objectives[i].Metric) is not { } value || double.IsNaN(value))
            {
                return null;
            }

            losses[i] = _objectives[i].Loss(value);
        }

        return losses;
    }

    private sealed class Rung(double milestone)
    {
        public double Milestone { get; } = milestone;

        public Dictionary<string, (double[] Losses, double Violation)> Trials { get; } = new(StringComparer.Ordinal);
    }
}
