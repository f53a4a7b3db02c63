using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class ConditionalSpaceTests
{
    private const string Yaml = """
        name: conditional
        trainable: gestures
        metric: accuracy
        mode: max
        samples: 60
        search: { algorithm: ALGORITHM, seed: 4 }
        space:
          optimizer: { choice: [sgd, adam] }
          momentum: { uniform: [0.5, 0.99], when: { optimizer: sgd } }
          layers: { randint: [1, 4] }
          units_2: { choice: [32, 64], when: { layers: { min: 2 } } }
          units_3: { choice: [32, 64], when: { layers: { min: 3 } } }
        """;

    private static ExperimentSpec Spec(string algorithm) => SpecParser.Parse(Yaml.Replace("ALGORITHM", algorithm, StringComparison.Ordinal));

    [Theory]
    [InlineData("random")]
    [InlineData("tpe")]
    public void EverySearcher_LeavesInactiveDimensionsOut_AndKeepsActiveOnesIn(string algorithm)
    {
        var searcher = SearcherFactory.Create(Spec(algorithm));
        var configs = new List<TrialConfig>();
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            configs.Add(config);
            var score = (config["optimizer"].AsString() == "adam" ? 1 : 0) + config["layers"].AsInteger();
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["accuracy"] = score }, failed: false);
        }

        Assert.Equal(60, configs.Count);
        Assert.All(configs, c => Assert.Equal(c["optimizer"].AsString() == "sgd", c.ContainsKey("momentum")));
        Assert.All(configs, c => Assert.Equal(c["layers"].AsInteger() >= 2, c.ContainsKey("units_2")));
        Assert.All(configs, c => Assert.Equal(c["layers"].AsInteger() >= 3, c.ContainsKey("units_3")));

        // Both branches are explored.
        Assert.Contains(configs, c => c.ContainsKey("momentum"));
        Assert.Contains(configs, c => !c.ContainsKey("units_2"));
    }

    [Fact]
    public void Tpe_LearnsWhichBranchIsBetter_ThroughInactiveDimensions()
    {
        // adam with 3 layers is best; after its random start TPE should mostly suggest it.
        var searcher = SearcherFactory.Create(Spec("tpe"));
        var configs = new List<TrialConfig>();
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            configs.Add(config);
            var score = (config["optimizer"].AsString() == "adam" ? 1 : 0) + config["layers"].AsInteger();
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["accuracy"] = score }, failed: false);
        }

        var late = configs.Skip(30).Count(c => c["optimizer"].AsString() == "adam" && c["layers"].AsInteger() == 3);
        Assert.True(late >= 10, $"{late} of the last 30 suggestions are adam with 3 layers (random: about 5)");
    }

    [Fact]
    public void TheConditions_SurviveTheJsonRoundTrip_AndShowInTheSpaceReport()
    {
        var spec = Spec("random");
        var again = SpecParser.ParseStructure(SpecWriter.ToJson(spec));

        Assert.Equal(Condition.In("optimizer", "sgd").Describe(), again.Space.ConditionOf("momentum")!.Describe());
        Assert.Equal(Condition.Between("layers", 3).Describe(), again.Space.ConditionOf("units_3")!.Describe());
        Assert.Null(again.Space.ConditionOf("layers"));
        var report = SpaceReport.For(spec);
        Assert.Equal(["", "optimizer in [sgd]", "", "layers >= 2", "layers >= 3"], report.Dimensions.Select(d => d.When ?? ""));
    }

    [Theory]
    [InlineData("  a: { uniform: [0, 1], when: { b: 1 } }\n  b: { randint: [0, 3] }", "space.a.when", "'b' is not a dimension declared before 'a'")]
    [InlineData("  b: { choice: [x, y] }\n  a: { uniform: [0, 1], when: { b: z } }", "space.a.when", "b never takes z: its allowed values are x, y")]
    [InlineData("  b: { choice: [x, y] }\n  a: { uniform: [0, 1], when: { b: { min: 1 } } }", "space.a.when", "min and max compare numbers; b is a choice")]
    [InlineData("  b: { randint: [0, 3] }\n  a: { grid: [1, 2], when: { b: 1 } }", "space.a.when", "a grid dimension cannot be conditional")]
    [InlineData("  b: { randint: [0, 3] }\n  a: { uniform: [0, 1], when: { b: { above: 1 } } }", "space.a.when.b", "unknown key 'above'; allowed: min, max")]
    public void BadConditions_AreRefusedNamingTheField(string space, string path, string message)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse($"name: x\ntrainable: noop\nmetric: value\nspace:\n{space}\n"));

        var error = Assert.Single(ex.Errors, e => e.Path == path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PbtExplore_SwitchesConditionalDimensionsOnAndOff_WithTheirParent()
    {
        var spec = Spec("random");
        var pbt = new PbtScheduler("accuracy", OptimizationMode.Max, TimeAttribute.Iterations, 1, 0.25, 0, spec.Space, seed: 5);
        var sgd = new TrialConfig([new("optimizer", "sgd"), new("momentum", 0.9), new("layers", 1)]);

        var explored = Enumerable.Range(0, 40).Select(_ => pbt.Explore(sgd, out string _)).ToList();

        Assert.All(explored, c => Assert.Equal(c["optimizer"].AsString() == "sgd", c.ContainsKey("momentum")));
        Assert.All(explored, c => Assert.Equal(c["layers"].AsInteger() >= 2, c.ContainsKey("units_2")));
        Assert.Contains(explored, c => c["optimizer"].AsString() == "adam");
        Assert.Contains(explored, c => c.ContainsKey("units_2"));
    }
}
