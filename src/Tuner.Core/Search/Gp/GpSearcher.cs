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
public sealed class GpSearcher : ModelBasedSearcher
{
    private const int RandomCandidates = 2000;
    private const int LocalCandidates = 500;
    private const int MaxModelled = 100;

    private readonly IReadOnlyList<NumericDimension> _dimensions;

    public GpSearcher(ExperimentSpec spec)
        : base(spec)
    {
        _dimensions = [.. spec.Space.Select(d => SearchDimension.From(d.Key, d.Value) as NumericDimension
            ?? throw new SpecException($"space.{d.Key}", "search.algorithm gp models numeric dimensions only; use tpe for choices"))];
    }

    /// <summary>A random config from the domains' own distributions, on the unit cube.</summary>
    protected override double[] RandomPoint() =>
        [.. _dimensions.Select(d => (d.ToInternal(d.Domain.Sample(Random)) - d.Low) / (d.High - d.Low))];

    /// <summary>An inactive dimension sits at the middle of its axis, so it does not pull the kernel.</summary>
    protected override double InactiveCoordinate => 0.5;

    protected override IEnumerable<KeyValuePair<string, ParamValue>> ToValues(double[] point) =>
        _dimensions.Select((d, i) => new KeyValuePair<string, ParamValue>(d.Name, d.FromUnit(point[i])));

    protected override double[] ToPoint(TrialConfig config) =>
        [.. _dimensions.Select(d => config.TryGetValue(d.Name, out var value) ? d.ToUnit(value) : InactiveCoordinate)];

    protected override double[] ModelPoint()
    {
        var modelled = Completed.Count <= 2 * MaxModelled
            ? Completed
            : [.. Completed.OrderBy(c => c.Loss).Take(MaxModelled).Union(Completed.TakeLast(MaxModelled))];
        var mean = modelled.Average(c => c.Loss);
        var sd = Math.Sqrt(modelled.Average(c => (c.Loss - mean) * (c.Loss - mean)));
        sd = sd > 1e-12 ? sd : 1;
        var x = modelled.Select(c => c.Point).Concat(Running.Values).ToArray();
        var y = modelled.Select(c => (c.Loss - mean) / sd).Concat(Running.Values.Select(_ => 0.0)).ToArray();
        var gp = GaussianProcess.Fit(x, y);
        var best = modelled.Min(c => (c.Loss - mean) / sd);

        var top = modelled.OrderBy(c => c.Loss).Take(5).Select(c => c.Point).ToArray();
        double[]? chosen = null;
        var chosenEi = double.NegativeInfinity;
        for (var c = 0; c < RandomCandidates + LocalCandidates; c++)
        {
            var candidate = c < RandomCandidates ? RandomPoint() : Perturb(top[c % top.Length]);
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
        [.. point.Select(v => Math.Clamp(v + (0.05 * Normal.Sample(Random)), 0, 1))];
}
