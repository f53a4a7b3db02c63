using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>Builds the searcher a spec names.</summary>
public static class SearcherFactory
{
    public static ISearcher Create(ExperimentSpec spec)
    {
        var searcher = CreateAlgorithm(spec);
        if (spec.Search.PointsToEvaluate.Count > 0 || spec.Search.Evaluated.Count > 0)
        {
            // The points and the searcher's own configs together make the experiment's configs (each run repeat times).
            searcher = new WarmStart(searcher, spec, VariantGenerator.CountTrials(spec) / Math.Max(spec.Search.Repeat, 1));
        }

        if (spec.Search.Repeat > 1)
        {
            searcher = new Repeater(searcher, spec.Search.Repeat, spec.Metric);
        }

        return spec.Search.MaxConcurrent is { } limit ? new ConcurrencyLimiter(searcher, limit) : searcher;
    }

    private static ISearcher CreateAlgorithm(ExperimentSpec spec) => spec.Search.Algorithm switch
    {
        "random" or "grid" => new VariantGenerator(spec),
        "tpe" => new Tpe.TpeSearcher(spec),
        "gp" => new Gp.GpSearcher(spec),
        "bohb" => new Bohb.BohbSearcher(spec),
        "cmaes" => new CmaEs.CmaEsSearcher(spec),
        "nsga2" => new Nsga2.Nsga2Searcher(spec),
        _ => throw new SpecException("search.algorithm", $"'{spec.Search.Algorithm}' is not one of the allowed values: {string.Join(", ", SearchSpec.Algorithms)}"),
    };
}
