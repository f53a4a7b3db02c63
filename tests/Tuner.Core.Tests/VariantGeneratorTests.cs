using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class VariantGeneratorTests
{
    private static List<TrialConfig> All(ISearcher searcher)
    {
        var configs = new List<TrialConfig>();
        while (searcher.TrySuggest($"t{configs.Count}", out var config))
        {
            configs.Add(config);
        }

        Assert.True(searcher.IsExhausted);
        return configs;
    }

    private static ExperimentSpec Spec(SearchSpace space, int samples = 1, string algorithm = "random", int seed = 1, TrialConfig? fixedParams = null) => new()
    {
        Name = "t",
        Trainable = "noop",
        Metric = "value",
        Samples = samples,
        Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
        Space = space,
        Params = fixedParams ?? TrialConfig.Empty,
    };

    [Fact]
    public void GridDimensionsMultiply_AndSamplesRepeatTheGrid()
    {
        var spec = Spec(new() { ["a"] = Domain.Grid(1, 2, 3), ["b"] = Domain.Grid("x", "y"), ["lr"] = Domain.LogUniform(1e-4, 1e-1) }, samples: 4);

        var configs = All(new VariantGenerator(spec));

        Assert.Equal(24, configs.Count);
        Assert.Equal(24, VariantGenerator.CountTrials(spec));
        var combos = configs.GroupBy(c => (c["a"].AsInteger(), c["b"].AsString())).ToList();
        Assert.Equal(6, combos.Count);
        Assert.All(combos, g => Assert.Equal(4, g.Count()));
        Assert.Equal(24, configs.Select(c => c["lr"].AsDouble()).Distinct().Count());
    }

    [Fact]
    public void RandomSearch_DrawsFreshValuesEachSample()
    {
        var configs = All(new VariantGenerator(Spec(new() { ["x"] = Domain.Uniform(0, 1), ["c"] = Domain.Choice(1, 2) }, samples: 50)));

        Assert.Equal(50, configs.Count);
        Assert.Equal(50, configs.Select(c => c["x"].AsDouble()).Distinct().Count());
        Assert.Equal(2, configs.Select(c => c["c"].AsInteger()).Distinct().Count());
    }

    [Fact]
    public void GridSearch_EnumeratesChoicesAndIntegers()
    {
        var spec = Spec(new() { ["act"] = Domain.Choice("relu", "tanh"), ["layers"] = Domain.RandInt(1, 4), ["units"] = Domain.QRandInt(16, 64, 16) }, algorithm: "grid");

        var configs = All(new VariantGenerator(spec));

        Assert.Equal(2 * 3 * 4, configs.Count);
        Assert.Equal(configs.Count, configs.Select(c => c.ToString()).Distinct().Count());
    }

    [Fact]
    public void FixedParams_AreMergedIntoEveryConfig()
    {
        var configs = All(new VariantGenerator(Spec(new() { ["x"] = Domain.Uniform(0, 1) }, samples: 3, fixedParams: new([new("reports", 5)]))));

        Assert.All(configs, c => Assert.Equal(5, c["reports"].AsInteger()));
        Assert.All(configs, c => Assert.Equal(["x", "reports"], c.Keys));
    }

    [Fact]
    public void TheSameSeed_GivesTheSameConfigs()
    {
        var space = new SearchSpace { ["x"] = Domain.Uniform(0, 1), ["n"] = Domain.RandInt(0, 100) };

        var first = All(new VariantGenerator(Spec(space, samples: 10, seed: 3))).Select(c => c.ToString());
        var second = All(new VariantGenerator(Spec(space, samples: 10, seed: 3))).Select(c => c.ToString());
        var other = All(new VariantGenerator(Spec(space, samples: 10, seed: 4))).Select(c => c.ToString());

        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
    }
}
