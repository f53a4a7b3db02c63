using System.Diagnostics;
using System.Text;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Integration.Tests;

/// <summary>TorchSharp trials in their own processes, supervised by the worker of the test cluster.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TrialProcessTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Gestures(string name, int samples, int epochs, int checkpointFrequency, int maxFailures = 0) => new()
    {
        Name = name,
        Trainable = "gestures",
        Metric = "valid_loss",
        Mode = OptimizationMode.Min,
        Samples = samples,
        MaxConcurrent = 2,
        Resources = new ResourceSpec { Cpu = 1 },
        Params = new([new("hidden_size", 8), new("epochs", epochs), new("lr", 0.003)]),
        Checkpoint = new CheckpointSpec { Frequency = checkpointFrequency, Keep = 1 },
        Failure = new FailureSpec { MaxFailures = maxFailures },
    };

    [Fact]
    public async Task AGesturesTrial_TrainsInItsOwnProcess_ReportingEveryEpoch()
    {
        SharedData.UseForProcess();

        var result = await cluster.Client.RunAsync(Gestures("process-gestures", 1, epochs: 3, checkpointFrequency: 1), cluster.OutputRoot, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        var dir = result.OutputDirectory!;
        var rows = RunFolder.Results(dir, "t00001");
        Assert.Equal([1L, 2, 3], rows.Select(r => r.GetProperty("training_iteration").GetInt64()));
        Assert.All(rows, r =>
        {
            Assert.InRange(r.GetProperty("accuracy").GetDouble(), 0, 1);
            Assert.True(r.GetProperty("train_loss").GetDouble() > 0);
            Assert.Equal(0.003, r.GetProperty("lr").GetDouble());

            // GRU 3 -> 8: 3 x (8x3 + 8x8 + 2x8); head 8 x 20 + 20.
            Assert.Equal((3 * ((8 * 3) + (8 * 8) + 16)) + (8 * 20) + 20, r.GetProperty("parameters").GetInt64());
        });
        Assert.True(rows[^1].GetProperty("train_loss").GetDouble() < rows[0].GetProperty("train_loss").GetDouble());

        // keep: 1; the finished trial's process is gone.
        Assert.Single(Directory.GetDirectories(Path.Combine(dir, "trials", "t00001", "checkpoints"), "checkpoint_*"));
        Assert.Empty(TrialProcesses.Of(dir));
    }

    [Fact]
    public async Task SigkillingATrialProcessMidEpoch_LeavesTheWorkerAndTheOtherTrial_AndTheTrialResumesFromItsCheckpoint()
    {
        SharedData.UseForProcess();
        const int Epochs = 6;
        var id = await cluster.Client.StartAsync(Gestures("process-kill", 2, Epochs, checkpointFrequency: 1, maxFailures: 1), cluster.OutputRoot);
        var snapshot = await cluster.Client.GetAsync(id, 20, TestContext.Current.CancellationToken);
        var dir = snapshot.OutputDirectory!;

        // Once t00001 has reported two epochs and checkpointed at least one, it is training the next: kill it there.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (RunFolder.Iterations(dir, "t00001").Count < 2 || !Directory.EnumerateDirectories(Path.Combine(dir, "trials", "t00001", "checkpoints"), "checkpoint_*").Any(d => !d.EndsWith(".tmp", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "t00001 never reached its second epoch");
            await Task.Delay(20, Ct);
        }

        var victim = Assert.Single(TrialProcesses.Of(dir, "t00001"));
        victim.Kill();
        var killedAfter = RunFolder.Iterations(dir, "t00001").Count;

        var result = await cluster.Client.WaitAsync(id, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        var killed = await cluster.Client.GetTrialAsync(id, "t00001", Ct);
        var other = await cluster.Client.GetTrialAsync(id, "t00002", Ct);
        Assert.Equal((TrialStatus.Terminated, 1), (killed.Status, killed.Failures));
        Assert.Equal((TrialStatus.Terminated, 0), (other.Status, other.Failures));

        // Every epoch once; the retry restored a checkpoint after epoch 1 or later.
        var rows = RunFolder.Results(dir, "t00001");
        Assert.Equal(Enumerable.Range(1, Epochs).Select(i => (long)i), rows.Select(r => r.GetProperty("training_iteration").GetInt64()));
        Assert.Equal(Epochs, RunFolder.Iterations(dir, "t00002").Count);
        var restoredAt = rows.Select(r => r.GetProperty("training_iteration").GetInt64() - r.GetProperty("iterations_since_restore").GetInt64()).Where(d => d > 0).Distinct().ToArray();
        var restore = Assert.Single(restoredAt);
        Assert.InRange(restore, 1, killedAfter);

        // The retry's rows count up from its restore; those it replayed up to what was already recorded were dropped
        // (the kill may come between a report and its checkpoint).
        var retried = rows.Where(r => r.GetProperty("training_iteration").GetInt64() > r.GetProperty("iterations_since_restore").GetInt64()).ToList();
        Assert.Equal(retried.Select(r => r.GetProperty("training_iteration").GetInt64() - restore), retried.Select(r => r.GetProperty("iterations_since_restore").GetInt64()));
    }

    [Fact]
    public async Task APausedTrialProcess_CheckpointsAndExits_AndItsPromotionResumesInANewProcessFromThere()
    {
        SharedData.UseForProcess();

        // ASHA's promotion form, rungs at 1 and 3 epochs: of three trials the best is promoted at rung 1.
        // One at a time, the slowest learning rate last: the best has paused before the third reaches the rung (two
        // at once let the best report last when its process started slowly, and it went on without pausing).
        var spec = Gestures("process-pause", 3, epochs: 3, checkpointFrequency: 0) with
        {
            MaxConcurrent = 1,
            Space = new() { ["lr"] = Domain.Choice(0.03, 0.003, 0.0003) },
            Params = new([new("hidden_size", 8), new("epochs", 3)]),
            Search = new SearchSpec { Algorithm = "grid" },
            Samples = 1,
            Scheduler = new SchedulerSpec { Algorithm = "asha_promotion", MaxT = 3, GracePeriod = 1, ReductionFactor = 3 },
        };

        var result = await cluster.Client.RunAsync(spec, cluster.OutputRoot, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, result.Status);
        Assert.Equal(3, result.Count(TrialStatus.Terminated));
        var dir = result.OutputDirectory!;
        var rows = RunFolder.TrialIds(dir).ToDictionary(id => id, id => RunFolder.Results(dir, id));
        var promoted = Assert.Single(rows, r => r.Value.Count == 3);
        Assert.Equal([1L, 2, 3], promoted.Value.Select(r => r.GetProperty("training_iteration").GetInt64()));

        // Epoch 2 came from a new process restored from the checkpoint the paused one saved at epoch 1.
        Assert.Equal([1L, 1, 2], promoted.Value.Select(r => r.GetProperty("iterations_since_restore").GetInt64()));
        Assert.All(rows.Where(r => r.Key != promoted.Key), r => Assert.Single(r.Value));
        Assert.Empty(TrialProcesses.Of(dir));
    }

    [Fact]
    public async Task FrozenResNetTrials_InTheirOwnProcesses_ComputeTheFeaturesOnceForTheWorker()
    {
        SharedData.UseForProcess();
        var cache = Directory.CreateTempSubdirectory("tuner-features-").FullName;
        Environment.SetEnvironmentVariable("TUNER_FEATURE_CACHE", cache);
        try
        {
            // Three frozen-backbone trials, two at a time: one process computes the features, the others wait and read them.
            var spec = new ExperimentSpec
            {
                Name = "ants-bees-frozen",
                Trainable = "ants_bees",
                Metric = "valid_loss",
                Mode = OptimizationMode.Min,
                Samples = 1,
                MaxConcurrent = 2,
                Resources = new ResourceSpec { Cpu = 1 },
                Search = new SearchSpec { Algorithm = "grid" },
                Params = new([new("unfreeze", 0), new("feature_views", 1), new("epochs", 3), new("batch_size", 16), new("dense_layers", 0)]),
                Space = new() { ["lr"] = Domain.Choice(0.01, 0.003, 0.001) },
            };

            var result = await cluster.Client.RunAsync(spec, cluster.OutputRoot, cancellationToken: Ct);

            Assert.Equal(ExperimentStatus.Completed, result.Status);
            Assert.Equal(3, result.Count(TrialStatus.Terminated));
            var dir = result.OutputDirectory!;
            var firsts = RunFolder.TrialIds(dir).Select(id => RunFolder.Results(dir, id)[0]).ToList();
            Assert.Single(firsts, r => r.GetProperty("feature_seconds").GetDouble() > 0);
            Assert.Equal(2, firsts.Count(r => r.GetProperty("feature_seconds").GetDouble() == 0));
            Assert.Single(Directory.GetFiles(cache, "*.features"));
            Assert.All(RunFolder.TrialIds(dir), id => Assert.True(RunFolder.Results(dir, id)[^1].GetProperty("accuracy").GetDouble() >= 0.85, $"{id}: {RunFolder.Results(dir, id)[^1]}"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TUNER_FEATURE_CACHE", null);
            Directory.Delete(cache, recursive: true);
        }
    }

    [Fact]
    public async Task StoppingAnExperiment_LetsTheTrialProcessCheckpointAndExit()
    {
        SharedData.UseForProcess();

        // No periodic checkpoints: whatever checkpoint there is, SIGTERM made.
        var id = await cluster.Client.StartAsync(Gestures("process-stop", 1, epochs: 100, checkpointFrequency: 0), cluster.OutputRoot);
        var dir = (await cluster.Client.GetAsync(id, 20, TestContext.Current.CancellationToken)).OutputDirectory!;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (RunFolder.Iterations(dir, "t00001").Count < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "t00001 never finished an epoch");
            await Task.Delay(20, Ct);
        }

        var watch = Stopwatch.StartNew();
        await cluster.Client.StopAsync(id);
        var result = await cluster.Client.WaitAsync(id, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Stopped, result.Status);
        var trial = await cluster.Grains.GetGrain<IExperimentGrain>(id).GetTrialAsync("t00001");
        var checkpoint = Assert.IsType<CheckpointRef>(trial.Checkpoint);
        Assert.True(File.Exists(Path.Combine(checkpoint.Path, "trainer.json")), $"no trainer state in {checkpoint.Path}");
        Assert.Equal(trial.LastIteration, checkpoint.Iteration);
        Assert.Empty(TrialProcesses.Of(dir));
        TestContext.Current.SendDiagnosticMessage($"stopped in {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task ABadHyperparameter_FailsTheTrial_WithTheProcessesErrorNamingTheKeyAndTheAllowedValues()
    {
        SharedData.UseForProcess();
        var spec = Gestures("process-bad-cell", 1, epochs: 2, checkpointFrequency: 0) with { Params = new([new("cell", "transformer")]) };

        var result = await cluster.Client.RunAsync(spec, cluster.OutputRoot, cancellationToken: Ct);

        var row = Assert.Single(result.Rows);
        Assert.Equal(TrialStatus.Error, row.Status);
        Assert.Contains("trial process exited with code 1: ConfigException: cell: 'transformer' is not one of the allowed values: gru, lstm", row.StatusReason, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Tuner.", row.StatusReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTrialProgram_StartedWithoutAWorker_SaysWhatIsMissing()
    {
        var (program, arguments) = new Tuner.Worker.WorkerOptions().TrialProcessCommand();
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("TUNER_CHECKPOINT_DIR is not set; tuner-trial is started by a worker", error, StringComparison.Ordinal);
    }
}

/// <summary>Finds the live trial processes of an experiment by the checkpoint folder in their environment.</summary>
internal static class TrialProcesses
{
    public static IReadOnlyList<Process> Of(string experimentDirectory, string? trialId = null)
    {
        var found = new List<Process>();
        foreach (var proc in Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(n => int.TryParse(n, out _)))
        {
            string[] environment;
            try
            {
                environment = Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{proc}/environ")).Split('\0');
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            var dir = environment.FirstOrDefault(e => e.StartsWith("TUNER_CHECKPOINT_DIR=", StringComparison.Ordinal));
            var trial = environment.FirstOrDefault(e => e.StartsWith("TUNER_TRIAL_ID=", StringComparison.Ordinal));
            if (dir is not null && dir["TUNER_CHECKPOINT_DIR=".Length..].StartsWith(experimentDirectory, StringComparison.Ordinal)
                && (trialId is null || trial == $"TUNER_TRIAL_ID={trialId}"))
            {
                try
                {
                    found.Add(Process.GetProcessById(int.Parse(proc!, System.Globalization.CultureInfo.InvariantCulture)));
                }
                catch (ArgumentException)
                {
                    // Exited meanwhile.
                }
            }
        }

        return found;
    }
}
