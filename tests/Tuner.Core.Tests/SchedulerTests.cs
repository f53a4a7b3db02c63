using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

public sealed class SchedulerTests
{
    private static TrialResult At(long iteration, double value, string metric = "loss") =>
        new(iteration, iteration * 10.0, 0, new Dictionary<string, double> { [metric] = value });

    [Fact]
    public void HyperbandPlan_ForR81Eta3_IsThePapersTable()
    {
        var plan = HyperbandPlan.Brackets(81, 3);

        string Row(Bracket b) => $"s={b.S}: " + string.Join(", ", b.Rungs.Select(r => $"{r.Configs}/{r.Resource:0}"));
        Assert.Equal(
            [
                "s=4: 81/1, 27/3, 9/9, 3/27, 1/81",
                "s=3: 34/3, 11/9, 3/27, 1/81",
                "s=2: 15/9, 5/27, 1/81",
                "s=1: 8/27, 2/81",
                "s=0: 5/81",
            ],
            plan.Select(Row));
    }

    [Theory]
    [InlineData(100, 1, 4, new[] { 1.0, 4, 16, 64 })]
    [InlineData(81, 1, 3, new[] { 1.0, 3, 9, 27, 81 })]
    [InlineData(50, 1, 3, new[] { 1.0, 3, 9, 27 })]
    [InlineData(10, 2, 2, new[] { 2.0, 4, 8 })]
    public void AshaRungs_AreGracePeriodTimesPowersOfTheFactor_AsRayCountsThem(double maxT, double grace, double factor, double[] expected) =>
        Assert.Equal(expected, AshaScheduler.RungMilestones(maxT, grace, factor));

    [Fact]
    public void Asha_StopsATrialBelowTheRungsQuantile_AndRecordsEveryArrival()
    {
        // rf 2: the cutoff is the median of the scores already at the rung; minimising loss.
        var asha = new AshaScheduler("loss", OptimizationMode.Min, TimeAttribute.Iterations, maxT: 8, gracePeriod: 1, reductionFactor: 2);

        var first = asha.OnResult("a", At(1, 5));
        var better = asha.OnResult("b", At(1, 3));
        var worse = asha.OnResult("c", At(1, 7));
        var between = asha.OnResult("d", At(1, 4.5));

        Assert.Equal(SchedulerAction.Continue, first.Action);
        Assert.Equal(SchedulerAction.Continue, better.Action);
        Assert.Equal(SchedulerAction.Stop, worse.Action);

        // Rung 1 then held 5, 3: the median 4; 7 is above it.
        Assert.Equal("asha: at rung 1 training_iteration, loss 7 is above the cutoff 4 (the top 1/2 of 2 trial(s) there go on)", worse.Reason);

        // Then 5, 3, 7: the median 5; 4.5 passes.
        Assert.Equal(SchedulerAction.Continue, between.Action);
    }

    [Fact]
    public void Asha_JudgesATrialOncePerRung_AtTheHighestRungItHasPassed()
    {
        var asha = new AshaScheduler("acc", OptimizationMode.Max, TimeAttribute.Iterations, maxT: 16, gracePeriod: 1, reductionFactor: 2);
        asha.OnResult("a", At(1, 0.9, "acc"));
        asha.OnResult("a", At(2, 0.9, "acc"));
        asha.OnResult("a", At(4, 0.9, "acc"));

        // b reports first at iteration 4 (rungs 1, 2, 4): only rung 4 judges it, against a's 0.9.
        var late = asha.OnResult("b", At(4, 0.5, "acc"));

        // Between rungs nothing is judged; a is not judged twice at rung 4.
        var between = asha.OnResult("a", At(3, 0.1, "acc"));
        var again = asha.OnResult("a", At(4, 0.1, "acc"));

        Assert.Equal(SchedulerAction.Stop, late.Action);
        Assert.Contains("at rung 4 training_iteration, acc 0.5 is below the cutoff 0.9", late.Reason, StringComparison.Ordinal);
        Assert.Equal(SchedulerAction.Continue, between.Action);
        Assert.Equal(SchedulerAction.Continue, again.Action);
    }

