using Tuner.Core.Experiments;
using Tuner.Core.Search;
using Tuner.Core.Search.Bohb;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class BohbSearcherTests
{
    private static ExperimentSpec Spec(int seed, int samples) => new()
    {
        Name = "bohb",
        Trainable = "branin",
        Metric = "loss",
        Samples = samples,
        Search = new SearchSpec { Algorithm = "bohb", Seed = seed },
        Scheduler = new SchedulerSpec { Algorithm = "bohb", MaxT = 9, ReductionFactor = 3 },
        Space = new() { ["x"] = Domain.Uniform(-1, 1), ["y"] = Domain.Uniform(-1, 1) },
    };

    private static TrialResult At(long iteration, double loss) => new(iteration, iteration, 0, new Dictionary<string, double> { ["loss"] = loss });

    [Fact]
    public void Bohb_ModelsTheLargestBudgetWithEnoughObservations()
    {
        var bohb = Assert.IsType<BohbSearcher>(SearcherFactory.Create(Spec(1, 100)));
        Assert.Equal([1.0, 3, 9], bohb.Budgets);
        Assert.Equal(3, bohb.MinPoints);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(bohb.TrySuggest($"t{i}", out _));
            Assert.Null(bohb.ModelBudget);
            bohb.OnTrialResult($"t{i}", At(1, i));
        }

        // Five at budget 1 (d + 1 + 2): its model is used.
        Assert.Equal(1, bohb.ModelBudget);

        // A result at 3 counts at budgets 1 and 3 (a trial that went on reached both).
        for (var i = 0; i < 5; i++)
        {
            bohb.OnTrialResult($"t{i}", At(3, i));
        }

        Assert.Equal(3, bohb.ModelBudget);
        Assert.Equal(5, bohb.ObservationsAt(1));
        Assert.Equal(5, bohb.ObservationsAt(3));
        Assert.Equal(0, bohb.ObservationsAt(9));
    }

    [Fact]
    public void Bohb_SuggestsNearTheBestObservations_OnceItHasAModel()
    {
        // Loss: the distance from (0.5, 0.5). After 30 random-ish observations, suggestions move there.
        var bohb = new BohbSearcher(Spec(7, 200));
        var distances = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            Assert.True(bohb.TrySuggest($"t{i}", out var config));
            var loss = Math.Sqrt(Math.Pow(config["x"].AsDouble() - 0.5, 2) + Math.Pow(config["y"].AsDouble() - 0.5, 2));
            distances.Add(loss);
            bohb.OnTrialResult($"t{i}", At(1, loss));
            bohb.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["loss"] = loss }, failed: false);
        }

        // Random points average about 0.8 from (0.5, 0.5) in this square; a third stay random.
        var early = distances.Take(5).Average();
        var late = distances.Skip(100).Average();
        Assert.True(late < 0.45 && late < early, $"mean distance {early:F3} in the first 5, {late:F3} after 100");
    }

    [Theory]
    [InlineData("search: { algorithm: bohb }\nscheduler: { algorithm: hyperband, max_t: 9 }", "search.algorithm", "set scheduler.algorithm: bohb (got hyperband)")]
    [InlineData("scheduler: { algorithm: pbt }", "checkpoint.frequency", "pbt copies the latest checkpoint of a better trial")]
    [InlineData("scheduler: { algorithm: pbt, quantile_fraction: 0.8 }\ncheckpoint: { frequency: 1 }", "scheduler.quantile_fraction", "must be above 0 and at most 0.5, got 0.8")]
    [InlineData("scheduler: { algorithm: hyperband, max_t: 2, reduction_factor: 3 }", "scheduler.max_t", "must be at least reduction_factor (3) for hyperband")]
    public void PairingsAndSettings_ThatCannotWork_AreRefusedNamingTheField(string yaml, string path, string message)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse($"name: x\ntrainable: branin\nmetric: value\n{yaml}\nspace: {{ x1: {{ uniform: [-5, 10] }}, x2: {{ uniform: [0, 15] }} }}\n"));

        var error = Assert.Single(ex.Errors, e => e.Path == path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
