using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search.Bohb;

/// <summary>
/// BOHB's searcher (Falkner et al., ICML 2018), paired with the <c>bohb</c> scheduler
/// (HyperBandForBOHB). Every result at one of Hyperband's budgets (the rung resources for
/// <c>max_t</c> and <c>reduction_factor</c>, in <c>time_attr</c>) is an observation at that budget. A
/// suggestion is random with probability <see cref="RandomFraction"/>, or while no budget has
/// <see cref="MinPoints"/> + 2 observations; otherwise TPE's proposal is made from the observations of
/// the largest budget that has enough: the best <c>max(d + 1, 15%)</c> fit l(x), the worst
/// <c>max(d + 1, 85%)</c> and the running configs fit g(x). Seeded by <c>search.seed</c>.
/// </summary>
public sealed class BohbSearcher : ISearcher
{
    public const double RandomFraction = 1.0 / 3;

    private const double TopFraction = 0.15;

    private readonly IReadOnlyList<SearchDimension> _dimensions;
    private readonly TrialConfig _params;
    private readonly SearchSpace _space;
    private readonly string _metric;
    private readonly OptimizationMode _mode;
    private readonly string _timeAttr;
    private readonly long _total;
    private readonly Random _random;
    private readonly Dictionary<string, double[]> _points = new(StringComparer.Ordinal);
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private readonly SortedDictionary<double, List<(string TrialId, double[] Point, double Loss)>> _observations = [];
    private long _suggested;

    public BohbSearcher(ExperimentSpec spec)
    {
        _dimensions = [.. spec.Space.Select(d => SearchDimension.From(d.Key, d.Value))];
        _params = spec.Params;
        _space = spec.Space;
        _metric = spec.Metric;
        _mode = spec.Mode;
        _timeAttr = spec.Scheduler.TimeAttr;
        _total = spec.Samples;
        _random = new Random(spec.Search.Seed);
        Budgets = [.. HyperbandPlan.Brackets(spec.Scheduler.MaxT, spec.Scheduler.ReductionFactor).SelectMany(b => b.Rungs).Select(r => r.Resource).Distinct().Order()];
        foreach (var budget in Budgets)
        {
            _observations[budget] = [];
        }
    }

    /// <summary>The budgets observations are kept at: every rung resource of every bracket, smallest first.</summary>
    public IReadOnlyList<double> Budgets { get; }

    /// <summary>Observations a budget needs besides two before its model is used (the paper's d + 1).</summary>
    public int MinPoints => _dimensions.Count + 1;

    public bool IsExhausted => _suggested >= _total;

    public bool LearnsFromResults => true;

    /// <summary>The budget whose model the next suggestion uses, or null while none has enough observations.</summary>
    public double? ModelBudget => _observations.Where(o => o.Value.Count >= MinPoints + 2).Select(o => (double?)o.Key).LastOrDefault();

    public int ObservationsAt(double budget) => _observations.TryGetValue(budget, out var list) ? list.Count : 0;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        double[] point;
        if (ModelBudget is { } budget && _random.NextDouble() >= RandomFraction)
        {
            var observations = _observations[budget];
            var good = Math.Max(MinPoints, (int)(TopFraction * observations.Count));
            point = TpeSearcher.Propose(_dimensions, [.. observations.Select(o => (o.Point, o.Loss))], _running.Select(id => _points[id]), good, _random);
        }
        else
        {
            point = [.. _dimensions.Select(d => d.ToInternal(d.Domain.Sample(_random)))];
        }

        config = ModelBasedSearcher.Configure(_space, point, _dimensions.Select((d, i) => new KeyValuePair<string, ParamValue>(d.Name, d.ToValue(point[i]))), _params, double.NaN);
        _points[trialId] = point;
        _running.Add(trialId);
        _suggested++;
        return true;
    }

    public void Adopt(string trialId, TrialConfig config)
    {
        _points[trialId] = SearchDimension.PointOf(_dimensions, config);
        _running.Add(trialId);
    }

    /// <summary>The result is an observation at every budget it reaches for the first time.</summary>
    public void OnTrialResult(string trialId, TrialResult result)
    {
        if (!_points.TryGetValue(trialId, out var point) || TimeAttribute.Read(result, _timeAttr) is not { } t
            || result.GetMetric(_metric) is not { } value || !double.IsFinite(value))
        {
            return;
        }

        var loss = _mode == OptimizationMode.Min ? value : -value;
        foreach (var (budget, observations) in _observations)
        {
            if (budget <= t + 1e-9 && !observations.Exists(o => o.TrialId == trialId))
            {
                observations.Add((trialId, point, loss));
            }
        }
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed) => _running.Remove(trialId);
}
