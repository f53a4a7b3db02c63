using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>
/// What the model-based searchers (TPE, GP) share: <c>samples</c> suggestions, the first
/// <see cref="StartupTrials"/> random, the rest from the model; each suggestion kept as a point while
/// its trial runs (for the "constant liar"), and on completion its loss (the metric, negated when
/// maximising) recorded with the point, with every objective's loss and the constraints' violation beside it. Failed trials
/// and trials without every objective's metric teach nothing.
/// Seeded by <c>search.seed</c>.
/// </summary>
public abstract class ModelBasedSearcher : ISearcher
{
    public const int StartupTrials = 10;

    private readonly TrialConfig _params;
    private readonly SearchSpace _space;
    private readonly Objective[] _objectives;
    private readonly long _total;
    private long _suggested;

    protected ModelBasedSearcher(ExperimentSpec spec)
    {
        _params = spec.Params;
        _space = spec.Space;
        _objectives = [.. spec.Objectives];
        _total = spec.Samples;
        Random = new Random(spec.Search.Seed);
    }

    public bool IsExhausted => _suggested >= _total;

    protected Random Random { get; }

    /// <summary>The points of trials suggested and not yet complete.</summary>
    protected Dictionary<string, double[]> Running { get; } = new(StringComparer.Ordinal);

    /// <summary>Completed trials' points and losses (the first objective's, as minimised), in the order they completed.</summary>
    protected List<(double[] Point, double Loss)> Completed { get; } = [];

    /// <summary>Beside each of <see cref="Completed"/>: every objective's loss and the total constraint violation (0: feasible).</summary>
    protected List<(double[] Losses, double Violation)> Outcomes { get; } = [];

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        var point = Completed.Count < StartupTrials ? RandomPoint() : ModelPoint();
        config = Configure(_space, point, ToValues(point), _params, InactiveCoordinate);
        Running[trialId] = point;
        _suggested++;
        return true;
    }

    public void Adopt(string trialId, TrialConfig config) => Running[trialId] = ToPoint(config);

    /// <summary>Where a point records a dimension its config leaves out as inactive: NaN (TPE models it with its prior).</summary>
    protected virtual double InactiveCoordinate => double.NaN;

    /// <summary>
    /// The config of a point (its <paramref name="values"/>, in the space's order): with a conditional
    /// space, the inactive dimensions are left out and marked <paramref name="inactive"/> in the point.
    /// The fixed params follow.
    /// </summary>
    internal static TrialConfig Configure(SearchSpace space, double[] point, IEnumerable<KeyValuePair<string, ParamValue>> values, TrialConfig fixedParams, double inactive)
    {
        var list = values.ToList();
        if (space.IsConditional)
        {
            var resolved = space.Resolve(list);
            for (var i = 0; i < list.Count; i++)
            {
                if (!resolved.ContainsKey(list[i].Key))
                {
                    point[i] = inactive;
                }
            }

            list = [.. resolved];
        }

        return new TrialConfig(fixedParams.Count == 0 ? list : list.Concat(fixedParams));
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        if (!Running.Remove(trialId, out var point) || failed || lastMetrics is null || Objective.Losses(_objectives, lastMetrics) is not { } losses)
        {
            return;
        }

        Completed.Add((point, losses[0]));
        Outcomes.Add((losses, Pareto.Constraints.Violation(lastMetrics)));
    }

    /// <summary>A point drawn from the domains' own distributions, as the first trials are.</summary>
    protected abstract double[] RandomPoint();

    /// <summary>The model's suggestion, once <see cref="StartupTrials"/> trials are complete.</summary>
    protected abstract double[] ModelPoint();

    /// <summary>The config values of a point.</summary>
    protected abstract IEnumerable<KeyValuePair<string, ParamValue>> ToValues(double[] point);

    /// <summary>The point of a config (a dimension it leaves out at <see cref="InactiveCoordinate"/>).</summary>
    protected abstract double[] ToPoint(TrialConfig config);
}
