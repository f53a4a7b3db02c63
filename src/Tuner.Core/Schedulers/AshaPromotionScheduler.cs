using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// Asynchronous successive halving as the paper has it (Li et al., MLSys 2020), the promotion form:
/// rungs at <c>grace_period x reduction_factor^k</c>; a trial that reaches its next rung pauses there
/// (its checkpoint kept, its slot free) unless it is promotable at once. Whenever a slot is free,
/// the best trial in the top <c>floor(n/rf)</c> of a rung that has not yet been promoted from it is
/// resumed, the highest rung first; when there is none, a new config starts at the bottom rung. A
/// trial that reaches <c>max_t</c> is done. Once the searcher has nothing more and no trial runs,
/// the paused trials left can never be promoted and stop.
/// </summary>
public sealed class AshaPromotionScheduler : ITrialScheduler
{
    private readonly MetricSign _sign;
    private readonly string _timeAttr;
    private readonly double _maxT;
    private readonly double _reductionFactor;
    private readonly Dictionary<string, double>[] _rungs;
    private readonly HashSet<string>[] _promoted;

    // The index of the rung each trial is heading for.
    private readonly Dictionary<string, int> _target = new(StringComparer.Ordinal);

    public AshaPromotionScheduler(string metric, OptimizationMode mode, string timeAttr, double maxT, double gracePeriod, double reductionFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(gracePeriod, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxT, gracePeriod);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(reductionFactor, 1);
        _sign = new MetricSign(metric, mode);
        _timeAttr = timeAttr;
        _maxT = maxT;
        _reductionFactor = reductionFactor;
        Milestones = [.. AshaScheduler.RungMilestones(maxT, gracePeriod, reductionFactor).Where(m => m < maxT)];
        _rungs = [.. Milestones.Select(_ => new Dictionary<string, double>(StringComparer.Ordinal))];
        _promoted = [.. Milestones.Select(_ => new HashSet<string>(StringComparer.Ordinal))];
    }

    /// <summary>The rungs' milestones below <c>max_t</c>, lowest first.</summary>
    public IReadOnlyList<double> Milestones { get; }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (!_sign.TryRead(result, _timeAttr, out var t, out var value))
        {
            return SchedulerDecision.Continue;
        }

        if (t >= _maxT)
        {
            return new SchedulerDecision(SchedulerAction.Stop, $"asha_promotion: reached max_t {MetricSign.F(_maxT)} {_timeAttr}");
        }

        var k = _target.GetValueOrDefault(trialId);
        if (k >= Milestones.Count || t < Milestones[k])
        {
            return SchedulerDecision.Continue;
        }

        _rungs[k][trialId] = _sign.Score(value);

        // As the paper's worker asking for a job: a promotion from a higher rung goes first.
        var higherWaiting = Enumerable.Range(k + 1, Milestones.Count - k - 1).Any(j => Promotable(j).Any());
        if (!higherWaiting && Promotable(k).Contains(trialId))
        {
            Promote(trialId, k);
            return SchedulerDecision.Continue;
        }

        var (rank, count) = Rank(k, trialId);
        return new SchedulerDecision(
            SchedulerAction.Pause,
            $"asha_promotion: paused at rung {MetricSign.F(Milestones[k])} {_timeAttr}, {_sign.Metric} {MetricSign.F(value)} ranks {rank} of {count} there; the top {TopCount(count)} are promoted");
    }

    public void OnTrialComplete(string trialId)
    {
    }

    public SchedulerChoice ChooseTrialToRun(SchedulerState state)
    {
        for (var k = Milestones.Count - 1; k >= 0; k--)
        {
            if (Promotable(k).FirstOrDefault(state.Paused.Contains) is { } trialId)
            {
                var (rank, count) = Rank(k, trialId);
                Promote(trialId, k);
                return SchedulerChoice.Resume(trialId, $"asha_promotion: promoted from rung {MetricSign.F(Milestones[k])} {_timeAttr} (rank {rank} of {count})");
            }
        }

        return state.SearcherHasMore ? SchedulerChoice.StartNew : SchedulerChoice.Wait;
    }

    public IReadOnlyList<SchedulerDecisionFor> PausedToStop(SchedulerState state)
    {
        if (state.SearcherHasMore || state.Running > 0 || state.Paused.Count == 0 || Enumerable.Range(0, Milestones.Count).Any(k => Promotable(k).Any(state.Paused.Contains)))
        {
            return [];
        }

        return [.. state.Paused.Select(id =>
        {
            var k = _target.GetValueOrDefault(id);
            var (rank, count) = Rank(k, id);
            return new SchedulerDecisionFor(id, $"asha_promotion: never promoted from rung {MetricSign.F(Milestones[k])} {_timeAttr}: {_sign.Metric} {MetricSign.F(_sign.Value(_rungs[k][id]))} ranks {rank} of {count}, outside the top {TopCount(count)}, and no trials are left");
        })];
    }

    private long TopCount(int count) => (long)Math.Floor((count / _reductionFactor) + 1e-9);

    /// <summary>The trials in the top <c>floor(n/rf)</c> of rung k not yet promoted from it, best first.</summary>
    private IEnumerable<string> Promotable(int k) =>
        _rungs[k].OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Take((int)TopCount(_rungs[k].Count)).Select(p => p.Key).Where(id => !_promoted[k].Contains(id));

    private void Promote(string trialId, int k)
    {
        _promoted[k].Add(trialId);
        _target[trialId] = k + 1;
    }

    private (int Rank, int Count) Rank(int k, string trialId)
    {
        var score = _rungs[k][trialId];
        return (1 + _rungs[k].Count(p => p.Value > score), _rungs[k].Count);
    }
}
