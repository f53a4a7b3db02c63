using Tuner.Core.Search.Pareto;
using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search.Nsga2;

/// <summary>
/// NSGA-II (Deb et al., 2002), generational as Optuna's <c>NSGAIISampler</c>: the first generation is
/// <c>search.population_size</c> random configs (default 50); once a generation's trials have completed, the next parents are
/// the best <c>population_size</c> of the parents and that generation together, by (constrained) non-domination rank and, in
/// the rank that is cut, by crowding distance. Each later config is a child of two parents picked by binary tournament:
/// with probability <see cref="CrossoverProbability"/> simulated binary crossover (SBX) on numeric dimensions (on their
/// internal axis: log dimensions on their log axis, integers rounded when a config is made) and a uniform swap of choices,
/// then each dimension mutated with probability 1/n (polynomial mutation for numbers, a fresh draw for choices). Works with
/// one objective too (a genetic algorithm). Failed trials, and trials of a generation already closed, teach nothing (as Optuna).
/// Seeded by <c>search.seed</c>.
/// </summary>
public sealed class Nsga2Searcher : ISearcher
{
    public const int DefaultPopulationSize = 50;

    public const double CrossoverProbability = 0.9;

    private const double CrossoverEta = 15;
    private const double MutationEta = 20;

    private readonly IReadOnlyList<SearchDimension> _dimensions;
    private readonly TrialConfig _params;
    private readonly Objective[] _objectives;
    private readonly long _total;
    private readonly Random _random;
    private readonly Dictionary<string, (double[] X, int Generation)> _running = new(StringComparer.Ordinal);
    private List<Member> _parents = [];
    private List<Member> _generationMembers = [];
    private long _suggested;

    public Nsga2Searcher(ExperimentSpec spec)
    {
        _dimensions = [.. spec.Space.Select(d => SearchDimension.From(d.Key, d.Value))];
        _params = spec.Params;
        _objectives = [.. spec.Objectives];
        _total = spec.Samples;
        _random = new Random(spec.Search.Seed);
        PopulationSize = spec.Search.PopulationSize ?? DefaultPopulationSize;
    }

    public int PopulationSize { get; }

    /// <summary>The generation new configs belong to: 0 until the first has completed.</summary>
    public int Generation { get; private set; }

    /// <summary>The parents the current generation's children come from, best first.</summary>
    public IReadOnlyList<double[]> Parents => [.. _parents.Select(p => p.X)];

