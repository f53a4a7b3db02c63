using System.Text.Json;
using Tuner.Client;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Cluster.Tests;

/// <summary>Workers die; experiments do not: every trial finishes, nothing reported is lost or recorded twice.</summary>
public sealed class ChaosTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Checkpointing(int samples) => new()
    {
        Name = "chaos",
        Trainable = "sleep",
        Metric = "value",
        Samples = samples,
        MaxConcurrent = 4,
        Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.2, ["reports"] = 20 }),
        Checkpoint = new CheckpointSpec { Frequency = 1 },
        Failure = new FailureSpec { MaxFailures = 2 },
        Resources = new ResourceSpec { Cpu = 1 },
        Space = new Client.Space.SearchSpaceBuilder().Uniform("x", 0, 1).Build(),
    };

    [Fact]
    public async Task SigkillingAWorker_ItsTrialsResumeElsewhereFromTheirCheckpoints_AndEveryTrialFinishesOnce()
    {
        await using var cluster = await LocalCluster.StartAsync(workers: 2, cpusPerWorker: 2, workerLease: TimeSpan.FromSeconds(3));
        using var client = cluster.Client();
        var id = (await client.SubmitAsync(Checkpointing(8), cancellationToken: Ct)).ExperimentId;

        // Kill w1 once it has trials two iterations in.
        var victim = await RunningOnAsync(client, id, "w1", iterations: 2);
        cluster.Kill("w1");

        var grid = await client.FollowAsync(id, cancellationToken: Ct);

        Assert.True(grid.Status == ExperimentStatus.Completed, cluster.Output("scheduler"));
        Assert.All(grid.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        var moved = grid.Trials.Single(t => t.TrialId == victim.TrialId);
        Assert.True(moved.Failures >= 1, $"{victim.TrialId} ran on w1 and was not retried");
        Assert.Contains("w1", moved.StatusReason ?? string.Empty, StringComparison.Ordinal);
        foreach (var trial in grid.Trials)
        {
            var iterations = RunRows.Iterations(grid.Experiment.OutputDirectory!, trial.TrialId);
            Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), iterations);
        }

        // The retry continued from a checkpoint, not from scratch (from scratch, every iteration would equal its count since the restore).
        // Its first reports may have been replays of iterations already recorded, and dropped.
        Assert.Contains(moved.Results, r => r.TrainingIteration > r.IterationsSinceRestore);
        Assert.Contains("missed its lease", cluster.Output("scheduler"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorkerAskedToStop_Drains_ItsTrialsCheckpointAndContinueElsewhere_WithoutAFailure()
    {
        await using var cluster = await LocalCluster.StartAsync(workers: 2, cpusPerWorker: 2, workerLease: TimeSpan.FromSeconds(30));
        using var client = cluster.Client();
        var id = (await client.SubmitAsync(Checkpointing(4) with { Checkpoint = new CheckpointSpec { Frequency = 100 } }, cancellationToken: Ct)).ExperimentId;
        var victim = await RunningOnAsync(client, id, "w1", iterations: 3);

        cluster.Stop("w1");
        var grid = await client.FollowAsync(id, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        var moved = grid.Trials.Single(t => t.TrialId == victim.TrialId);
        Assert.Equal(TrialStatus.Terminated, moved.Status);
        Assert.Equal(0, moved.Failures);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), moved.Results.Select(r => r.TrainingIteration));

        // Its checkpoint was taken at the drain (the configured frequency would never have made one).
        Assert.Contains(moved.Results, r => r.IterationsSinceRestore == 1 && r.TrainingIteration >= 4);
    }

    [Fact]
    public async Task SigkillingTheSchedulerSilo_TheRestartedOneRestoresTheExperimentFromItsJournal_AndTheWatchReattaches()
    {
        await using var cluster = await LocalCluster.StartAsync(workers: 2, cpusPerWorker: 2, workerLease: TimeSpan.FromSeconds(5));
        using var client = cluster.Client();
        var spec = Checkpointing(10) with
        {
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["seconds"] = 0.1, ["reports"] = 20 }),
            Search = new SearchSpec { Algorithm = "tpe", Seed = 6 },
            Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = 20, GracePeriod = 4, ReductionFactor = 2 },
        };
        var id = (await client.SubmitAsync(spec, cancellationToken: Ct)).ExperimentId;
        var events = new List<Tuner.Core.Experiments.ExperimentEvent>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in client.WatchAsync(id, cancellationToken: Ct))
            {
                events.Add(e);
            }
        }, Ct);

        // Kill the control plane once some trials have ended and others run.
        await Eventually(async () => (await client.GetAsync(id, cancellationToken: Ct)) is { } s && s.Count(TrialStatus.Terminated) >= 3 && s.Count(TrialStatus.Running) > 0 ? s : null);
        cluster.KillScheduler();
        cluster.StartScheduler();

        try
        {
            await watching.WaitAsync(TimeSpan.FromMinutes(3), Ct);
        }
        catch (Exception ex) when (ex is TunerUnavailableException or TimeoutException)
        {
            throw new InvalidOperationException($"the experiment did not come back; the scheduler's last lines:\n{string.Join('\n', cluster.Output("scheduler").Split('\n').TakeLast(60))}", ex);
        }

        var final = await client.GetAsync(id, 100, Ct);

        Assert.True(final.Status == ExperimentStatus.Completed, cluster.Output("scheduler"));
        Assert.Equal(10, final.Count(TrialStatus.Terminated));
        Assert.Contains("restored from the journal", cluster.Output("scheduler"), StringComparison.Ordinal);

        // The watch went on across the restart: every position once, in order, ending with the end.
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Position));
        Assert.Contains(events, e => e.Message?.StartsWith("restored from its journal", StringComparison.Ordinal) == true);
        Assert.Equal(ExperimentStatus.Completed, events[^1].ExperimentStatus);

        // Nothing recorded twice, nothing lost: each trial's iterations run 1, 2, ... and match what watchers saw.
        foreach (var row in final.Rows)
        {
            var iterations = RunRows.Iterations(final.OutputDirectory!, row.TrialId);
            Assert.Equal(Enumerable.Range(1, iterations.Count).Select(i => (long)i), iterations);
            Assert.Equal(events.Where(e => e.TrialId == row.TrialId && e.Result is not null).Select(e => e.Result!.TrainingIteration), iterations);
        }
    }

    /// <summary>A trial running on <paramref name="worker"/> with at least <paramref name="iterations"/> done.</summary>
    private static Task<Abstractions.Messages.TrialInfo> RunningOnAsync(TunerClient client, string id, string worker, long iterations) => Eventually(async () =>
    {
        foreach (var row in await client.ListTrialsAsync(id, Ct))
        {
            var trial = await client.GetTrialAsync(id, row.TrialId, Ct);
            if (trial.Status == TrialStatus.Running && trial.WorkerId == worker && trial.LastIteration >= iterations)
            {
                return trial;
            }
        }

        return null;
    });

    private static async Task<T> Eventually<T>(Func<Task<T?>> find)
        where T : class
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (await find() is { } found)
            {
                return found;
            }

            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the condition did not hold within 60 s");
            }

            await Task.Delay(50, Ct);
        }
    }
}
