using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// Synchronous Hyperband (Li et al., JMLR 2018) with the paper's brackets (<see cref="HyperbandPlan"/>
/// for <c>max_t</c> and <c>reduction_factor</c>, in <c>time_attr</c> units). New trials fill the
/// brackets in order, the most exploratory first, cycling when the last is full. A trial that reaches
/// its bracket's current rung pauses there; once every live trial of the bracket has reached it (and
/// the bracket is full, or the searcher has nothing more) the rung is settled: the best
/// <c>floor(n_i / eta)</c> (the next rung's planned count) resume towards the next rung, the others
/// stop with the cutoff that ranked them out. A trial at the last rung's resource is done.
/// <para>With <c>forBohb</c> it is Ray's HyperBandForBOHB: every trial pauses at the milestone, the one
/// that settles the rung too, and the searcher learns each result's budget (the rung resource).</para>
/// </summary>
public sealed class HyperbandScheduler : ITrialScheduler
{
    private readonly MetricSign _sign;
    private readonly string _timeAttr;
    private readonly double _eta;
    private readonly bool _forBohb;
    private readonly List<BracketRun> _brackets = [];
    private readonly Dictionary<string, BracketRun> _bracketOf = new(StringComparer.Ordinal);

    public HyperbandScheduler(string metric, OptimizationMode mode, string timeAttr, double maxT, double reductionFactor, bool forBohb = false)
    {
        _sign = new MetricSign(metric, mode);
        _timeAttr = timeAttr;
        _eta = reductionFactor;
        _forBohb = forBohb;
        Plan = HyperbandPlan.Brackets(maxT, reductionFactor);
    }

    /// <summary>The paper's brackets, the most exploratory (most configs, least resource) first.</summary>
    public IReadOnlyList<Bracket> Plan { get; }

    private string Name => _forBohb ? "hyperband_bohb" : "hyperband";

    public void OnTrialAdd(string trialId, Space.TrialConfig config)
    {
        var current = _brackets.Count == 0 ? null : _brackets[^1];
        if (current is null || current.Trials.Count >= current.Plan.Rungs[0].Configs)
        {
            current = new BracketRun(Plan[_brackets.Count % Plan.Count]);
            _brackets.Add(current);
        }

        current.Trials.Add(trialId);
        current.Live.Add(trialId);
        _bracketOf[trialId] = current;
    }

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (!_bracketOf.TryGetValue(trialId, out var bracket) || !bracket.Live.Contains(trialId)
            || !_sign.TryRead(result, _timeAttr, out var t, out var value))
        {
            return SchedulerDecision.Continue;
        }

        var rung = bracket.Plan.Rungs[bracket.Rung];
        if (t < rung.Resource || bracket.Scores.ContainsKey(trialId))
        {
            return SchedulerDecision.Continue;
        }

        if (bracket.Rung == bracket.Plan.Rungs.Count - 1)
        {
            bracket.Live.Remove(trialId);
            return new SchedulerDecision(SchedulerAction.Stop, $"{Name}: bracket {bracket.Plan.S}, reached the full resource {MetricSign.F(rung.Resource)} {_timeAttr}");
        }

        bracket.Scores[trialId] = _sign.Score(value);
        if (!Settled(bracket, closed: false))
        {
            return new SchedulerDecision(SchedulerAction.Pause, $"{Name}: bracket {bracket.Plan.S}, paused at rung {MetricSign.F(rung.Resource)} {_timeAttr} until the bracket's {Expected(bracket)} trials reach it ({bracket.Scores.Count} have)");
        }

        var stopped = Halve(bracket);
        if (stopped.TryGetValue(trialId, out var reason))
        {
            bracket.ToStop.Remove(trialId);
            return new SchedulerDecision(SchedulerAction.Stop, reason);
        }

        if (_forBohb)
        {
            return new SchedulerDecision(SchedulerAction.Pause, $"{Name}: bracket {bracket.Plan.S}, paused at rung {MetricSign.F(rung.Resource)} {_timeAttr}; promoted");
        }