    public bool IsExhausted => _suggested >= _total;

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        var x = Generation == 0 || _parents.Count < 2 ? RandomPoint() : Child();
        _running[trialId] = (x, Generation);
        config = ToConfig(x);
        _suggested++;
        return true;
    }

    public void Adopt(string trialId, TrialConfig config) =>
        _running[trialId] = (SearchDimension.PointOf(_dimensions, config), Generation);

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        if (!_running.Remove(trialId, out var trial) || failed || lastMetrics is null || trial.Generation != Generation
            || Objective.Losses(_objectives, lastMetrics) is not { } losses)
        {
            return;
        }

        _generationMembers.Add(new Member(trial.X, losses, Constraints.Violation(lastMetrics)));
        if (_generationMembers.Count >= PopulationSize)
        {
            _parents = Select([.. _parents, .. _generationMembers], PopulationSize);
            _generationMembers = [];
            Generation++;
        }
    }

    /// <summary>The best <paramref name="size"/> of <paramref name="pool"/>: whole ranks while they fit, then the cut rank's most crowded-apart.</summary>
    internal static List<Member> Select(List<Member> pool, int size)
    {
        var points = pool.Select(m => m.Losses).ToList();
        var ranks = Pareto.Pareto.Ranks(points, [.. pool.Select(m => m.Violation)]);
        var chosen = new List<Member>();
        foreach (var group in Enumerable.Range(0, pool.Count).GroupBy(i => ranks[i]).OrderBy(g => g.Key))
        {
            var members = group.ToList();
            var distance = Pareto.Pareto.CrowdingDistance(points, members);
            var ordered = Enumerable.Range(0, members.Count).OrderByDescending(k => distance[k]).ThenBy(k => members[k]).Select(k => members[k]);
            foreach (var i in ordered)
            {
                if (chosen.Count == size)
                {
                    return chosen;
                }

                chosen.Add(pool[i] with { Rank = ranks[i], Crowding = distance[members.IndexOf(i)] });
            }
        }

        return chosen;
    }

    private double[] RandomPoint() => [.. _dimensions.Select(d => d.ToInternal(d.Domain.Sample(_random)))];

    private double[] Child()
    {
        var a = Tournament();
        var b = Tournament();
        var child = (double[])a.X.Clone();
        if (_random.NextDouble() < CrossoverProbability)
        {
            for (var i = 0; i < _dimensions.Count; i++)
            {
                child[i] = _dimensions[i] is NumericDimension n
                    ? Sbx(a.X[i], b.X[i], n.Low, n.High)
                    : _random.NextDouble() < 0.5 ? a.X[i] : b.X[i];
            }
        }

        var rate = 1.0 / Math.Max(_dimensions.Count, 1);
        for (var i = 0; i < _dimensions.Count; i++)
        {
            if (_random.NextDouble() < rate)
            {
                child[i] = _dimensions[i] is NumericDimension n ? Mutate(child[i], n.Low, n.High) : _dimensions[i].ToInternal(_dimensions[i].Domain.Sample(_random));
            }
        }

        return child;
    }

    /// <summary>The better of two parents drawn at random: lower rank, then larger crowding distance.</summary>
    private Member Tournament()
    {
        var a = _parents[_random.Next(_parents.Count)];
        var b = _parents[_random.Next(_parents.Count)];
        return a.Rank != b.Rank ? (a.Rank < b.Rank ? a : b) : a.Crowding >= b.Crowding ? a : b;
    }

    /// <summary>Simulated binary crossover (Deb and Agrawal, 1995) of one coordinate: one of the two children, in [low, high].</summary>
    private double Sbx(double x1, double x2, double low, double high)
    {
        if (Math.Abs(x1 - x2) < 1e-14 || high <= low)
        {
            return x1;
        }

        var u = _random.NextDouble();
        var beta = u <= 0.5 ? Math.Pow(2 * u, 1 / (CrossoverEta + 1)) : Math.Pow(1 / (2 * (1 - u)), 1 / (CrossoverEta + 1));
        var mid = (x1 + x2) / 2;
        var half = Math.Abs(x2 - x1) / 2;
        var child = _random.NextDouble() < 0.5 ? mid - (beta * half) : mid + (beta * half);
        return Math.Clamp(child, low, high);
    }

    /// <summary>Polynomial mutation (Deb and Goyal, 1996) of one coordinate, in [low, high].</summary>
    private double Mutate(double x, double low, double high)
    {
        if (high <= low)
        {
            return x;
        }

        var u = _random.NextDouble();
        var delta = u < 0.5 ? Math.Pow(2 * u, 1 / (MutationEta + 1)) - 1 : 1 - Math.Pow(2 * (1 - u), 1 / (MutationEta + 1));
        return Math.Clamp(x + (delta * (high - low)), low, high);
    }

    private TrialConfig ToConfig(double[] x)
    {
        var values = _dimensions.Select((d, i) => new KeyValuePair<string, ParamValue>(d.Name, d.ToValue(x[i])));
        return new TrialConfig(_params.Count == 0 ? values : values.Concat(_params));
    }

    /// <summary>A completed trial in a population: its point, losses, violation, and once selected its rank and crowding distance.</summary>
    internal sealed record Member(double[] X, double[] Losses, double Violation, int Rank = 0, double Crowding = 0);
}
