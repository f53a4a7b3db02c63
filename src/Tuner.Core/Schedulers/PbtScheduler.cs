using Tuner.Core.Experiments;
using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Schedulers;

/// <summary>
/// Population-based training (Jaderberg et al., 2017; Ray's <c>PopulationBasedTraining</c>). Every
/// <c>perturbation_interval</c> (in <c>time_attr</c>) a trial's latest score is ranked against the
/// others' latest: a trial in the bottom <c>quantile_fraction</c> pauses and is resumed from the latest
/// checkpoint of a trial in the top fraction (exploit), with that trial's config explored: each
/// tuned parameter is resampled from its domain with probability <c>resample_probability</c>,
/// otherwise a number is multiplied by 0.8 or 1.2 (kept in its domain; an integer moves by at least
/// one) and a category moves to a neighbouring value. With fewer than two scored trials nothing happens. Seeded by <c>search.seed</c>.
/// </summary>
public sealed class PbtScheduler : ITrialScheduler
{
    private readonly MetricSign _sign;
    private readonly string _timeAttr;
    private readonly double _interval;
    private readonly double _quantile;
    private readonly double _resample;
    private readonly IReadOnlyList<SearchDimension> _mutable;
    private readonly SearchSpace _space;
    private readonly Random _random;
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SchedulerChoice> _exploits = new(StringComparer.Ordinal);

    public PbtScheduler(string metric, OptimizationMode mode, string timeAttr, double perturbationInterval, double quantileFraction, double resampleProbability, SearchSpace space, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(perturbationInterval, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(quantileFraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantileFraction, 0.5);
        _sign = new MetricSign(metric, mode);
        _timeAttr = timeAttr;
        _interval = perturbationInterval;
        _quantile = quantileFraction;
        _resample = resampleProbability;
        _mutable = [.. space.Select(d => SearchDimension.From(d.Key, d.Value))];
        _space = space;
        _random = new Random(seed);
    }

    public void OnTrialAdd(string trialId, TrialConfig config) => _members[trialId] = new Member(config);

    public SchedulerDecision OnResult(string trialId, TrialResult result)
    {
        if (!_members.TryGetValue(trialId, out var member)
            || !_sign.TryRead(result, _timeAttr, out var t, out var value))
        {
            return SchedulerDecision.Continue;
        }

        member.Score = _sign.Score(value);
        member.Time = t;
        if (t - member.LastPerturbation < _interval)
        {
            return SchedulerDecision.Continue;
        }

        member.LastPerturbation = t;
        var (bottom, top) = Quantiles();
        if (!bottom.Contains(trialId))
        {
            return SchedulerDecision.Continue;
        }

        var donorId = top[_random.Next(top.Count)];
        var donor = _members[donorId];
        var config = Explore(donor.Config, out var changes);

        // It goes on from the donor's checkpoint, so its next perturbation counts from the donor's time.
        member.LastPerturbation = donor.Time;
        _exploits[trialId] = new SchedulerChoice(
            ChoiceKind.Resume,
            trialId,
            config,
            donorId,
            $"pbt: exploit {donorId} ({_sign.Metric} {MetricSign.F(_sign.Value(donor.Score!.Value))}); explore: {changes}");
        return new SchedulerDecision(
            SchedulerAction.Pause,
            $"pbt: at {MetricSign.F(t)} {_timeAttr}, {_sign.Metric} {MetricSign.F(value)} is in the bottom {MetricSign.F(_quantile * 100)}% of {_members.Values.Count(m => m.Score is not null)} trials; cloning {donorId} ({_sign.Metric} {MetricSign.F(_sign.Value(donor.Score!.Value))})");
    }

    public void OnTrialComplete(string trialId)
    {
        _members.Remove(trialId);
        _exploits.Remove(trialId);
    }

    public SchedulerChoice ChooseTrialToRun(SchedulerState state)
    {
        foreach (var (trialId, exploit) in _exploits)
        {
            if (state.Paused.Contains(trialId))
            {
                _exploits.Remove(trialId);
                _members[trialId] = _members[trialId] with { Config = exploit.Config! };
                return exploit;
            }
        }

        return state.SearcherHasMore ? SchedulerChoice.StartNew : SchedulerChoice.Wait;
    }

    /// <summary>The bottom and top <c>quantile_fraction</c> of the trials with a score (at most half each), as Ray ranks them.</summary>
    public (IReadOnlyList<string> Bottom, IReadOnlyList<string> Top) Quantiles()
    {
        var ranked = _members.Where(m => m.Value.Score is not null).OrderBy(m => m.Value.Score!.Value).ThenBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key).ToList();
        if (ranked.Count <= 1)
        {
            return ([], []);
        }

        var count = Math.Min((int)Math.Ceiling(ranked.Count * _quantile), ranked.Count / 2);
        return (ranked.Take(count).ToList(), ranked.TakeLast(count).ToList());
    }

    /// <summary>The donor's config with every tuned parameter resampled or perturbed.</summary>
    public TrialConfig Explore(TrialConfig config, out string changes)
    {
        var values = config.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var described = new List<string>();
        foreach (var dimension in _mutable)
        {
            if (!values.TryGetValue(dimension.Name, out var old))
            {
                continue;
            }

            ParamValue updated;
            if (_random.NextDouble() < _resample)
            {
                updated = dimension.Domain.Sample(_random);
            }
            else if (dimension is CategoricalDimension categorical)
            {
                var index = (int)categorical.ToInternal(old) + _random.Next(-1, 2);
                updated = categorical.Values[Math.Clamp(index, 0, categorical.Values.Count - 1)];
            }
            else
            {
                var numeric = (NumericDimension)dimension;
                var factor = _random.NextDouble() < 0.5 ? 0.8 : 1.2;
                var scaled = old.AsDouble() * factor;
                if (numeric.Integer && Math.Abs(Math.Round(scaled) - old.AsDouble()) < 0.5)
                {
                    // A small integer that x0.8 or x1.2 would round back to itself moves by one instead.
                    scaled = old.AsDouble() + (factor > 1 ? 1 : -1);
                }

                var axis = numeric.Log ? Math.Log(Math.Max(scaled, double.Epsilon)) : scaled;
                updated = numeric.ToValue(Math.Clamp(axis, numeric.Low, numeric.High));
            }

            values[dimension.Name] = updated;
            described.Add($"{dimension.Name} {old.ToDisplayString()} -> {updated.ToDisplayString()}");
        }

        changes = described.Count == 0 ? "no tuned parameters" : string.Join(", ", described);
        // A changed choice may switch conditional dimensions on or off.
        var explored = config.Select(p => new KeyValuePair<string, ParamValue>(p.Key, values[p.Key]));
        return _space.IsConditional ? _space.Complete(explored, _random) : new TrialConfig(explored);
    }

    private sealed record Member(TrialConfig Config)
    {
        public double? Score { get; set; }

        public double Time { get; set; }

        public double LastPerturbation { get; set; }
    }
}
