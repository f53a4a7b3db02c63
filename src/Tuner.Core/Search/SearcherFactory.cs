using Tuner.Core.Spec;

namespace Tuner.Core.Search;

/// <summary>Builds the searcher a spec names.</summary>
public static class SearcherFactory
{
    public static ISearcher Create(ExperimentSpec spec) => spec.Search.Algorithm switch
    {
        "random" or "grid" => new VariantGenerator(spec),
        "tpe" => new Tpe.TpeSearcher(spec),
        "gp" => new Gp.GpSearcher(spec),
        _ => throw new SpecException("search.algorithm", $"'{spec.Search.Algorithm}' is not one of the allowed values: {string.Join(", ", SearchSpec.Algorithms)}"),
    };
}
