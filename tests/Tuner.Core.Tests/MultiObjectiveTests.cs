using System.Text;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Search.Nsga2;
using Tuner.Core.Search.Pareto;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Core.Tests;

public sealed class MultiObjectiveTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 8, 0, 0, TimeSpan.Zero);

    private static string Zdt(string search, int samples = 200, string scheduler = "fifo") =>
        $"name: mo\ntrainable: zdt1\nmetric: [f1, f2]\nmode: [min, min]\nsamples: {samples}\nsearch: {search}\nscheduler: {{ algorithm: {scheduler} }}\nspace:\n"
        + string.Concat(Enumerable.Range(1, 6).Select(i => $"  x{i}: {{ uniform: [0, 1] }}\n"));

    private static (List<double[]> Front, double Volume) Run(ExperimentSpec spec)
    {
        var searcher = SearcherFactory.Create(spec);
        var points = new List<double[]>();
        for (var i = 0; searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var (f1, f2) = ZdtTrainable.Evaluate(1, [.. Enumerable.Range(1, 6).Select(d => config[$"x{d}"].AsDouble())]);
            points.Add([f1, f2]);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["f1"] = f1, ["f2"] = f2 }, failed: false);
        }

        return ([.. Pareto.Front(points).Select(i => points[i])], Hypervolume.Compute(points, [1.1, 11]));
    }

    [Fact]
    public void Spec_TakesMetricAndModeLists_AndRefusesWhatCannotRankSeveralObjectives()
    {
        var spec = SpecParser.Parse(Zdt("{ algorithm: nsga2, seed: 1, population_size: 20 }").Replace("mode: [min, min]", "mode: [min, max]", StringComparison.Ordinal));

        Assert.True(spec.IsMultiObjective);
        Assert.Equal([new Objective("f1", OptimizationMode.Min), new Objective("f2", OptimizationMode.Max)], spec.Objectives);
        Assert.Equal(20, spec.Search.PopulationSize);
        Assert.Equal(SpecWriter.ToJson(spec), SpecWriter.ToJson(SpecParser.Parse(SpecWriter.ToJson(spec))));

        var lengths = Assert.Throws<SpecException>(() => SpecParser.Parse(Zdt("{ algorithm: random }").Replace("mode: [min, min]", "mode: [min]", StringComparison.Ordinal)));
        Assert.Equal("mode", Assert.Single(lengths.Errors).Path);
        Assert.StartsWith("2 metric(s) but 1 mode(s)", lengths.Errors[0].Message, StringComparison.Ordinal);

        var scalar = Assert.Throws<SpecException>(() => SpecParser.Parse(Zdt("{ algorithm: random }").Replace("mode: [min, min]", "mode: min", StringComparison.Ordinal)));
        Assert.Equal("mode", Assert.Single(scalar.Errors).Path);

        var refused = Assert.Throws<SpecException>(() => SpecParser.Parse(Zdt("{ algorithm: gp }", scheduler: "hyperband")));
        Assert.Equal(["scheduler.algorithm", "search.algorithm"], refused.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.Contains("use nsga2, tpe (multi-objective TPE) or random", refused.Errors.Single(e => e.Path == "search.algorithm").Message, StringComparison.Ordinal);

        var unknown = Assert.Throws<SpecException>(() => SpecParser.Parse(Zdt("{ algorithm: random }").Replace("[f1, f2]", "[f1, loss]", StringComparison.Ordinal)));
        Assert.Contains("'loss' is never reported by trainable 'zdt1'", Assert.Single(unknown.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ranking_CutsTheBoundaryRankByHypervolumeContribution_AndPutsInfeasibleLast()
    {
        // Rank 0: (0,10), (5,5), (10,0), (4,6); rank 1: (6,6). Two kept of rank 0, chosen by hypervolume contribution.
        double[][] losses = [[0, 10], [5, 5], [10, 0], [6, 6], [4, 6]];
        var order = Ranking.Order(losses, [0, 0, 0, 0, 0], keep: 2);

        var kept = Enumerable.Range(0, 5).OrderBy(i => order[i]).Take(2).ToArray();
        Assert.DoesNotContain(3, kept);
        Assert.Equal(4, order[3]);

        // One objective with a constraint: the feasible by value, then the infeasible by violation.
        var single = Ranking.Order([[3], [1], [2], [0]], [0, 2, 0, 1], keep: 2);
        Assert.Equal([1, 3, 0, 2], single);
        Assert.Equal([3.0, 1, 2], Ranking.Order([[3], [1], [2]], [0, 0, 0], keep: 1));
    }

    [Fact]
    public void Nsga2_SelectsWholeRanksThenTheMostCrowdedApart()
    {
        List<Nsga2Searcher.Member> pool =
        [
            new([0.1], [1, 5], 0), new([0.2], [2, 3], 0), new([0.3], [3, 1], 0), new([0.4], [2.1, 3.1], 0), new([0.5], [9, 9], 0), new([0.6], [0, 0], 1),
        ];

        // Rank 0 is the first three (the infeasible (0,0) is last); of rank 1, (2.1, 3.1) alone.
        var chosen = Nsga2Searcher.Select(pool, 4);
        Assert.Equal([0.1, 0.3, 0.2, 0.4], chosen.Select(m => m.X[0]));
        Assert.Equal([0, 0, 0, 1], chosen.Select(m => m.Rank));

        // A rank cut in two keeps its ends (infinite crowding distance) before its middle.
        Assert.Equal([0.1, 0.3], Nsga2Searcher.Select(pool, 2).Select(m => m.X[0]));
    }

    [Fact]
    public void Nsga2_BreedsGenerationAfterGeneration_InTheDomains_AndBeatsRandomOnZdt1()
    {
        var spec = SpecParser.Parse(Zdt("{ algorithm: nsga2, seed: 3, population_size: 20 }", samples: 200));
        var searcher = (Nsga2Searcher)SearcherFactory.Create(spec);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(searcher.TrySuggest($"t{i}", out _));
        }

        Assert.Equal(0, searcher.Generation);
        for (var i = 0; i < 19; i++)
        {
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["f1"] = i, ["f2"] = 20 - i }, failed: false);
        }

        searcher.OnTrialComplete("t19", null, failed: true);
        Assert.Equal(0, searcher.Generation);
        Assert.True(searcher.TrySuggest("t20", out _));
        searcher.OnTrialComplete("t20", new Dictionary<string, double> { ["f1"] = 0.5, ["f2"] = 30 }, failed: false);
        Assert.Equal(1, searcher.Generation);
        Assert.Equal(20, searcher.Parents.Count);

        var nsga2 = Run(spec);
        var random = Run(SpecParser.Parse(Zdt("{ algorithm: random, seed: 3 }", samples: 200)));
        Assert.True(nsga2.Volume > random.Volume, $"nsga2 {nsga2.Volume}, random {random.Volume}");
    }

    [Fact]
    public void Motpe_FindsABetterFrontThanRandom_OnZdt1()
    {
        var motpe = Run(SpecParser.Parse(Zdt("{ algorithm: tpe, seed: 5 }", samples: 120)));
        var random = Run(SpecParser.Parse(Zdt("{ algorithm: random, seed: 5 }", samples: 120)));

        Assert.True(motpe.Volume > random.Volume, $"motpe {motpe.Volume}, random {random.Volume}");
    }

    [Fact]
    public void ParetoAsha_StopsATrialThatEnoughOfTheRungDominates()
    {
        var asha = new ParetoAshaScheduler([new("a", OptimizationMode.Min), new("b", OptimizationMode.Max)], "training_iteration", maxT: 9, gracePeriod: 1, reductionFactor: 3);
        TrialResult At(double a, double b, long t = 1) => new(t, t, 0, new Dictionary<string, double> { ["a"] = a, ["b"] = b });

        // Three trade-offs (a min, b max): none dominates another, all go on.
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("t1", At(1, 1)).Action);
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("t2", At(2, 2)).Action);
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("t3", At(3, 3)).Action);

        // (2.5, 1.5) is dominated by (2, 2) only: the counts are 0, 0, 0, 1 and the top ceil(4/3) = 2 have at most 0: it stops.
        var stopped = asha.OnResult("t4", At(2.5, 1.5));
        Assert.Equal(SchedulerAction.Stop, stopped.Action);
        Assert.Equal("asha: at rung 1 training_iteration, 1 of the 4 trial(s) there dominate it (a 2.5, b 1.5); the top 1/3 by dominance (2, dominated by at most 0) go on", stopped.Reason);

        // (0.5, 0.5) joins the front (nobody dominates it); (0.4, 5) dominates everyone and goes on; (0.5, 0.4) now trails two.
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("t5", At(0.5, 0.5)).Action);
        Assert.Equal(SchedulerAction.Continue, asha.OnResult("t6", At(0.4, 5)).Action);
        Assert.Equal(SchedulerAction.Stop, asha.OnResult("t7", At(0.5, 0.4)).Action);
        Assert.Equal(SchedulerAction.Stop, asha.OnResult("t1", At(1, 1, 9)).Action);
    }

    [Fact]
    public void Controller_KeepsTheFeasibleFront_NoBest_AndExperimentJsonShowsIt()
    {
        var spec = SpecParser.Parse(Zdt("{ algorithm: random, seed: 1 }", samples: 5));
        var journal = new StringWriter();
        var c = ExperimentController.Create(spec, journal, new JournalListener(journal), new StepClock(T0), T0);
        c.Start();
        c.Fill();
        void Report(string trial, double f1, double f2, double? constraint = null)
        {
            var metrics = new Dictionary<string, double> { ["f1"] = f1, ["f2"] = f2 };
            if (constraint is { } v)
            {
                metrics["constraint_budget"] = v;
            }

            Assert.Equal(SchedulerAction.Continue, c.OnResult(trial, 1, new TrialResult(1, 1, 0, metrics), []));
            c.OnTrialEnded(trial, TrialStatus.Terminated, null);
        }

        Report("t00001", 0.2, 0.8);
        Report("t00002", 0.5, 0.5);
        Report("t00003", 0.6, 0.6);
        Report("t00004", 0.1, 0.1, constraint: 0.5);
        Report("t00005", 0.9, 0.1, constraint: -1);

        Assert.Equal(["t00001", "t00002", "t00005"], c.ParetoFront().Select(t => t.TrialId));
        Assert.Equal(1, c.InfeasibleTrials);

        var doc = c.Document("e1");
        Assert.Null(doc.Best);
        using var stream = new MemoryStream();
        ResultJson.WriteExperiment(stream, doc);
        var json = JsonDocument.Parse(Encoding.UTF8.GetString(stream.ToArray())).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("best").ValueKind);
        Assert.Equal(["t00001", "t00002", "t00005"], json.GetProperty("pareto_front").EnumerateArray().Select(t => t.GetProperty("trial_id").GetString()));
        Assert.Equal(0.5, json.GetProperty("pareto_front")[1].GetProperty("metrics").GetProperty("f2").GetDouble());
        Assert.Equal(1, json.GetProperty("infeasible_trials").GetInt32());
        Assert.Equal(["f1", "f2"], json.GetProperty("objectives").EnumerateArray().Select(o => o.GetProperty("metric").GetString()));
    }

    [Fact]
    public void Controller_FailsTheExperiment_WhenAnObjectiveIsNotReported()
    {
        var spec = SpecParser.Parse(Zdt("{ algorithm: random, seed: 1 }", samples: 2));
        var c = ExperimentController.Create(spec, new StringWriter(), new JournalListener(new StringWriter()), new StepClock(T0), T0);
        c.Start();
        c.Fill();
        var commands = new List<ExperimentCommand>();

        Assert.Equal(SchedulerAction.Stop, c.OnResult("t00001", 1, new TrialResult(1, 1, 0, new Dictionary<string, double> { ["f1"] = 1 }), commands));

        var end = Assert.IsType<EndExperiment>(Assert.Single(commands));
        Assert.Equal("metric: trial t00001 reported f1 but not 'f2', among the experiment's objectives", end.Reason);
    }

    [Fact]
    public void ConstrainedBest_IsTheBestFeasibleTrial()
    {
        var spec = SpecParser.Parse("name: c\ntrainable: branin\nmetric: value\nsamples: 3\nmax_concurrent: 3\nparams: { disk_radius: 1 }\nspace:\n  x1: { uniform: [-5, 10] }\n  x2: { uniform: [0, 15] }\n");
        var c = ExperimentController.Create(spec, new StringWriter(), new JournalListener(new StringWriter()), new StepClock(T0), T0);
        c.Start();
        c.Fill();
        TrialResult R(double value, double constraint) => new(1, 1, 0, new Dictionary<string, double> { ["value"] = value, ["constraint_disk"] = constraint });

        c.OnResult("t00001", 1, R(5, -1), []);
        c.OnResult("t00002", 1, R(1, 3), []);
        Assert.Equal("t00001", c.Best()!.TrialId);
        c.OnResult("t00003", 1, R(2, 0), []);
        Assert.Equal("t00003", c.Best()!.TrialId);

        // The best breaks its constraint at its next report: the best is found again among the feasible.
        c.OnResult("t00003", 1, new TrialResult(2, 2, 0, new Dictionary<string, double> { ["value"] = 0.5, ["constraint_disk"] = 1 }), []);
        Assert.Equal("t00001", c.Best()!.TrialId);
        Assert.Equal(2, c.InfeasibleTrials);
    }
}
