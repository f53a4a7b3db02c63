using Tuner.Core.Search;
using Tuner.Core.Search.Gp;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Core.Tests;

public sealed class GpSearcherTests
{
    private static double BestBranin(string algorithm, int seed, int samples)
    {
        var searcher = SearcherFactory.Create(new ExperimentSpec
        {
            Name = "gp",
            Trainable = "branin",
            Metric = "value",
            Samples = samples,
            Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        });
        var best = double.PositiveInfinity;
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var value = BraninTrainable.Evaluate(config["x1"].AsDouble(), config["x2"].AsDouble());
            best = Math.Min(best, value);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = value }, failed: false);
        }

        return best;
    }

    [Fact]
    public void Gp_FindsBraninsMinimumFarBetterThanRandomSearch()
    {
        var gp = Enumerable.Range(0, 3).Select(seed => BestBranin("gp", seed, 35)).Order().ToArray();
        var random = Enumerable.Range(0, 3).Select(seed => BestBranin("random", seed, 35)).Order().ToArray();

        Assert.True(gp[1] < random[1], $"median best: gp {gp[1]}, random {random[1]}");
        Assert.True(gp[1] - BraninTrainable.Minimum < 0.05, $"gp's median regret after 35 evaluations: {gp[1] - BraninTrainable.Minimum}");
    }

    [Fact]
    public void Gp_KeepsIntegerAndLogDimensionsInTheirDomains_WithTrialsRunningInParallel()
    {
        var searcher = new GpSearcher(new ExperimentSpec
        {
            Name = "gp-mixed",
            Trainable = "noop",
            Metric = "loss",
            Samples = 24,
            Search = new SearchSpec { Algorithm = "gp", Seed = 2 },
            Space = new() { ["layers"] = Domain.RandInt(1, 5), ["lr"] = Domain.LogUniform(1e-4, 1e-1) },
        });

        // Two at a time: each suggestion is made while another trial still runs.
        var running = new Queue<(string Id, TrialConfig Config)>();
        var seen = new List<TrialConfig>();
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            running.Enqueue(($"t{i}", config));
            seen.Add(config);
            if (running.Count == 2)
            {
                var (id, done) = running.Dequeue();
                searcher.OnTrialComplete(id, new Dictionary<string, double> { ["loss"] = Math.Abs(Math.Log10(done["lr"].AsDouble()) + 2.5) + done["layers"].AsInteger() }, failed: false);
            }
        }

        Assert.Equal(24, seen.Count);
        Assert.All(seen, c =>
        {
            Assert.Equal(ParamKind.Integer, c["layers"].Kind);
            Assert.InRange(c["layers"].AsInteger(), 1, 4);
            Assert.InRange(c["lr"].AsDouble(), 1e-4, 1e-1);
        });
        Assert.Equal(seen.Count, seen.Select(c => c.ToString()).Distinct().Count());
    }

    [Fact]
    public void Gp_RefusesChoices_NamingThem()
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse("name: x\ntrainable: noop\nmetric: value\nsearch: { algorithm: gp }\nspace: { opt: { choice: [sgd, adam] }, lr: { loguniform: [0.001, 0.1] } }\n"));

        Assert.Contains(ex.Errors, e => e.Path == "space.opt" && e.Message.Contains("use tpe for a space with choices", StringComparison.Ordinal));
    }
}
