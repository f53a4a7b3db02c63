using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>The schedulers that pause trials and resume them: ASHA's promotion form, synchronous Hyperband, HyperBandForBOHB and PBT.</summary>
public sealed class PausingSchedulerTests
{
    private static TrialResult At(long iteration, double value, string metric = "loss") =>
        new(iteration, iteration, 0, new Dictionary<string, double> { [metric] = value });

    private static SchedulerState State(IEnumerable<string> paused, int running = 0, bool more = true) => new([.. paused], running, more);

    [Fact]
    public void AshaPromotion_PausesAtTheRung_AndPromotesTheTopThirdWhenASlotIsFree()
    {
        var asha = new AshaPromotionScheduler("loss", OptimizationMode.Min, TimeAttribute.Iterations, maxT: 9, gracePeriod: 1, reductionFactor: 3);

        // Two at rung 1: floor(2/3) = 0 promotable, both pause.
        var a = asha.OnResult("a", At(1, 5));
        var b = asha.OnResult("b", At(1, 2));
        Assert.Equal(SchedulerAction.Pause, a.Action);
        Assert.Equal(SchedulerAction.Pause, b.Action);
        Assert.Equal("asha_promotion: paused at rung 1 training_iteration, loss 2 ranks 1 of 2 there; the top 0 are promoted", b.Reason);
        Assert.Equal(ChoiceKind.StartNew, asha.ChooseTrialToRun(State(["a", "b"])).Kind);

        // A third arrival that is not the best pauses too; now b (the best of 3) is promotable.
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("c", At(1, 4)).Action);
        var choice = asha.ChooseTrialToRun(State(["a", "b", "c"]));
        Assert.Equal(ChoiceKind.Resume, choice.Kind);
        Assert.Equal("b", choice.TrialId);
        Assert.Equal("asha_promotion: promoted from rung 1 training_iteration (rank 1 of 3)", choice.Reason);

        // Promoted once only; nothing else is in the top third.
        Assert.Equal(ChoiceKind.StartNew, asha.ChooseTrialToRun(State(["a", "c"])).Kind);

