using System.Globalization;
using Tuner.Core.Experiments;
using Tuner.Core.Search.Pareto;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// ASHA's stopping form for several objectives (<c>scheduler.algorithm: asha</c> with a list of metrics): the rungs are
/// ASHA's, and a trial that reaches one is judged there once, ranked by dominance instead of by one metric. Each trial at
/// the rung counts how many of the others there dominate it (no worse in every objective, better in one; with constraints,
/// Deb's constrained dominance): 0 for the rung's Pareto front. As ASHA keeps the top 1/reduction_factor by the metric, a
/// trial goes on when its count is within the best <c>ceil(m / reduction_factor)</c> of the <c>m</c> counts there (itself
/// included; ties with the last of them go on too), so the rung's front always goes on. A trial that reaches <c>max_t</c>
/// stops: it is done. It never pauses. Each judgement costs a pass over the rung.
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
        if (TimeAttribute.Read(result, _timeAttr) is not { } t || double.IsNaN(t) || Objective.Losses(_objectives, result.Metrics) is not { } losses)
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

            // The newcomer's count, and one more for each trial there it dominates.
            var dominated = 0;
            foreach (var other in rung.Trials.Values)
            {
                if (Pareto.Dominates(other.Losses, other.Violation, losses, violation))
                {
                    dominated++;
                }
                else if (Pareto.Dominates(losses, violation, other.Losses, other.Violation))
                {
                    other.DominatedBy++;
                }
            }

            rung.Trials[trialId] = new Entry(losses, violation) { DominatedBy = dominated };
            var keep = (int)Math.Ceiling(rung.Trials.Count / _reductionFactor);
            var cutoff = rung.Trials.Values.Select(e => e.DominatedBy).Order().ElementAt(keep - 1);
            if (dominated <= cutoff)
            {
                return SchedulerDecision.Continue;
            }

            var values = string.Join(", ", _objectives.Select(o => $"{o.Metric} {MetricSign.F(result.GetMetric(o.Metric)!.Value)}"));
            return new SchedulerDecision(
                SchedulerAction.Stop,
                string.Create(CultureInfo.InvariantCulture, $"asha: at rung {MetricSign.F(rung.Milestone)} {_timeAttr}, {dominated} of the {rung.Trials.Count} trial(s) there dominate it ({values}); the top 1/{MetricSign.F(_reductionFactor)} by dominance ({keep}, dominated by at most {cutoff}) go on"));
        }

        return SchedulerDecision.Continue;
    }

    public void OnTrialComplete(string trialId)
    {
    }

    private sealed class Rung(double milestone)
    {
        public double Milestone { get; } = milestone;

        public Dictionary<string, Entry> Trials { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>A trial at a rung: its losses, violation, and how many of the rung's trials dominate it (grows as others arrive).</summary>
    private sealed class Entry(double[] losses, double violation)
    {
        public double[] Losses { get; } = losses;

        public double Violation { get; } = violation;

        public int DominatedBy { get; set; }
    }
}
