using System.Text.Json;
using Microsoft.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Tuner.Client;
using Tuner.Client.Space;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Worker.Plugins;

namespace Tuner.Api.Tests;

/// <summary>Users' own trainables: .NET class libraries loaded per experiment, and any command speaking the trial protocol.</summary>
public sealed class CustomTrainableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ExperimentSpec Spec(CustomTrainableSpec custom, string metric, int samples = 4) => new()
    {
        Name = "custom",
        Trainable = custom.DisplayName,
        Custom = custom,
        Metric = metric,
        Samples = samples,
        MaxConcurrent = 2,
        Search = new SearchSpec { Algorithm = "random", Seed = 5 },
        Failure = new FailureSpec { MaxFailures = 1 },
        Checkpoint = new CheckpointSpec { Frequency = 1 },
        Resources = new ResourceSpec { Cpu = 0.5 },
        Space = new SearchSpaceBuilder().Uniform("x", -1, 1).Build(),
    };

    private static string Script(string name, string body)
    {
        var dir = Directory.CreateTempSubdirectory("tuner-cmd-").FullName;
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, body);
        return path;
    }

    [Fact]
    public async Task AnUploadedAssembly_RunsInItsOwnLoadContext_AndIsUnloadedWhenTheExperimentEnds()
    {
        var folder = Directory.CreateTempSubdirectory("tuner-plugin-").FullName;
        var dll = PluginCompiler.Compile(folder, "Plugin.Quadratic", PluginCompiler.QuadraticSource);
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();

        var spec = Spec(new CustomTrainableSpec { Assembly = dll, Type = "Plugin.Quadratic" }, "loss");
        var grid = await client.RunAsync(spec, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.All(grid.Trials, t =>
        {
            Assert.Equal(TrialStatus.Terminated, t.Status);
            var x = t.Config["x"].AsDouble();
            Assert.Equal(Enumerable.Range(1, 5).Select(i => ((x - 0.25) * (x - 0.25)) + (1.0 / i)), t.Results.Select(r => r.GetMetric("loss")!.Value));
        });

        // The upload went to the server's own folder, not the client's path.
        var uploaded = Path.Combine(server.OutputRoot, ".code", grid.ExperimentId, "Plugin.Quadratic.dll");
        Assert.True(File.Exists(uploaded));

        // Unloaded once the experiment ended: no context is held, and the runtime collects it.
        var cache = server.SiloServices.GetRequiredService<TrainableAssemblyCache>();
        await Eventually.GetAsync(() => Task.FromResult(cache.Loaded.Count), n => n == 0, what: "the assembly unloaded");
        await Eventually.GetAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return Task.FromResult(cache.UnloadingContexts);
            },
            n => n == 0,
            what: "the load context collected");
    }

    [Fact]
    public async Task AMissingTypeOrANewerTunerCore_FailsTheSubmission_NamingTheField()
    {
        var folder = Directory.CreateTempSubdirectory("tuner-plugin-").FullName;
        var dll = PluginCompiler.Compile(folder, "Plugin.Quadratic", PluginCompiler.QuadraticSource);

        // A Tuner.Core from the future, and a plugin built against it.
        var futureFolder = Directory.CreateTempSubdirectory("tuner-future-").FullName;
        var futureCore = PluginCompiler.Compile(
            futureFolder,
            "Tuner.Core",
            "namespace Tuner.Core.Trainables { public interface ITrainable { } public static class NewThing { public static int Value => 1; } }",
            referenceTunerCore: false,
            assemblyVersion: "99.0.0.0");
        var newer = PluginCompiler.Compile(
            Path.Combine(futureFolder, "plugin"),
            "Plugin.Future",
            "namespace Plugin { public sealed class Future : Tuner.Core.Trainables.ITrainable { public int V => Tuner.Core.Trainables.NewThing.Value; } }",
            [MetadataReference.CreateFromFile(futureCore)],
            referenceTunerCore: false);

        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();

        var missing = await Assert.ThrowsAsync<SpecException>(() => client.SubmitAsync(Spec(new CustomTrainableSpec { Assembly = dll, Type = "Plugin.Missing" }, "loss"), cancellationToken: Ct));
        var error = Assert.Single(missing.Errors);
        Assert.Equal("trainable.type", error.Path);
        Assert.Contains("Plugin.Quadratic", error.Message, StringComparison.Ordinal);

        var conflict = await Assert.ThrowsAsync<SpecException>(() => client.SubmitAsync(Spec(new CustomTrainableSpec { Assembly = newer, Type = "Plugin.Future" }, "loss"), cancellationToken: Ct));
        Assert.Contains(conflict.Errors, e => e.Path == "trainable.assembly" && e.Message.Contains("Tuner.Core 99.0.0.0", StringComparison.Ordinal));
        Assert.Empty(await client.ListAsync(Ct));
    }

    [Fact]
    public async Task TheSameAssemblyTrainable_RunsThroughTheEmbeddedClient()
    {
        var folder = Directory.CreateTempSubdirectory("tuner-plugin-").FullName;
        var dll = PluginCompiler.Compile(folder, "Plugin.Quadratic", PluginCompiler.QuadraticSource);
        await using var server = await TunerServer.StartAsync();
        ITunerClient embedded = server.Embedded;

        var grid = await embedded.RunAsync(Spec(new CustomTrainableSpec { Assembly = dll, Type = "Plugin.Quadratic" }, "loss", samples: 3), options: new SubmitOptions { OutputRoot = server.OutputRoot }, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.Equal(15, grid.Trials.Sum(t => t.Results.Count));
    }

    [Fact]
    public async Task APythonCommand_IsTunedThroughTheApi_TheExampleRuns()
    {
        var spec = SpecParser.ParseFile(Path.Combine(RepoRoot.Path, "examples", "python-command.yaml")) with { Samples = 6 };
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();

        var grid = await client.RunAsync(spec, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.All(grid.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.Contains(grid.Trials, t => t.Iterations == 30);

        // ASHA stopped some before the end (SIGTERM: they saved a checkpoint and exited 0).
        Assert.Contains(grid.Trials, t => t.Iterations < 30);
        Assert.True(grid.GetBestResult()!.Value < 0.05, $"best loss {grid.GetBestResult()!.Value}");
    }

    [Fact]
    public async Task AFailingCommand_EndsInError_WithTheTailOfItsStandardError()
    {
        var script = Script("fail.py", """
            import sys
            print('TUNER_REPORT {"loss": 1.0}', flush=True)
            for i in range(1, 8):
                print("line %d of the failure" % i, file=sys.stderr)
            sys.exit(4)
            """);
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var spec = Spec(new CustomTrainableSpec { Command = ["python3", script], WorkingDir = Path.GetDirectoryName(script) }, "loss", samples: 1) with
        {
            Failure = new FailureSpec { MaxFailures = 0 },
        };

        var grid = await client.RunAsync(spec, cancellationToken: Ct);

        var trial = Assert.Single(grid.Trials);
        Assert.Equal(TrialStatus.Error, trial.Status);
        Assert.Contains("exited with code 4", trial.StatusReason, StringComparison.Ordinal);
        Assert.Contains("line 7 of the failure", trial.StatusReason, StringComparison.Ordinal);
        Assert.Contains("line 3 of the failure", trial.StatusReason, StringComparison.Ordinal);
        Assert.DoesNotContain("line 2 of the failure", trial.StatusReason, StringComparison.Ordinal);
        Assert.Single(trial.Results);
    }

    [Fact]
    public async Task ARetriedCommand_FindsItsCheckpoint_AndNoIterationIsRecordedTwice()
    {
        // Attempt 1 reports 3 iterations with checkpoints, then crashes; attempt 2 must be told where to continue.
        var script = Script("flaky.py", """
            import json, os, sys
            ckdir = os.environ["TUNER_CHECKPOINT_DIR"]
            start = 0
            restore = os.environ.get("TUNER_RESTORE_FROM")
            if restore:
                start = json.load(open(os.path.join(restore, "state.json")))["iteration"]
                assert os.environ["TUNER_ITERATION"] == str(start), "TUNER_ITERATION disagrees with the checkpoint"
            for i in range(start + 1, 7):
                print("TUNER_REPORT " + json.dumps({"loss": 1.0 / i, "done": i == 6}), flush=True)
                path = os.path.join(ckdir, "checkpoint_%06d" % i)
                os.makedirs(path, exist_ok=True)
                json.dump({"iteration": i}, open(os.path.join(path, "state.json"), "w"))
                print("TUNER_CHECKPOINT " + json.dumps({"path": path}), flush=True)
                if i == 3 and os.environ["TUNER_ATTEMPT"] == "1":
                    print("simulated crash", file=sys.stderr)
                    sys.exit(1)
            """);
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var spec = Spec(new CustomTrainableSpec { Command = ["python3", script], WorkingDir = Path.GetDirectoryName(script) }, "loss", samples: 1);

        var grid = await client.RunAsync(spec, cancellationToken: Ct);

        var trial = Assert.Single(grid.Trials);
        Assert.Equal(TrialStatus.Terminated, trial.Status);
        Assert.Equal(1, trial.Failures);
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), trial.Results.Select(r => r.TrainingIteration));
        Assert.Equal(1, trial.Results[3].IterationsSinceRestore);
    }

    [Fact]
    public async Task NaNAndInfiniteMetrics_FromACommand_AreRecorded_AndTheBestIgnoresThem()
    {
        // Python writes NaN and Infinity bare, which is not JSON; they are read as the numbers they mean.
        var script = Script("nan.py", """
            import json, os
            x = json.load(open(os.environ["TUNER_CONFIG_FILE"]))["x"]
            values = [float("nan"), float("inf"), abs(x)] if x < 0 else [abs(x), abs(x) / 2, abs(x) / 4]
            for i, v in enumerate(values, 1):
                print("TUNER_REPORT " + json.dumps({"loss": v, "done": i == 3}), flush=True)
            """);
        await using var server = await TunerServer.StartAsync();
        using var client = server.Client();
        var spec = Spec(new CustomTrainableSpec { Command = ["python3", script], WorkingDir = Path.GetDirectoryName(script) }, "loss", samples: 6);

        var grid = await client.RunAsync(spec, cancellationToken: Ct);

        Assert.Equal(ExperimentStatus.Completed, grid.Status);
        Assert.All(grid.Trials, t => Assert.Equal(3, t.Results.Count));
        var odd = grid.Trials.Where(t => t.Config["x"].AsDouble() < 0).ToList();
        Assert.NotEmpty(odd);
        Assert.All(odd, t => Assert.True(double.IsNaN(t.Results[0].GetMetric("loss")!.Value)));
        var lines = RunRows.Lines(grid.Experiment.OutputDirectory!, odd[0].TrialId);
        Assert.Equal("NaN", JsonDocument.Parse(lines[0]).RootElement.GetProperty("loss").GetString());
        Assert.False(double.IsNaN(grid.GetBestResult(scope: Client.Results.ResultScope.All)!.Value));
    }
}
