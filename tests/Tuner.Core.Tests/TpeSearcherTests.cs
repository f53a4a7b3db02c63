using Tuner.Core.Search;
using Tuner.Core.Search.Tpe;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Core.Tests;

public sealed class TpeSearcherTests
{
    private static ExperimentSpec Branin(string algorithm, int seed, int samples) => new()
    {
        Name = "tpe",
        Trainable = "branin",
        Metric = "value",
        Samples = samples,
        Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
        Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
    };

    private static (double Best, List<TrialConfig> Configs) Optimise(ExperimentSpec spec)
    {
        var searcher = SearcherFactory.Create(spec);
        var configs = new List<TrialConfig>();
        var best = double.PositiveInfinity;
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var value = BraninTrainable.Evaluate(config["x1"].AsDouble(), config["x2"].AsDouble());
            best = Math.Min(best, value);
            configs.Add(config);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = value }, failed: false);
        }

        return (best, configs);
    }

    [Fact]
    public void Tpe_FindsBetterBraninValuesThanRandomSearch_OverSeeds()
    {
        var tpe = Enumerable.Range(0, 9).Select(seed => Optimise(Branin("tpe", seed, 100)).Best).Order().ToArray();
        var random = Enumerable.Range(0, 9).Select(seed => Optimise(Branin("random", seed, 100)).Best).Order().ToArray();

        Assert.True(tpe[4] < random[4], $"median best: tpe {tpe[4]}, random {random[4]}");
        Assert.True(tpe[4] - BraninTrainable.Minimum < 0.2, $"tpe's median best {tpe[4]} after 100 evaluations");
    }

    [Fact]
    public void Tpe_IsReproducibleFromItsSeed_AndStopsAfterSamples()
    {
        var first = Optimise(Branin("tpe", 5, 25)).Configs;
        var second = Optimise(Branin("tpe", 5, 25)).Configs;
        var other = Optimise(Branin("tpe", 6, 25)).Configs;

        Assert.Equal(25, first.Count);
        Assert.Equal(first.Select(c => c.ToString()), second.Select(c => c.ToString()));
        Assert.NotEqual(first.Select(c => c.ToString()), other.Select(c => c.ToString()));
    }

    [Fact]
    public void Tpe_SuggestsOnlyValuesItsDomainsAllow_AndAddsTheFixedParams()
    {
        var spec = new ExperimentSpec
        {
            Name = "mixed",
            Trainable = "noop",
            Metric = "loss",
            Samples = 40,
            Search = new SearchSpec { Algorithm = "tpe", Seed = 1 },
            Params = new([new("epochs", 3)]),
            Space = new()
            {
                ["layers"] = Domain.RandInt(1, 4),
                ["units"] = Domain.QRandInt(16, 128, 16),
                ["lr"] = Domain.LogUniform(1e-4, 1e-1),
                ["dropout"] = Domain.QUniform(0, 0.5, 0.1),
                ["optimizer"] = Domain.Choice("sgd", "adam"),
            },
        };
        var searcher = new TpeSearcher(spec);
        var noise = new Random(3);

        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            Assert.Equal(ParamKind.Integer, config["layers"].Kind);
            Assert.InRange(config["layers"].AsInteger(), 1, 3);
            Assert.Equal(0, config["units"].AsInteger() % 16);
            Assert.InRange(config["units"].AsInteger(), 16, 128);
            Assert.InRange(config["lr"].AsDouble(), 1e-4, 1e-1);
            Assert.Equal(0, Math.Round(config["dropout"].AsDouble() * 10) - (config["dropout"].AsDouble() * 10), 9);
            Assert.Contains(config["optimizer"].AsString(), new[] { "sgd", "adam" });
            Assert.Equal(3, config["epochs"].AsInteger());

            // Some trials fail or report nothing: the model skips them.
            var metrics = i % 7 == 3 ? null : new Dictionary<string, double> { ["loss"] = (config["layers"].AsInteger() * 0.1) + noise.NextDouble() };
            searcher.OnTrialComplete($"t{i}", metrics, failed: i % 11 == 5);
        }
    }

    [Fact]
    public void Tpe_RefusesGridDimensions_NamingThem()
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse("name: x\ntrainable: branin\nmetric: value\nsearch: { algorithm: tpe }\nspace: { x1: { grid: [1, 2] }, x2: { uniform: [0, 15] } }\n"));

        Assert.Contains(ex.Errors, e => e.Path == "space.x1" && e.Message.Contains("use choice instead of grid", StringComparison.Ordinal));
    }

    [Fact]
    public void ParzenWeights_AreOptunasDefault()
    {
        Assert.Equal([1.0, 1, 1], ParzenEstimator.ObservationWeights(3));
        var weights = ParzenEstimator.ObservationWeights(30).ToArray();
        Assert.Equal(30, weights.Length);
        Assert.Equal(1.0 / 30, weights[0], 12);
        Assert.Equal(1.0, weights[4], 12);
        Assert.All(weights[5..], w => Assert.Equal(1.0, w));
        Assert.True(weights[0] < weights[1] && weights[1] < weights[2]);
    }
}