        bracket.ToResume.Remove(trialId);
        return SchedulerDecision.Continue;
    }

    public void OnTrialComplete(string trialId)
    {
        if (_bracketOf.TryGetValue(trialId, out var bracket))
        {
            bracket.Live.Remove(trialId);
            bracket.ToResume.Remove(trialId);
            bracket.Scores.Remove(trialId);
        }
    }

    public SchedulerChoice ChooseTrialToRun(SchedulerState state)
    {
        Settle(state);
        foreach (var bracket in _brackets)
        {
            if (bracket.ToResume.FirstOrDefault(state.Paused.Contains) is { } trialId)
            {
                bracket.ToResume.Remove(trialId);
                return SchedulerChoice.Resume(trialId, $"{Name}: bracket {bracket.Plan.S}, promoted to rung {MetricSign.F(bracket.Plan.Rungs[bracket.Rung].Resource)} {_timeAttr}");
            }
        }

        return state.SearcherHasMore ? SchedulerChoice.StartNew : SchedulerChoice.Wait;
    }

    public IReadOnlyList<SchedulerDecisionFor> PausedToStop(SchedulerState state)
    {
        Settle(state);
        var stops = new List<SchedulerDecisionFor>();
        foreach (var bracket in _brackets)
        {
            foreach (var (trialId, reason) in bracket.ToStop.Where(s => state.Paused.Contains(s.Key)).ToList())
            {
                bracket.ToStop.Remove(trialId);
                stops.Add(new SchedulerDecisionFor(trialId, reason));
            }
        }

        return stops;
    }

    /// <summary>Settles every rung whose live trials have all reached it; a bracket still filling counts as full once the searcher has nothing more.</summary>
    private void Settle(SchedulerState state)
    {
        foreach (var bracket in _brackets)
        {
            while (bracket.Rung < bracket.Plan.Rungs.Count - 1 && Settled(bracket, closed: !state.SearcherHasMore))
            {
                Halve(bracket);
            }
        }
    }

    private long Expected(BracketRun bracket) => bracket.Plan.Rungs[bracket.Rung].Configs;

    private static bool Settled(BracketRun bracket, bool closed) =>
        bracket.Scores.Count > 0
        && (closed || bracket.Trials.Count >= bracket.Plan.Rungs[0].Configs)
        && bracket.Live.All(bracket.Scores.ContainsKey);

    /// <summary>Successive halving at the bracket's current rung: the planned count of the best go on, the rest stop. Returns the stopped with their reasons.</summary>
    private Dictionary<string, string> Halve(BracketRun bracket)
    {
        var rung = bracket.Plan.Rungs[bracket.Rung];
        var next = bracket.Plan.Rungs[bracket.Rung + 1];
        var ranked = bracket.Scores.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
        var full = bracket.Trials.Count >= bracket.Plan.Rungs[0].Configs && ranked.Count == rung.Configs;
        var keep = (int)Math.Min(ranked.Count, full ? next.Configs : Math.Max(1, (long)Math.Floor((ranked.Count / _eta) + 1e-9)));
        var cutoff = _sign.Value(ranked[keep - 1].Value);
        var stopped = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < ranked.Count; i++)
        {
            var trialId = ranked[i].Key;
            if (i < keep)
            {
                bracket.ToResume.Add(trialId);
                continue;
            }

            var reason = $"{Name}: bracket {bracket.Plan.S}, rung {MetricSign.F(rung.Resource)} {_timeAttr}: {_sign.Metric} {MetricSign.F(_sign.Value(ranked[i].Value))} ranks {i + 1} of {ranked.Count}; the top {keep} (cutoff {MetricSign.F(cutoff)}) go on to {MetricSign.F(next.Resource)}";
            stopped[trialId] = reason;
            bracket.ToStop[trialId] = reason;
            bracket.Live.Remove(trialId);
        }

        bracket.Rung++;
        bracket.Scores.Clear();
        return stopped;
    }

    private sealed class BracketRun(Bracket plan)
    {
        public Bracket Plan { get; } = plan;

        /// <summary>The rung the bracket's live trials are heading for.</summary>
        public int Rung { get; set; }

        public List<string> Trials { get; } = [];

        public HashSet<string> Live { get; } = new(StringComparer.Ordinal);

        /// <summary>Scores at the current rung.</summary>
        public Dictionary<string, double> Scores { get; } = new(StringComparer.Ordinal);

        public HashSet<string> ToResume { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> ToStop { get; } = new(StringComparer.Ordinal);
    }
}