    [Fact]
    public void Asha_StopsATrialAtMaxT_AndMeasuresTimeInTheChosenAttribute()
    {
        var bySeconds = new AshaScheduler("loss", OptimizationMode.Min, TimeAttribute.Seconds, maxT: 30, gracePeriod: 10, reductionFactor: 3);

        // At() puts time_total_s at 10 x the iteration.
        var early = bySeconds.OnResult("a", At(2, 1));
        var done = bySeconds.OnResult("a", At(3, 1));

        Assert.Equal(SchedulerAction.Continue, early.Action);
        Assert.Equal((SchedulerAction.Stop, "asha: reached max_t 30 time_total_s"), (done.Action, done.Reason));
    }

    [Fact]
    public void MedianStopping_StopsATrialWhoseBestIsWorseThanTheOthersRunningAverages()
    {
        var rule = new MedianStoppingRule("loss", OptimizationMode.Min, TimeAttribute.Iterations, gracePeriod: 2, minSamplesRequired: 2);
        foreach (var (trial, values) in new[] { ("a", new[] { 1.0, 0.8, 0.6 }), ("b", new[] { 1.2, 1.0, 0.8 }) })
        {
            for (var i = 0; i < values.Length; i++)
            {
                Assert.Equal(SchedulerAction.Continue, rule.OnResult(trial, At(i + 1, values[i])).Action);
            }
        }

        // Within the grace period nothing is judged, however bad.
        var graced = rule.OnResult("c", At(1, 9));
        var stopped = rule.OnResult("c", At(2, 1.5));
        var kept = rule.OnResult("d", At(2, 0.95));

        // At t = 2 the running averages are a 0.9 and b 1.1 (median 1.0): c's best 1.5 is worse, d's 0.95 is not.
        Assert.Equal(SchedulerAction.Continue, graced.Action);
        Assert.Equal(SchedulerAction.Stop, stopped.Action);
        Assert.Equal("median: at 2 training_iteration, best loss 1.5 is above the median 1 of 2 other trials' running averages", stopped.Reason);
        Assert.Equal(SchedulerAction.Continue, kept.Action);
    }

    [Fact]
    public void MedianStopping_WaitsForEnoughOtherTrials()
    {
        var rule = new MedianStoppingRule("loss", OptimizationMode.Min, TimeAttribute.Iterations, gracePeriod: 1, minSamplesRequired: 3);
        rule.OnResult("a", At(1, 0.1));
        rule.OnResult("b", At(1, 0.1));

        Assert.Equal(SchedulerAction.Continue, rule.OnResult("c", At(1, 50)).Action);
    }

    [Fact]
    public void TheSpec_ChoosesAndTunesTheScheduler_AndKeepsItThroughJson()
    {
        var spec = SpecParser.Parse("name: x\ntrainable: branin\nmetric: value\nscheduler: { algorithm: asha, time_attr: time_total_s, max_t: 50, grace_period: 2, reduction_factor: 3 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }\n");
        var again = SpecParser.ParseStructure(SpecWriter.ToJson(spec));

        Assert.Equal(new SchedulerSpec { Algorithm = "asha", TimeAttr = "time_total_s", MaxT = 50, GracePeriod = 2, ReductionFactor = 3 }, spec.Scheduler);
        Assert.Equal(spec.Scheduler, again.Scheduler);
        var asha = Assert.IsType<AshaScheduler>(SchedulerFactory.Create(spec));
        Assert.Equal([2.0, 6, 18], asha.Milestones);
    }

    [Theory]
    [InlineData("{ algorithm: hyperopt }", "scheduler.algorithm", "is not one of the allowed values: fifo, asha, asha_promotion, hyperband, bohb, median, pbt")]
    [InlineData("{ algorithm: asha, reduction_factor: 1 }", "scheduler.reduction_factor", "must be above 1, got 1")]
    [InlineData("{ algorithm: asha, max_t: 5, grace_period: 10 }", "scheduler.max_t", "must be at least grace_period (10), got 5")]
    [InlineData("{ algorithm: median, min_samples_required: 0 }", "scheduler.min_samples_required", "must be at least 1, got 0")]
    public void BadSchedulerSettings_AreRefusedNamingTheField(string scheduler, string path, string message)
    {
        var ex = Assert.Throws<SpecException>(() => SpecParser.Parse($"name: x\ntrainable: branin\nmetric: value\nscheduler: {scheduler}\nspace: {{ x1: {{ uniform: [-5, 10] }}, x2: {{ uniform: [0, 15] }} }}\n"));

        var error = Assert.Single(ex.Errors, e => e.Path == path);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
