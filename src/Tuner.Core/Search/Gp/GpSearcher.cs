using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search.Gp;

/// <summary>
/// Bayesian optimisation with a Gaussian process and expected improvement, for numeric spaces.
/// Every dimension is scaled to [0, 1] (log dimensions on the log axis); the first
/// <see cref="StartupTrials"/> configs are random; then a <see cref="GaussianProcess"/> is fitted to
/// the standardised losses and, of random candidates and perturbations of the best points so far,
/// the one with the largest expected improvement is suggested. Running trials are added with the
/// mean loss ("constant liar"), so parallel workers get different configs. With many trials, the
/// model is fitted to the best 100 and the latest 100.
/// </summary>
public sealed class GpSearcher : ISearcher
{
    public const int StartupTrials = 10;

    private const int RandomCandidates = 2000;
    private const int LocalCandidates = 500;
    private const int MaxModelled = 100;

    private readonly IReadOnlyList<NumericDimension> _dimensions;
    private readonly TrialConfig _params;
    private readonly string _metric;
    private readonly OptimizationMode _mode;
    private readonly long _total;
    private readonly Random _random;
    private readonly Dictionary<string, double[]> _running = new(StringComparer.Ordinal);
    private readonly List<(double[] Point, double Loss)> _completed = [];
    private long _suggested;

    public GpSearcher(ExperimentSpec spec)
    {
        _dimensions = [.. spec.Space.Select(d => SearchDimension.From(d.Key, d.Value) as NumericDimension
            ?? throw new SpecException($"space.{d.Key}", "search.algorithm gp models numeric dimensions only; use tpe for choices"))];
        _params = spec.Params;
        _metric = spec.Metric;
        _mode = spec.Mode;
        _total = spec.Samples;
        _random = new Random(spec.Search.Seed);
    }

    public bool IsExhausted => _suggested >= _total;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        var unit = _completed.Count < StartupTrials ? RandomUnitPoint() : ModelPoint();
        _running[trialId] = unit;
        _suggested++;
        var values = _dimensions.Select((d, i) => new KeyValuePair<string, ParamValue>(d.Name, d.ToValue(d.Low + (unit[i] * (d.High - d.Low)))));
        config = new TrialConfig(_params.Count == 0 ? values : values.Concat(_params));
        return true;
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        if (!_running.Remove(trialId, out var point) || failed || lastMetrics is null || !lastMetrics.TryGetValue(_metric, out var value) || !double.IsFinite(value))
        {
            return;
        }

        _completed.Add((point, _mode == OptimizationMode.Min ? value : -value));
    }

    /// <summary>A random config from the domains' own distributions, on the unit cube.</summary>
    private double[] RandomUnitPoint() =>
        [.. _dimensions.Select(d => (d.ToInternal(d.Domain.Sample(_random)) - d.Low) / (d.High - d.Low))];

    private double[] ModelPoint()
    {
        var modelled = _completed.Count <= 2 * MaxModelled
            ? _completed
            : [.. _completed.OrderBy(c => c.Loss).Take(MaxModelled).Union(_completed.TakeLast(MaxModelled))];
        var mean = modelled.Average(c => c.Loss);
        var sd = Math.Sqrt(modelled.Average(c => (c.Loss - mean) * (c.Loss - mean)));
        sd = sd > 1e-12 ? sd : 1;
        var x = modelled.Select(c => c.Point).Concat(_running.Values).ToArray();
        var y = modelled.Select(c => (c.Loss - mean) / sd).Concat(_running.Values.Select(_ => 0.0)).ToArray();
        var gp = GaussianProcess.Fit(x, y);
        var best = modelled.Min(c => (c.Loss - mean) / sd);

        var top = modelled.OrderBy(c => c.Loss).Take(5).Select(c => c.Point).ToArray();
        double[]? chosen = null;
        var chosenEi = double.NegativeInfinity;
        for (var c = 0; c < RandomCandidates + LocalCandidates; c++)
        {
            var candidate = c < RandomCandidates ? RandomUnitPoint() : Perturb(top[c % top.Length]);
            var (mu, sigma) = gp.Predict(candidate);
            var z = (best - mu) / sigma;
            var ei = ((best - mu) * Normal.Cdf(z)) + (sigma * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI));
            if (ei > chosenEi)
            {
                chosen = candidate;
                chosenEi = ei;
            }
        }

        return chosen!;
    }

    private double[] Perturb(double[] point) =>
        [.. point.Select(v => Math.Clamp(v + (0.05 * Normal.Sample(_random)), 0, 1))];
}
