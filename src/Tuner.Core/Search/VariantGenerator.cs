using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>
/// Random and grid search, as Ray's BasicVariantGenerator: grid dimensions are enumerated (their
/// sizes multiply), every other dimension is drawn at random for each variant, and the whole grid
/// is repeated <c>samples</c> times. With <c>search.algorithm: grid</c>, choice and integer
/// dimensions are enumerated too. Draws come from one <see cref="Random"/> seeded by <c>search.seed</c>.
/// </summary>
public sealed class VariantGenerator : ISearcher
{
    private readonly IReadOnlyList<(string Name, Domain Domain, IReadOnlyList<ParamValue>? Grid)> _dimensions;
    private readonly TrialConfig _params;
    private readonly SearchSpace _space;
    private readonly Random _random;
    private readonly long _gridSize;
    private readonly long _total;
    private long _next;

    public VariantGenerator(ExperimentSpec spec)
    {
        var enumerateAll = spec.Search.Algorithm == "grid";
        _dimensions = spec.Space
            .Select(d => (d.Key, d.Value, d.Value is GridDomain || enumerateAll ? d.Value.EnumerateValues() : null))
            .ToList();
        _params = spec.Params;
        _space = spec.Space;
        _random = new Random(spec.Search.Seed);
        _gridSize = GridSize(_dimensions.Select(d => d.Grid));
        _total = _gridSize * spec.Samples;
    }

    public bool IsExhausted => _next >= _total;

    /// <summary>How many trials a spec makes: grid size times samples (for random and grid search), times <c>search.repeat</c>.</summary>
    public static long CountTrials(ExperimentSpec spec)
    {
        var enumerateAll = spec.Search.Algorithm == "grid";
        var grid = spec.Search.Algorithm is "random" or "grid" ? GridSize(spec.Space.Select(d => d.Value is GridDomain || enumerateAll ? d.Value.EnumerateValues() : null)) : 1;
        return grid * Math.Max(spec.Samples, 0) * Math.Max(spec.Search.Repeat, 1);
    }

    private static long GridSize(IEnumerable<IReadOnlyList<ParamValue>?> grids)
    {
        long size = 1;
        foreach (var grid in grids)
        {
            if (grid is not null)
            {
                size = size > long.MaxValue / Math.Max(grid.Count, 1) ? long.MaxValue : size * grid.Count;
            }
        }

        return size;
    }

    public bool TrySuggest(string trialId, out TrialConfig config)
    {
        if (IsExhausted)
        {
            config = TrialConfig.Empty;
            return false;
        }

        // The last grid dimension varies fastest, as in Ray.
        var gridIndex = _next % _gridSize;
        var values = new KeyValuePair<string, ParamValue>[_dimensions.Count];
        var stride = _gridSize;
        for (var i = 0; i < _dimensions.Count; i++)
        {
            var (name, domain, grid) = _dimensions[i];
            if (grid is not null)
            {
                stride /= grid.Count;
                values[i] = new(name, grid[(int)(gridIndex / stride % grid.Count)]);
            }
        }

        for (var i = 0; i < _dimensions.Count; i++)
        {
            var (name, domain, grid) = _dimensions[i];
            if (grid is null)
            {
                values[i] = new(name, domain.Sample(_random));
            }
        }

        _next++;
        var active = _space.IsConditional ? _space.Resolve(values) : new TrialConfig(values);
        config = _params.Count == 0 ? active : new TrialConfig(active.Concat(_params));
        return true;
    }

    public void OnTrialComplete(string trialId, IReadOnlyDictionary<string, double>? lastMetrics, bool failed)
    {
        // Random and grid search do not learn from results.
    }
}
