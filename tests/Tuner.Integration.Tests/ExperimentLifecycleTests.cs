using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Integration.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ExperimentLifecycleTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Spec(string trainable, string name, int samples, TrialConfig fixedParams, int maxConcurrent) => new()
    {
        Name = name,
        Trainable = trainable,
        Metric = "value",
        Samples = samples,
        MaxConcurrent = maxConcurrent,
        Resources = new ResourceSpec { Cpu = 1 },
        Params = fixedParams,
    };

    private static ExperimentSpec Noop(string name, int samples, TrialConfig? fixedParams = null, int maxConcurrent = 2) =>
        Spec("noop", name, samples, fixedParams ?? TrialConfig.Empty, maxConcurrent) with { Space = new() { ["x"] = Domain.Uniform(0, 1) } };

    private static ExperimentSpec Sleep(string name, int samples, double seconds, int reports, int maxConcurrent = 2) =>
        Spec("sleep", name, samples, new([new("seconds", seconds), new("reports", reports)]), maxConcurrent);

    private Task<ExperimentSnapshot> RunAsync(ExperimentSpec spec, CancellationToken cancellationToken) => cluster.Client.RunAsync(spec, cluster.OutputRoot, cancellationToken: cancellationToken);

    [Fact]
    public async Task Experiment_RunsEveryTrialToTerminated_AndRecordsEveryResult()
    {
        var result = await RunAsync(Noop("lifecycle-all", 12, new([new("reports", 5)])), Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(12, result.Count(TrialStatus.Terminated));
        Assert.Equal(60, result.ResultsReported);
        var dir = result.OutputDirectory!;
        Assert.Equal(12, RunFolder.TrialIds(dir).Count());
        Assert.All(RunFolder.TrialIds(dir), id => Assert.Equal([1L, 2, 3, 4, 5], RunFolder.Iterations(dir, id)));
        var doc = RunFolder.Experiment(dir);
        Assert.Equal("completed", doc.GetProperty("status").GetString());
        Assert.Equal(12, doc.GetProperty("state_counts").GetProperty("TERMINATED").GetInt32());
        var best = doc.GetProperty("best");
        var bestValue = best.GetProperty("metrics").GetProperty("value").GetDouble();
        var lastValues = RunFolder.TrialIds(dir).Select(id => RunFolder.Results(dir, id)[^1].GetProperty("value").GetDouble());
        Assert.Equal(lastValues.Min(), bestValue);
    }

    [Fact]
    public async Task ATrainableReusingItsMetricsDictionary_StillGetsEveryValueRecorded()
    {
        var result = await RunAsync(Noop("lifecycle-reusing", 1) with { Trainable = ClusterFixture.ReusingTrainable }, Ct);

        Assert.Equal([1.0, 2, 3, 4], RunFolder.Results(result.OutputDirectory!, "t00001").Select(r => r.GetProperty("value").GetDouble()));
        Assert.Equal(4, result.Best!.LastResult.Metrics["value"]);
    }

    [Fact]
    public async Task APlateauAtAConstantRate_IsDiagnosed_InTheSnapshotAndExperimentJson()
    {
        var result = await RunAsync(Noop("lifecycle-plateau", 1) with { Trainable = ClusterFixture.PlateauTrainable }, Ct);

        var row = Assert.Single(result.Rows);
        Assert.Contains("would benefit from a learning-rate scheduler", row.Diagnosis, StringComparison.Ordinal);
        var trial = RunFolder.Experiment(result.OutputDirectory!).GetProperty("trials")[0];
        Assert.Equal(row.Diagnosis, trial.GetProperty("diagnosis").GetString());
    }

    [Fact]
    public async Task Asha_StopsTrialsAtItsRungs_SpendingFewerIterations_AndSaysWhyInExperimentJson()
    {
        // Multi-fidelity branin: the reports approach f(x) as iterations go on, so early rungs already rank configs.
        var spec = Spec("branin", "lifecycle-asha", 27, new([new("max_iterations", 27)]), maxConcurrent: 2) with
        {
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = 27, GracePeriod = 1, ReductionFactor = 3 },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        var trials = RunFolder.Experiment(result.OutputDirectory!).GetProperty("trials").EnumerateArray().ToList();
        var stoppedEarly = trials.Where(t => t.GetProperty("iterations").GetInt64() < 27).ToList();
        Assert.NotEmpty(stoppedEarly);
        Assert.All(stoppedEarly, t => Assert.StartsWith("asha: at rung ", t.GetProperty("status_reason").GetString(), StringComparison.Ordinal));
        Assert.All(stoppedEarly, t => Assert.Contains((double)t.GetProperty("iterations").GetInt64(), new[] { 1.0, 3, 9 }));
        Assert.True(result.ResultsReported < 27 * 27 / 2, $"ASHA used {result.ResultsReported} of FIFO's {27 * 27} iterations");
    }

    [Fact]
    public async Task Hyperband_PausesTrialsAtItsRungs_AndResumesTheBest_SpendingExactlyThePlansIterations()
    {
        // R = 9, eta = 3: brackets of 9, 5 and 3 configs; 9x1 + 3x2 + 1x6 + 5x3 + 1x6 + 3x9 = 69 iterations.
        var spec = Spec("branin", "lifecycle-hyperband", 17, new([new("max_iterations", 9)]), maxConcurrent: 2) with
        {
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            Scheduler = new SchedulerSpec { Algorithm = "hyperband", MaxT = 9, ReductionFactor = 3 },
            Search = new SearchSpec { Algorithm = "random", Seed = 5 },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(17, result.Count(TrialStatus.Terminated));
        Assert.Equal(69, result.ResultsReported);
        var directory = result.OutputDirectory!;
        var trials = RunFolder.Experiment(directory).GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal([1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 9, 9, 9, 9, 9], trials.Select(t => t.GetProperty("iterations").GetInt64()).Order());
        Assert.All(trials.Where(t => t.GetProperty("iterations").GetInt64() < 9), t => Assert.StartsWith("hyperband: bracket ", t.GetProperty("status_reason").GetString(), StringComparison.Ordinal));

        // Every iteration once, in order, across pauses; the resumed ones start again from their checkpoint.
        foreach (var trialId in RunFolder.TrialIds(directory))
        {
            var iterations = RunFolder.Iterations(directory, trialId);
            Assert.Equal(Enumerable.Range(1, iterations.Count).Select(i => (long)i), iterations);
        }

        var resumed = RunFolder.TrialIds(directory).SelectMany(id => RunFolder.Results(directory, id))
            .Count(r => r.GetProperty("training_iteration").GetInt64() > 1 && r.GetProperty("iterations_since_restore").GetInt64() == 1);
        // At least two of bracket 2's three survivors of rung 1 waited paused (the one that settled the rung may go straight on).
        Assert.True(resumed >= 2, $"{resumed} resumptions from a checkpoint");

        // Every decision is in the trial's decisions: each resume follows a pause at the same iteration, each trial ends with a stop.
        foreach (var trial in trials)
        {
            var decisions = trial.GetProperty("decisions").EnumerateArray().Select(d => (Iteration: d.GetProperty("training_iteration").GetInt64(), Action: d.GetProperty("action").GetString())).ToList();
            Assert.Equal("stop", decisions[^1].Action);
            for (var i = 0; i < decisions.Count; i++)
            {
                if (decisions[i].Action == "resume")
                {
                    Assert.Equal(("pause", decisions[i].Iteration), (decisions[i - 1].Action, decisions[i - 1].Iteration));
                }
            }

        }

        Assert.True(trials.Sum(t => t.GetProperty("decisions").EnumerateArray().Count(d => d.GetProperty("action").GetString() == "resume")) >= 2);
    }

    [Fact]
    public async Task AshaPromotion_PausesAtRungs_PromotesFromCheckpoints_AndEndsTheRestWithTheirRanks()
    {
        var spec = Spec("branin", "lifecycle-asha-promotion", 12, new([new("max_iterations", 9)]), maxConcurrent: 3) with
        {
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            Scheduler = new SchedulerSpec { Algorithm = "asha_promotion", MaxT = 9, GracePeriod = 1, ReductionFactor = 3 },
            Search = new SearchSpec { Algorithm = "random", Seed = 6 },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(12, result.Count(TrialStatus.Terminated));
        var directory = result.OutputDirectory!;
        var trials = RunFolder.Experiment(directory).GetProperty("trials").EnumerateArray().ToList();
        Assert.Contains(trials, t => t.GetProperty("iterations").GetInt64() == 9);
        Assert.All(trials, t => Assert.Contains(t.GetProperty("iterations").GetInt64(), new long[] { 1, 3, 9 }));
        Assert.All(trials.Where(t => t.GetProperty("iterations").GetInt64() < 9), t => Assert.StartsWith("asha_promotion: never promoted from rung ", t.GetProperty("status_reason").GetString(), StringComparison.Ordinal));
        foreach (var trialId in RunFolder.TrialIds(directory))
        {
            var iterations = RunFolder.Iterations(directory, trialId);
            Assert.Equal(Enumerable.Range(1, iterations.Count).Select(i => (long)i), iterations);
        }

        Assert.True(result.ResultsReported < 12 * 9 / 2, $"{result.ResultsReported} iterations of FIFO's {12 * 9}");
    }

    [Fact]
    public async Task Pbt_ReplacesTheWorstTrialsWithCopiesOfTheBest_FromTheirCheckpoints()
    {
        var spec = Spec("branin", "lifecycle-pbt", 4, new([new("max_iterations", 8)]), maxConcurrent: 4) with
        {
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            Scheduler = new SchedulerSpec { Algorithm = "pbt", PerturbationInterval = 2, ResampleProbability = 0 },
            Search = new SearchSpec { Algorithm = "random", Seed = 2 },
            Checkpoint = new CheckpointSpec { Frequency = 2, Keep = 2 },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        var directory = result.OutputDirectory!;
        var trials = RunFolder.Experiment(directory).GetProperty("trials").EnumerateArray().ToList();

        // On a failure, every trial's state and reason: what ended otherwise, and why.
        Assert.True(
            result.Count(TrialStatus.Terminated) == 4,
            string.Join("; ", trials.Select(t => $"{t.GetProperty("trial_id").GetString()} {t.GetProperty("status").GetString()}: {(t.TryGetProperty("status_reason", out var why) ? why.GetString() : null)}")));
        var exploited = trials.Where(t => t.TryGetProperty("status_reason", out var reason) && reason.GetString()!.StartsWith("pbt: exploit t", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(exploited);
        foreach (var trial in exploited)
        {
            // It went on from the copied checkpoint (an even iteration) to the end.
            var results = RunFolder.Results(directory, trial.GetProperty("trial_id").GetString()!);
            var restarts = results.Where(r => r.GetProperty("iterations_since_restore").GetInt64() == 1 && r.GetProperty("training_iteration").GetInt64() > 1).ToList();
            Assert.NotEmpty(restarts);
            Assert.All(restarts, r => Assert.Equal(1, r.GetProperty("training_iteration").GetInt64() % 2));
            Assert.Equal(8, results[^1].GetProperty("training_iteration").GetInt64());
        }
    }

    [Fact]
    public async Task Tpe_DrivesAnExperiment_WithTrialsRunningInParallel()
    {
        var spec = Spec("branin", "lifecycle-tpe", 30, new([new("max_iterations", 3)]), maxConcurrent: 2) with
        {
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            Search = new SearchSpec { Algorithm = "tpe", Seed = 4 },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(30, result.Count(TrialStatus.Terminated));
        Assert.Equal(30 * 3, result.ResultsReported);
        var configs = RunFolder.Experiment(result.OutputDirectory!).GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("config").ToString()).ToList();
        Assert.Equal(30, configs.Distinct().Count());

        // The searcher's state is in the run folder's journal: replayed, it is a searcher that has suggested all 30.
        var journal = File.ReadAllLines(Path.Combine(result.OutputDirectory!, "journal.jsonl"));
        Assert.Equal(60, journal.Count(l => l.StartsWith("{\"event\":\"suggest\"", StringComparison.Ordinal) || l.StartsWith("{\"event\":\"complete\"", StringComparison.Ordinal)));
        Assert.True(Tuner.Core.Search.SearcherJournal.Restore(spec, journal, null).IsExhausted);
    }

    [Fact]
    public async Task Repeat_RunsEachConfigAsSeveralTrials_WithTheirOwnSeeds()
    {
        var spec = Noop("lifecycle-repeat", 3, new([new("reports", 2)])) with { Search = new SearchSpec { Algorithm = "random", Seed = 8, Repeat = 2 } };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(6, result.TotalTrials);
        var trials = RunFolder.Experiment(result.OutputDirectory!).GetProperty("trials").EnumerateArray().OrderBy(t => t.GetProperty("trial_id").GetString(), StringComparer.Ordinal).ToList();
        var configs = trials.Select(t => t.GetProperty("config").GetProperty("x").GetDouble()).ToList();
        Assert.Equal(6, configs.Count);
        Assert.Equal([configs[0], configs[2], configs[4]], [configs[1], configs[3], configs[5]]);
        Assert.Equal(3, configs.Distinct().Count());

        // Same config, own seed: noop's values differ between the copies.
        Assert.NotEqual(trials[0].GetProperty("value").GetDouble(), trials[1].GetProperty("value").GetDouble());
    }

    [Fact]
    public async Task Trial_KnowsItsFinalState()
    {
        var result = await RunAsync(Noop("lifecycle-trial", 1, new([new("reports", 3)])), Ct);

        // Its state from the trial grain, its results from the experiment that recorded them.
        var info = await cluster.Grains.GetGrain<IExperimentGrain>(result.ExperimentId).GetTrialAsync("t00001");
        Assert.Equal(TrialStatus.Terminated, info.Status);
        Assert.Equal(3, info.LastIteration);
        Assert.Equal(0, info.Failures);
        Assert.Equal(3, info.LastResult!.TrainingIteration);
    }

    [Fact]
    public async Task ResourceScheduler_NeverRunsMoreTrialsThanTheWorkerHasSlots()
    {
        var spec = Sleep("lifecycle-slots", samples: 6, seconds: 0.05, reports: 3, maxConcurrent: 6);

        var id = await cluster.Client.StartAsync(spec, cluster.OutputRoot);
        var scheduler = cluster.Grains.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey);
        var sawQueue = false;
        ExperimentSnapshot snapshot;
        do
        {
            var resources = await scheduler.GetResourcesAsync();
            var worker = Assert.Single(resources.Workers, w => w.Info.WorkerId == "test-worker");
            Assert.True(worker.CpuUsed <= ClusterFixture.WorkerCpuSlots, $"{worker.CpuUsed} CPU slots in use of {ClusterFixture.WorkerCpuSlots}");
            sawQueue |= resources.Queued > 0;
            snapshot = await cluster.Client.GetAsync(id, 20, TestContext.Current.CancellationToken);
            Assert.True(snapshot.Count(TrialStatus.Running) <= 2, $"{snapshot.Count(TrialStatus.Running)} trials running on 2 slots");
            await Task.Delay(10, Ct);
        }
        while (!snapshot.IsFinal);

        Assert.True(sawQueue, "six trials on two slots should have queued");
        Assert.Equal(6, snapshot.Count(TrialStatus.Terminated));
        Assert.Equal(0, (await scheduler.GetResourcesAsync()).Workers.Single(w => w.Info.WorkerId == "test-worker").CpuUsed);
    }

    [Fact(Timeout = 60_000)]
    public async Task FailedTrial_IsRetriedFromItsLastCheckpoint_WithoutRepeatingIterations()
    {
        var spec = Noop("lifecycle-retry", 1, new([new("reports", 8), new("fail_at_iteration", 5), new("fail_attempts", 1)])) with
        {
            Failure = new FailureSpec { MaxFailures = 2 },
            Checkpoint = new CheckpointSpec { Frequency = 2, Keep = 1 },
        };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        var row = Assert.Single(result.Rows);
        Assert.Equal(TrialStatus.Terminated, row.Status);
        Assert.Equal(1, row.Failures);
        Assert.Equal([1L, 2, 3, 4, 5, 6, 7, 8], RunFolder.Iterations(result.OutputDirectory!, "t00001"));
        var info = await cluster.Client.GetTrialAsync(result.ExperimentId, "t00001", Ct);
        Assert.Equal(6, info.Checkpoint!.Iteration);
        var checkpoints = Directory.GetDirectories(Path.Combine(result.OutputDirectory!, "trials", "t00001", "checkpoints"));
        Assert.Equal(["checkpoint_000006"], checkpoints.Select(Path.GetFileName));
    }

    [Fact(Timeout = 60_000)]
    public async Task RetriedTrial_ReportsTheSameValuesAsAnUninterruptedOne()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var plain = await RunAsync(Noop("lifecycle-plain", 1, new([new("reports", 6)])), cancellationToken);
        var retried = await RunAsync(Noop("lifecycle-resumed", 1, new([new("reports", 6), new("fail_at_iteration", 4)])) with
        {
            Failure = new FailureSpec { MaxFailures = 1 },
            Checkpoint = new CheckpointSpec { Frequency = 1 },
        }, cancellationToken);

        static IEnumerable<double> Values(ExperimentSnapshot s) => RunFolder.Results(s.OutputDirectory!, "t00001").Select(r => r.GetProperty("value").GetDouble());
        Assert.Equal(Values(plain), Values(retried));
    }

    [Fact(Timeout = 60_000)]
    public async Task RetryWithoutACheckpoint_StartsOver_WithoutRecordingIterationsTwice()
    {
        var spec = Noop("lifecycle-from-scratch", 1, new([new("reports", 5), new("fail_at_iteration", 3)])) with
        {
            Failure = new FailureSpec { MaxFailures = 1 },
        };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        var row = Assert.Single(result.Rows);
        Assert.Equal((TrialStatus.Terminated, 1), (row.Status, row.Failures));
        Assert.Equal([1L, 2, 3, 4, 5], RunFolder.Iterations(result.OutputDirectory!, "t00001"));
        Assert.Equal(5, result.ResultsReported);
    }

    [Fact(Timeout = 60_000)]
    public async Task TrialFailingMoreThanMaxFailures_EndsInError_WithTheCause()
    {
        var spec = Noop("lifecycle-error", 2, new([new("reports", 5), new("fail_at_iteration", 2), new("fail_attempts", 10)])) with
        {
            Failure = new FailureSpec { MaxFailures = 1 },
        };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(ExperimentStatus.Failed, result.Status);
        Assert.Equal(2, result.Count(TrialStatus.Error));
        Assert.All(result.Rows, row =>
        {
            Assert.Equal(1, row.Failures);
            Assert.Contains("failed on purpose", row.StatusReason, StringComparison.Ordinal);
        });
        Assert.Contains("failed on purpose", RunFolder.Trial(result.OutputDirectory!, "t00001").GetProperty("status_reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopRules_EndTrialsAtTheIterationLimit()
    {
        var spec = Noop("lifecycle-stop", 3, new([new("reports", 100)])) with { Stop = new StopSpec { TrainingIteration = 4 } };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(3, result.Count(TrialStatus.Terminated));
        Assert.All(RunFolder.TrialIds(result.OutputDirectory!), id => Assert.Equal(4, RunFolder.Iterations(result.OutputDirectory!, id).Count));
    }

    [Fact]
    public async Task TimeBudget_EndsTheExperimentAndStopsRunningTrials()
    {
        var spec = Sleep("lifecycle-budget", samples: 10, seconds: 0.05, reports: 100_000) with { Stop = new StopSpec { TimeBudgetS = 0.5 } };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Contains("time_budget_s", result.StatusReason, StringComparison.Ordinal);
        Assert.Equal(0, result.Count(TrialStatus.Running) + result.Count(TrialStatus.Pending));
        Assert.InRange(result.StateCounts.Values.Sum(), 2, 3);
        Assert.InRange(result.ElapsedS, 0.5, 15);
    }

    [Fact]
    public async Task PointsToEvaluate_RunFirstInOrder_ThenTheSearchersOwn()
    {
        // The C# builder's form of search.points_to_evaluate.
        var spec = Noop("lifecycle-warm-start", 5, new([new("reports", 2)]), maxConcurrent: 1) with
        {
            Search = new SearchSpec { Algorithm = "tpe", Seed = 4, PointsToEvaluate = [new([new("x", 0.125)]), new([new("x", 0.75)])] },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(5, result.Count(TrialStatus.Terminated));
        var trials = RunFolder.Experiment(result.OutputDirectory!).GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal(5, trials.Count);
        Assert.Equal([0.125, 0.75], trials.Take(2).Select(t => t.GetProperty("config").GetProperty("x").GetDouble()));
        Assert.DoesNotContain(trials.Skip(2), t => t.GetProperty("config").GetProperty("x").GetDouble() is 0.125 or 0.75);
    }

    [Fact]
    public async Task TrialPlateau_StopsEveryTrialWithItsReason_InTheRunFolder()
    {
        // The noop's values lie in [0, 1): two of them never spread by 0.5 (std |a - b| / 2), so each trial flattens at its third result.
        var spec = Noop("lifecycle-trial-plateau", 4, new([new("reports", 20)])) with
        {
            Stop = new StopSpec { TrialPlateau = new TrialPlateauSpec { Std = 0.5, NumResults = 2, GracePeriod = 3 } },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(4, result.Count(TrialStatus.Terminated));
        var dir = result.OutputDirectory!;
        Assert.All(RunFolder.TrialIds(dir), id => Assert.Equal([1L, 2, 3], RunFolder.Iterations(dir, id)));
        Assert.All(
            RunFolder.Experiment(dir).GetProperty("trials").EnumerateArray(),
            t => Assert.StartsWith("trial_plateau: value's last 2 results have std ", t.GetProperty("status_reason").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExperimentPlateau_EndsTheExperimentCompleted_WithItsReason()
    {
        // Any three values in [0, 1) have a std under 1: the experiment ends at its third result.
        var spec = Sleep("lifecycle-experiment-plateau", samples: 10, seconds: 0.02, reports: 100_000) with
        {
            Stop = new StopSpec { ExperimentPlateau = new ExperimentPlateauSpec { Top = 3, Std = 1 } },
        };

        var result = await RunAsync(spec, Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.StartsWith("experiment_plateau: the top 3 values of value have std ", result.StatusReason, StringComparison.Ordinal);
        Assert.Equal(0, result.Count(TrialStatus.Running) + result.Count(TrialStatus.Pending));
        Assert.Equal("completed", RunFolder.Experiment(result.OutputDirectory!).GetProperty("status").GetString());
        Assert.Equal(result.StatusReason, RunFolder.Experiment(result.OutputDirectory!).GetProperty("status_reason").GetString());
    }

    [Fact]
    public async Task StoppingAnExperiment_EndsItStopped_AndKeepsItsResults()
    {
        var spec = Sleep("lifecycle-user-stop", samples: 10, seconds: 0.02, reports: 100_000);
        var id = await cluster.Client.StartAsync(spec, cluster.OutputRoot);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await cluster.Client.GetAsync(id, 20, TestContext.Current.CancellationToken)).ResultsReported < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "no results within 30 s");
            await Task.Delay(10, Ct);
        }

        await cluster.Client.StopAsync(id, "enough");
        var result = await cluster.Client.WaitAsync(id, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Stopped, result.Status);
        Assert.Equal("enough", result.StatusReason);
        Assert.Equal(2, result.Count(TrialStatus.Terminated));
        Assert.Equal("stopped", RunFolder.Experiment(result.OutputDirectory!).GetProperty("status").GetString());
        Assert.True(RunFolder.TrialIds(result.OutputDirectory!).Sum(t => RunFolder.Iterations(result.OutputDirectory!, t).Count) >= 5);
    }

    [Fact]
    public async Task ExperimentGrain_ValidatesTheSpecItself_AndTheClientListsEveryProblem()
    {
        var spec = Noop("lifecycle-invalid", 2) with { Metric = "loss" };
        var grain = cluster.Grains.GetGrain<IExperimentGrain>("lifecycle-invalid-1");

        var rejected = await Assert.ThrowsAsync<ExperimentRejectedException>(() => grain.StartAsync(new ExperimentSubmission(spec, cluster.OutputRoot)));
        var ex = await Assert.ThrowsAsync<SpecException>(() => cluster.Client.StartAsync(spec with { Resources = new ResourceSpec { Cpu = -1 } }, cluster.OutputRoot));

        Assert.Equal(["metric"], rejected.Paths);
        Assert.Contains("'loss' is never reported by trainable 'noop'", rejected.Messages[0], StringComparison.Ordinal);
        Assert.Equal(["metric", "resources.cpu"], ex.Errors.Select(e => e.Path).Order());
    }

    [Fact]
    public async Task AMetricNoTrialReports_FailsTheExperimentAsASpecError()
    {
        var spec = Noop("lifecycle-mislabelled", 4, new([new("reports", 3)])) with { Trainable = ClusterFixture.MislabelledTrainable };

        var result = await RunAsync(spec, TestContext.Current.CancellationToken);

        Assert.Equal(ExperimentStatus.Failed, result.Status);
        Assert.True(result.IsSpecError);
        Assert.Contains("reported loss but not 'value'", result.StatusReason, StringComparison.Ordinal);
        Assert.Equal("failed", RunFolder.Experiment(result.OutputDirectory!).GetProperty("status").GetString());
    }
}
