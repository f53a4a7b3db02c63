using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class SpaceReportTests
{
    [Fact]
    public void TheCoursesGruSpace_IsDescribed_WithAshasPlan()
    {
        var spec = SpecParser.ParseFile(Path.Combine(RepoRoot.Path, "examples", "gestures-gru.yaml"));

        var report = SpaceReport.For(spec);

        Assert.Equal(
            [("hidden_size", "integer", (long?)113), ("dropout", "float", null), ("num_layers", "integer", 4)],
            report.Dimensions.Select(d => (d.Name, d.Kind, d.Cardinality)));
        Assert.Null(report.DistinctConfigs);
        Assert.Equal(27, report.SamplesForCoverage);

        // Twenty configs at epoch 1, the top third at 3 (round(20/3)), 2 at 9, then one at 27 and 50 (the first arrival always passes).
        var rungs = Assert.Single(report.Brackets).Rungs;
        Assert.Equal([(20L, 1.0), (7, 3), (2, 9), (1, 27), (1, 50)], rungs.Select(r => (r.Configs, r.Resource)));
        Assert.Equal((20 * 1) + (7 * 2) + (2 * 6) + (1 * 18) + (1 * 23), report.PlanResource);
        Assert.Equal(20 * 50, report.FullResource);
        Assert.Null(report.Warning);
    }

    [Fact]
    public void AGrid_HasAsManyConfigsAsItsPointsTimesTheChoices()
    {
        var report = SpaceReport.For(SpecParser.ParseFile(Path.Combine(RepoRoot.Path, "examples", "hartmann6-grid.yaml")));

        Assert.Equal(18, report.DistinctConfigs);
        Assert.Equal(18, report.TrialBudget);
        var fifo = Assert.Single(Assert.Single(report.Brackets).Rungs);
        Assert.Equal((18L, 10.0), (fifo.Configs, fifo.Resource));
    }

    [Fact]
    public void ATooSmallBudget_IsWarnedAbout_NamingWhatToFixFirst()
    {
        var spec = SpecParser.Parse("""
            name: wide
            trainable: noop
            metric: value
            samples: 20
            space:
              lr: { loguniform: [0.0001, 0.1] }
              hidden_size: { randint: [16, 257] }
              num_layers: { randint: [1, 6] }
              dropout: { uniform: [0, 0.5] }
              batch_size: { choice: [16, 32, 64] }
              momentum: { uniform: [0.8, 0.99] }
              activation: { choice: [relu, gelu, tanh] }
            """);

        var report = SpaceReport.For(spec);

        Assert.Equal(2187, report.SamplesForCoverage);
        Assert.NotNull(report.Warning);
        Assert.Contains("trying 3 values of each in combination takes 2,187", report.Warning, StringComparison.Ordinal);
        Assert.Contains("Fix (move to params) or drop first: activation, batch_size;", report.Warning, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHyperbandPlan_IsThePapersTable_CostingEachRungsIncrement()
    {
        var spec = SpecParser.Parse("name: hb\ntrainable: branin\nmetric: value\nsamples: 143\nscheduler: { algorithm: hyperband, max_t: 81, reduction_factor: 3 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }\n");

        var report = SpaceReport.For(spec);

        Assert.Equal([81L, 34, 15, 8, 5], report.Brackets.Select(b => b.Rungs[0].Configs));
        Assert.Equal([1.0, 3, 9, 27, 81], report.Brackets.Select(b => b.Rungs[0].Resource));

        // s=4: 81x1 + 27x2 + 9x6 + 3x18 + 1x54 = 297; s=3: 276; s=2: 279; s=1: 324; s=0: 405.
        Assert.Equal(1581, report.PlanResource);
        Assert.Equal(143 * 81, report.FullResource);
        Assert.StartsWith("hyperband: one cycle of 5 brackets takes 143 configs; 143 samples run 1.00 cycle(s)", report.PlanNote, StringComparison.Ordinal);
    }

    [Fact]
    public void TheAshaPromotionPlan_PromotesFloorOfATenthAtEachRung()
    {
        var spec = SpecParser.Parse("name: ap\ntrainable: branin\nmetric: value\nsamples: 30\nscheduler: { algorithm: asha_promotion, max_t: 27, grace_period: 1, reduction_factor: 3 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }\n");

        var report = SpaceReport.For(spec);

        var rungs = Assert.Single(report.Brackets).Rungs;
        Assert.Equal([(30L, 1.0), (10, 3), (3, 9), (1, 27)], rungs.Select(r => (r.Configs, r.Resource)));
        Assert.Equal((30 * 1) + (10 * 2) + (3 * 6) + (1 * 18), report.PlanResource);
    }
}
