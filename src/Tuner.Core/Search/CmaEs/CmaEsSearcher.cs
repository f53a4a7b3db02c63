using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search.CmaEs;

/// <summary>
/// CMA-ES for numeric spaces (<c>search.algorithm: cmaes</c>; Optuna's <c>CmaEsSampler</c>): each dimension is scaled to
/// [0, 1] on its internal axis (log dimensions on their log axis; integers rounded when a config is made), the search starts
/// at the centre with <c>search.sigma0</c> (default 1/6 of the axis, as Optuna's) and <c>search.popsize</c> candidates a
/// generation (default 4 + floor(3 ln n)). Every suggestion is a fresh candidate of the current generation, so parallel
/// trials are all useful; a generation is told once <c>popsize</c> of its trials complete, and trials of an earlier generation
/// teach nothing (as Optuna). With <c>search.restarts: ipop</c> (the default) a run that meets a termination criterion starts
/// again from a random mean with twice the population (Auger and Hansen, CEC 2005). Failed trials and trials without the
/// metric teach nothing. Seeded by <c>search.seed</c>.
/// </summary>
public sealed class CmaEsSearcher : ISearcher
{
    private readonly IReadOnlyList<NumericDimension> _dimensions;
    private readonly TrialConfig _params;
    private readonly string _metric;
    private readonly OptimizationMode _mode;
    private readonly long _total;
    private readonly Random _random;
    private readonly double _sigma0;
    private readonly bool _ipop;
    private readonly Dictionary<string, (double[] X, int Run, int Generation)> _running = new(StringComparer.Ordinal);
    private readonly List<(double[] X, double Loss)> _generation = [];
    private CmaEvolution _evolution;
    private long _suggested;

    public CmaEsSearcher(ExperimentSpec spec)
    {
        _dimensions = [.. spec.Space.Select(d => SearchDimension.From(d.Key, d.Value) as NumericDimension
            ?? throw new SpecException($"space.{d.Key}", "search.algorithm cmaes models numeric dimensions only; use tpe or nsga2 for a space with choices"))];
        _params = spec.Params;
        _metric = spec.Metric;
        _mode = spec.Mode;
        _total = spec.Samples;
        _random = new Random(spec.Search.Seed);
        _sigma0 = spec.Search.Sigma0 ?? DefaultSigma0;
        _ipop = spec.Search.Restarts == "ipop";
        _evolution = new CmaEvolution([.. Enumerable.Repeat(0.5, _dimensions.Count)], _sigma0, spec.Search.Popsize ?? DefaultPopsize(_dimensions.Count));
    }

    /// <summary>The initial step size on the [0, 1] axes: a sixth of the range, as Optuna's.</summary>
    public const double DefaultSigma0 = 1.0 / 6;

    /// <summary>Hansen's default population: 4 + floor(3 ln n).</summary>
    public static int DefaultPopsize(int dimensions) => 4 + (int)Math.Floor(3 * Math.Log(Math.Max(dimensions, 1)));

    /// <summary>Runs started again after meeting a termination criterion.</summary>
    public int Restarts { get; private set; }

    public int Popsize => _evolution.Popsize;

    public int Generation => _evolution.Generation;

    public bool IsExhausted => _suggested >= _total;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        var x = _evolution.Ask(_random);
        _running[trialId] = (x, Restarts, _evolution.Generation);
        config = ToConfig(x);
        _suggested++;
        return true;
    }

    public void Adopt(string trialId, TrialConfig config) =>
        _running[trialId] = ([.. _dimensions.Select(d => config.TryGetValue(d.Name, out var v) ? d.ToUnit(v) : 0.5)], Restarts, _evolution.Generation);

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        if (!_running.Remove(trialId, out var trial) || failed || lastMetrics is null || !lastMetrics.TryGetValue(_metric, out var value) || !double.IsFinite(value)
            || trial.Run != Restarts || trial.Generation != _evolution.Generation)
        {
            return;
        }

        _generation.Add((trial.X, _mode == OptimizationMode.Min ? value : -value));
        if (_generation.Count < _evolution.Popsize)
        {
            return;
        }

        _evolution.Tell(_generation);
        _generation.Clear();
        if (_ipop && _evolution.ShouldStop())
        {
            Restarts++;
            _evolution = new CmaEvolution([.. _dimensions.Select(_ => _random.NextDouble())], _sigma0, _evolution.Popsize * 2);
        }
    }

    private TrialConfig ToConfig(double[] x)
    {
        var values = _dimensions.Select((d, i) => new KeyValuePair<string, ParamValue>(d.Name, d.FromUnit(x[i])));
        return new TrialConfig(_params.Count == 0 ? values : values.Concat(_params));
    }
}
