using System.Text.Json;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class WarmStartTests
{
    // A command trainable: it may read any parameter and report any metric.
    private const string Trainable = "trainable: { command: [python3, train.py] }\n";

    private static ExperimentSpec Spec(string algorithm, int samples, string search = "", string extraSpace = "") => SpecParser.Parse(
        $"name: warm\n{Trainable}metric: loss\nmode: min\nsamples: {samples}\nparams: {{ reports: 1 }}\n"
        + $"search:\n  algorithm: {algorithm}\n  seed: 7\n{search}"
        + "space:\n  x: { uniform: [0, 1] }\n  n: { randint: [1, 10] }\n" + extraSpace);

    private static List<TrialConfig> SuggestAll(ISearcher searcher, Action<string, TrialConfig>? onEach = null)
    {
        var configs = new List<TrialConfig>();
        for (var i = 1; searcher.TrySuggest($"t{i:D5}", out var config); i++)
        {
            configs.Add(config);
            onEach?.Invoke($"t{i:D5}", config);
        }

        return configs;
    }

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    [InlineData("gp")]
    public void PointsRunFirst_InOrder_CountAmongTheSamples_AndLeftOutDimensionsAreDrawn(string algorithm)
    {
        var spec = Spec(algorithm, 5, "  points_to_evaluate:\n    - { x: 0.25, n: 3 }\n    - { x: 1, n: 9 }\n    - { n: 5 }\n");

        var configs = SuggestAll(SearcherFactory.Create(spec));

        Assert.Equal(5, configs.Count);
        Assert.Equal((0.25, 3L, 1L), (configs[0]["x"].AsDouble(), configs[0]["n"].AsInteger(), configs[0]["reports"].AsInteger()));

        // A whole number given for a float dimension runs as a float.
        Assert.Equal((ParamKind.Float, 1.0, 9L), (configs[1]["x"].Kind, configs[1]["x"].AsDouble(), configs[1]["n"].AsInteger()));
        Assert.Equal(5, configs[2]["n"].AsInteger());
        Assert.InRange(configs[2]["x"].AsDouble(), 0, 1);
        Assert.Equal(["x", "n", "reports"], configs[2].Keys);

        // The same spec draws the same configs.
        Assert.Equal(configs.Select(c => c.ToString()), SuggestAll(SearcherFactory.Create(spec)).Select(c => c.ToString()));
    }

    [Fact]
    public void TpeLearnsFromThePointsTrials_AsFromItsOwn()
    {
        // Ten points (TPE's start-up count) whose trials report: good near x = 0.9. The next suggestions are the model's.
        var points = string.Join(string.Empty, Enumerable.Range(0, 10).Select(i => $"    - {{ x: {(i + 0.5) / 10:0.00}, n: 5 }}\n"));
        var searcher = SearcherFactory.Create(Spec("tpe", 30, "  points_to_evaluate:\n" + points));
        var next = new List<double>();
        var i = 0;
        SuggestAll(searcher, (id, config) =>
        {
            if (i++ >= 10)
            {
                next.Add(config["x"].AsDouble());
            }

            var x = config["x"].AsDouble();
            searcher.OnTrialComplete(id, new Dictionary<string, double> { ["loss"] = Math.Abs(x - 0.9) }, failed: false);
        });

        Assert.Equal(20, next.Count);
        Assert.True(next.Count(x => x > 0.7) >= 14, $"the model's suggestions stay near 0.9: {string.Join(", ", next.Select(x => x.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    [Fact]
    public void EvaluatedConfigs_TeachTheSearcher_WithoutRunning()
    {
        var evaluated = string.Join(string.Empty, Enumerable.Range(0, 12).Select(i => $"    - {{ config: {{ x: {(i + 0.5) / 12:0.000}, n: 5 }}, metrics: {{ loss: {Math.Abs(((i + 0.5) / 12) - 0.1):0.000} }} }}\n"));
        var warm = FirstTen(SearcherFactory.Create(Spec("tpe", 10, "  evaluated:\n" + evaluated)));
        var cold = FirstTen(SearcherFactory.Create(Spec("tpe", 10)));

        // All ten are the searcher's (none of the evaluated runs). With twelve completed trials TPE models from its first
        // suggestion, near 0.1 (it still explores); without, its first ten are its random start-up configs.
        Assert.Equal(10, warm.Count);
        Assert.NotEqual(cold[0], warm[0]);
        Assert.True(warm.Count(x => x < 0.3) >= 6, $"near 0.1: {string.Join(", ", warm)}");
        Assert.True(warm.Average(x => Math.Abs(x - 0.1)) < cold.Average(x => Math.Abs(x - 0.1)) / 1.5, $"warm: {string.Join(", ", warm)}; cold: {string.Join(", ", cold)}");

        static List<double> FirstTen(ISearcher searcher)
        {
            var xs = new List<double>();
            SuggestAll(searcher, (id, config) =>
            {
                xs.Add(config["x"].AsDouble());
                searcher.OnTrialComplete(id, new Dictionary<string, double> { ["loss"] = Math.Abs(config["x"].AsDouble() - 0.1) }, failed: false);
            });
            return xs;
        }
    }

    [Fact]
    public void AJournaledWarmStart_ReplaysToTheSameSearcher()
    {
        var spec = Spec("tpe", 14, "  points_to_evaluate: [ { x: 0.5, n: 2 } ]\n  evaluated:\n    - { config: { x: 0.1, n: 1 }, metrics: { loss: 0.3 } }\n");
        var journal = new StringWriter();
        var searcher = new SearcherJournal(SearcherFactory.Create(spec), journal);
        for (var i = 1; i <= 12; i++)
        {
            Assert.True(searcher.TrySuggest($"t{i:D5}", out var config));
            searcher.OnTrialComplete($"t{i:D5}", new Dictionary<string, double> { ["loss"] = config["x"].AsDouble() }, failed: false);
        }

        var restored = SearcherJournal.Restore(spec, journal.ToString().Split('\n'), null);

        Assert.True(searcher.TrySuggest("t00013", out var expected));
        Assert.True(restored.TrySuggest("t00013", out var actual));
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    [Fact]
    public void WarmStarts_RoundTrip_AndBadPointsNameTheirField()
    {
        var spec = Spec("tpe", 4, "  points_to_evaluate: [ { x: 0.5, n: 2 } ]\n  evaluated: [ { config: { x: 0.1 }, metrics: { loss: 0.3, acc: 1 } } ]\n", "  act: { choice: [relu, tanh] }\n");
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(SpecParser.Parse(SpecWriter.ToJson(spec))));
        Assert.Equal(0.3, spec.Search.Evaluated[0].Metrics["loss"]);

        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse(
            $"name: warm\n{Trainable}metric: loss\nsamples: 2\nsearch:\n"
            + "  points_to_evaluate:\n    - { x: 1.5, n: 2.5, act: sigmoid, y: 1 }\n    - { n: 10 }\n    - { x: 0.5 }\n"
            + "  evaluated:\n    - { config: { x: 0.1 }, metrics: { acc: 1 } }\n    - { config: { x: 0.1 } }\n"
            + "space:\n  x: { uniform: [0, 1] }\n  n: { randint: [1, 10] }\n  act: { choice: [relu, tanh] }\n"));
        var errors = ex.Errors.ToDictionary(e => e.Path, e => e.Message);

        Assert.Equal(
            ["search.evaluated[0].metrics", "search.evaluated[1].metrics", "search.points_to_evaluate", "search.points_to_evaluate[0].act", "search.points_to_evaluate[0].n", "search.points_to_evaluate[0].x", "search.points_to_evaluate[0].y", "search.points_to_evaluate[1].n"],
            errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("1.5 is outside [0, 1] (space.x is uniform)", errors["search.points_to_evaluate[0].x"]);
        Assert.StartsWith("expected a whole number in [1, 9]", errors["search.points_to_evaluate[0].n"], StringComparison.Ordinal);
        Assert.Equal("sigmoid is not one of relu, tanh (space.act is choice)", errors["search.points_to_evaluate[0].act"]);
        Assert.Equal("is not a dimension of the space; its dimensions: x, n, act", errors["search.points_to_evaluate[0].y"]);
        Assert.Equal("10 is outside [1, 9] (space.n is randint)", errors["search.points_to_evaluate[1].n"]);
        Assert.StartsWith("3 points, but the experiment runs 2 configs", errors["search.points_to_evaluate"], StringComparison.Ordinal);
        Assert.Equal("must hold the experiment's metric 'loss' (it has: acc)", errors["search.evaluated[0].metrics"]);
        Assert.Equal("is required", errors["search.evaluated[1].metrics"]);
    }
}