        // b heads for rung 3, and reaching max_t ends it.
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("b", At(2, 1.5)).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("b", At(3, 1)).Action);
    }

    [Fact]
    public void AshaPromotion_PromotesTheHighestRungFirst_AndAnArrivalInTheTopGoesStraightOn()
    {
        var asha = new AshaPromotionScheduler("acc", OptimizationMode.Max, TimeAttribute.Iterations, maxT: 27, gracePeriod: 1, reductionFactor: 3);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("a", At(1, 0.1, "acc")).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("b", At(1, 0.2, "acc")).Action);

        // c arrives as the best of 3: promotable at once, with nothing waiting higher up, it goes straight on.
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("c", At(1, 0.9, "acc")).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("c", At(3, 0.95, "acc")).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("d", At(1, 0.3, "acc")).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("e", At(1, 0.4, "acc")).Action);

        // Rung 1 now has 6 (top 2: c, already promoted, and f); rung 3 has 1 (top 0). f goes on.
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("f", At(1, 0.5, "acc")).Action);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("f", At(3, 0.6, "acc")).Action);
        asha.OnResult("g", At(1, 0.35, "acc"));
        asha.OnResult("h", At(1, 0.05, "acc"));
        asha.OnResult("i", At(1, 0.01, "acc"));

        // Rung 1: 9, top 3 = c, f, e. e promoted to rung 3 arrives third there: the top 1 of 3 is c, paused at rung 3 - promoted first.
        Assert.Equal("e", asha.ChooseTrialToRun(State(["a", "b", "d", "e", "g", "h", "i", "c", "f"])).TrialId);
        Assert.Equal(SchedulerAction.Pause, asha.OnResult("e", At(3, 0.5, "acc")).Action);
        var next = asha.ChooseTrialToRun(State(["a", "b", "d", "g", "h", "i", "c", "f", "e"]));
        Assert.Equal("c", next.TrialId);
        Assert.Equal("asha_promotion: promoted from rung 3 training_iteration (rank 1 of 3)", next.Reason);

        // With nothing running and no configs left, the rest can never be promoted and stop, saying why.
        var stops = asha.PausedToStop(State(["a", "b", "d", "g", "h", "i", "f", "e"], running: 0, more: false));
        Assert.Equal(8, stops.Count);
        Assert.Contains(new SchedulerDecisionFor("f", "asha_promotion: never promoted from rung 3 training_iteration: acc 0.6 ranks 2 of 3, outside the top 1, and no trials are left"), stops);
        Assert.Empty(asha.PausedToStop(State(["a"], running: 1, more: false)));
    }

    [Fact]
    public void Hyperband_RunsTheFirstBracketAsThePaperHalvesIt()
    {
        // R = 9, eta = 3: bracket s=2 has 9 configs at 1, 3 at 3, 1 at 9.
        var hyperband = new HyperbandScheduler("loss", OptimizationMode.Min, TimeAttribute.Iterations, maxT: 9, reductionFactor: 3);
        Assert.Equal(["s=2: 9/1, 3/3, 1/9", "s=1: 5/3, 1/9", "s=0: 3/9"], hyperband.Plan.Select(b => $"s={b.S}: {string.Join(", ", b.Rungs.Select(r => $"{r.Configs}/{r.Resource}"))}"));
        var ids = Enumerable.Range(0, 9).Select(i => $"t{i}").ToArray();
        foreach (var id in ids)
        {
            hyperband.OnTrialAdd(id, TrialConfig.Empty);
        }

        // Losses 8, 7, ..., 0: the last three are the best. The first eight pause; the ninth settles the rung.
        var decisions = ids.Select((id, i) => hyperband.OnResult(id, At(1, 8 - i))).ToArray();
        Assert.All(decisions[..8], d => Assert.Equal(SchedulerAction.Pause, d.Action));
        Assert.Equal("hyperband: bracket 2, paused at rung 1 training_iteration until the bracket's 9 trials reach it (1 have)", decisions[0].Reason);
        Assert.Equal(SchedulerAction.Continue, decisions[8].Action);

        var paused = ids[..8].ToHashSet();
        var stops = hyperband.PausedToStop(State(paused));
        Assert.Equal(ids[..6], stops.Select(s => s.TrialId).Order(StringComparer.Ordinal));
        Assert.Equal("hyperband: bracket 2, rung 1 training_iteration: loss 8 ranks 9 of 9; the top 3 (cutoff 2) go on to 3", stops.Single(s => s.TrialId == "t0").Reason);
        paused.ExceptWith(ids[..6]);
        var resumed = new[] { hyperband.ChooseTrialToRun(State(paused)), hyperband.ChooseTrialToRun(State(paused)) };
        Assert.Equal(["t6", "t7"], resumed.Select(c => c.TrialId).Order(StringComparer.Ordinal));
        Assert.Equal(ChoiceKind.StartNew, hyperband.ChooseTrialToRun(State(paused)).Kind);

        // The tenth trial opens bracket s=1, which starts at resource 3.
        hyperband.OnTrialAdd("t9", TrialConfig.Empty);
        Assert.Equal(SchedulerAction.Continue, hyperband.OnResult("t9", At(1, 0)).Action);
        Assert.Equal(SchedulerAction.Pause, hyperband.OnResult("t9", At(3, 0)).Action);

        // At rung 3 of bracket 2: the best of three goes to 9, where it is done.
        hyperband.OnResult("t6", At(3, 5));
        hyperband.OnResult("t7", At(3, 0.5));
        var last = hyperband.OnResult("t8", At(3, 1));
        Assert.Equal(SchedulerAction.Stop, last.Action);
        Assert.Equal("t7", hyperband.ChooseTrialToRun(State(["t6", "t7"])).TrialId);
        Assert.Equal(["t6"], hyperband.PausedToStop(State(["t6"])).Select(s => s.TrialId));
        var done = hyperband.OnResult("t7", At(9, 0.1));
        Assert.Equal(new SchedulerDecision(SchedulerAction.Stop, "hyperband: bracket 2, reached the full resource 9 training_iteration"), done);
    }

    [Fact]
    public void Hyperband_SettlesABracketWithFewerTrials_OnceTheSearcherHasNoMore()
    {
        var hyperband = new HyperbandScheduler("loss", OptimizationMode.Min, TimeAttribute.Iterations, maxT: 9, reductionFactor: 3);
        foreach (var id in new[] { "a", "b", "c", "d" })
        {
            hyperband.OnTrialAdd(id, TrialConfig.Empty);
            Assert.Equal(SchedulerAction.Pause, hyperband.OnResult(id, At(1, id[0])).Action);
        }

        // The bracket wants 9; while more may come nothing is settled.
        Assert.Empty(hyperband.PausedToStop(State(["a", "b", "c", "d"])));

        // No more: floor(4/3) = 1 goes on (a, the lowest loss), the rest stop.
        var stops = hyperband.PausedToStop(State(["a", "b", "c", "d"], more: false));
        Assert.Equal(["b", "c", "d"], stops.Select(s => s.TrialId).Order(StringComparer.Ordinal));
        Assert.Equal("a", hyperband.ChooseTrialToRun(State(["a"], more: false)).TrialId);
    }

    [Fact]
    public void HyperbandForBohb_PausesEveryTrialAtTheMilestone_EvenTheOneThatSettlesTheRung()
    {
        var bohb = new HyperbandScheduler("loss", OptimizationMode.Min, TimeAttribute.Iterations, maxT: 3, reductionFactor: 3, forBohb: true);
        bohb.OnTrialAdd("a", TrialConfig.Empty);
        bohb.OnTrialAdd("b", TrialConfig.Empty);
        bohb.OnTrialAdd("c", TrialConfig.Empty);
        bohb.OnResult("a", At(1, 3));
        bohb.OnResult("b", At(1, 2));
        var settling = bohb.OnResult("c", At(1, 1));

        Assert.Equal(SchedulerAction.Pause, settling.Action);
        Assert.Equal("hyperband_bohb: bracket 1, paused at rung 1 training_iteration; promoted", settling.Reason);
        Assert.Equal("c", bohb.ChooseTrialToRun(State(["a", "b", "c"])).TrialId);
        Assert.Equal(["a", "b"], bohb.PausedToStop(State(["a", "b"])).Select(s => s.TrialId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Pbt_ReplacesABottomTrialWithATopTrialsCheckpoint_AndExploresItsConfig()
    {
        var space = new SearchSpace { ["lr"] = Domain.LogUniform(1e-4, 1e-1), ["optimizer"] = Domain.Choice("sgd", "adam", "adamw") };
        var pbt = new PbtScheduler("acc", OptimizationMode.Max, TimeAttribute.Iterations, perturbationInterval: 2, quantileFraction: 0.25, resampleProbability: 0, space, seed: 3);
        var configs = new Dictionary<string, TrialConfig>
        {
            ["a"] = new([new("lr", 0.01), new("optimizer", "adam")]),
            ["b"] = new([new("lr", 0.001), new("optimizer", "sgd")]),
            ["c"] = new([new("lr", 0.05), new("optimizer", "adamw")]),
            ["d"] = new([new("lr", 0.0001), new("optimizer", "sgd")]),
        };
        foreach (var (id, config) in configs)
        {
            pbt.OnTrialAdd(id, config);
        }

        // Before the interval, nothing happens, whatever the scores.
        foreach (var (id, acc) in new[] { ("a", 0.9), ("b", 0.5), ("c", 0.7), ("d", 0.1) })
        {
            Assert.Equal(SchedulerAction.Continue, pbt.OnResult(id, At(1, acc, "acc")).Action);
        }

        // a, the best, at its perturbation goes on.
        Assert.Equal(SchedulerAction.Continue, pbt.OnResult("a", At(2, 0.9, "acc")).Action);

        // d is the bottom quarter (ceil(4 x 0.25) = 1) at its perturbation: it pauses to clone a (the top one).
        var decision = pbt.OnResult("d", At(2, 0.1, "acc"));
        Assert.Equal(SchedulerAction.Pause, decision.Action);
        Assert.Equal("pbt: at 2 training_iteration, acc 0.1 is in the bottom 25% of 4 trials; cloning a (acc 0.9)", decision.Reason);
        Assert.Equal(["d"], pbt.Quantiles().Bottom);
        Assert.Equal(["a"], pbt.Quantiles().Top);

        var choice = pbt.ChooseTrialToRun(State(["d"]));
        Assert.Equal(ChoiceKind.Resume, choice.Kind);
        Assert.Equal(("d", "a"), (choice.TrialId, choice.CloneFrom));

        // Perturbed, never resampled: lr is a's times 0.8 or 1.2; the optimizer a's or a neighbour.
        var lr = choice.Config!["lr"].AsDouble();
        Assert.True(Math.Abs(lr - 0.008) < 1e-12 || Math.Abs(lr - 0.012) < 1e-12, $"lr {lr}");
        Assert.Contains(choice.Config!["optimizer"].AsString(), new[] { "sgd", "adam", "adamw" });
        Assert.StartsWith("pbt: exploit a (acc 0.9); explore: lr 0.01 -> ", choice.Reason, StringComparison.Ordinal);

        // Nothing more to resume; a middle trial at its perturbation is left alone.
        Assert.Equal(ChoiceKind.StartNew, pbt.ChooseTrialToRun(State([])).Kind);
        Assert.Equal(SchedulerAction.Continue, pbt.OnResult("c", At(2, 0.7, "acc")).Action);
    }

    [Fact]
    public void Pbt_ExploreKeepsEveryValueInItsDomain_AndResamplesWhenAskedTo()
    {
        var space = new SearchSpace { ["dropout"] = Domain.Uniform(0, 0.5), ["layers"] = Domain.RandInt(1, 4) };
        var alwaysResample = new PbtScheduler("acc", OptimizationMode.Max, TimeAttribute.Iterations, 1, 0.25, 1.0, space, seed: 1);
        var neverResample = new PbtScheduler("acc", OptimizationMode.Max, TimeAttribute.Iterations, 1, 0.25, 0.0, space, seed: 1);
        var edge = new TrialConfig([new("dropout", 0.5), new("layers", 3), new("fixed", "kept")]);

        var perturbed = Enumerable.Range(0, 50).Select(_ => neverResample.Explore(edge, out string _)).ToList();
        var resampled = Enumerable.Range(0, 50).Select(_ => alwaysResample.Explore(edge, out string _)).ToList();

        Assert.All(perturbed, c => Assert.InRange(c["dropout"].AsDouble(), 0.4 - 1e-12, 0.5));
        Assert.All(perturbed, c => Assert.InRange(c["layers"].AsInteger(), 1, 3));
        Assert.All(perturbed.Concat(resampled), c => Assert.Equal("kept", c["fixed"].AsString()));
        Assert.True(resampled.Select(c => c["dropout"].AsDouble()).Distinct().Count() > 40, "resampling draws fresh values");
    }
}
