using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;
using Tuner.Cli;
using Tuner.Core.Trainables;

namespace Tuner.Integration.Tests;

/// <summary>The <c>tuner</c> command end to end: real specs, an embedded cluster, files on disk, exit codes.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"tuner-cli-{Guid.NewGuid():N}");

    public CliTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Example(string name) => Path.Combine(RepoRoot.Path, "examples", name);

    private Task<(int ExitCode, string Output)> TunerAsync(params string[] args) => InterruptibleTunerAsync(args, TestContext.Current.CancellationToken);

    private static async Task<(int ExitCode, string Output)> InterruptibleTunerAsync(string[] args, CancellationToken cancellationToken)
    {
        var (console, writer) = TestConsole.Create(160);
        var code = await TunerCli.RunAsync(args, console, cancellationToken);
        return (code, writer.ToString());
    }

    private string WriteSpec(string yaml)
    {
        var path = Path.Combine(_root, $"spec-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    [Fact]
    public async Task Run_BraninRandomExample_FindsAValueAtMost0_6_AndWritesRayLikeResults()
    {
        var (code, output) = await TunerAsync("run", Example("branin-random.yaml"), "--output", _root);

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("Experiment branin-random completed", output, StringComparison.Ordinal);
        Assert.Contains("Best trial", output, StringComparison.Ordinal);
        var dir = Path.Combine(_root, "branin-random");
        var doc = RunFolder.Experiment(dir);
        Assert.Equal("completed", doc.GetProperty("status").GetString());
        Assert.Equal(200, doc.GetProperty("state_counts").GetProperty("TERMINATED").GetInt32());
        var best = doc.GetProperty("best");
        var bestValue = best.GetProperty("metrics").GetProperty("value").GetDouble();
        Assert.InRange(bestValue, BraninTrainable.Minimum, 0.6);
        var bestId = best.GetProperty("trial_id").GetString()!;
        var bestParams = RunFolder.Trial(dir, bestId).GetProperty("config");
        Assert.Equal(best.GetProperty("config").GetProperty("x1").GetDouble(), bestParams.GetProperty("x1").GetDouble());

        var trials = RunFolder.TrialIds(dir).ToList();
        Assert.Equal(200, trials.Count);
        Assert.All(trials, id => Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), RunFolder.Iterations(dir, id)));

        // Rows, not files per trial: progress.csv has a header and one row per result, each naming its trial.
        var csv = File.ReadAllLines(Path.Combine(dir, "progress.csv"));
        Assert.StartsWith("trial_id,training_iteration,time_total_s,timestamp", csv[0], StringComparison.Ordinal);
        Assert.Equal(2000, csv.Length - 1);
        Assert.Equal(trials, csv.Skip(1).Select(l => l.Split(',')[0]).Distinct().Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Run_GesturesQuickExample_ItsBestGruReaches95PercentValidationAccuracy()
    {
        var (code, output) = await TunerAsync("run", Example("gestures-gru-quick.yaml"), "--output", _root, "--data-dir", SharedData.Directory, "-q");

        Assert.True(code == ExitCodes.Success, output);
        var doc = RunFolder.Experiment(Path.Combine(_root, "gestures-gru-quick"));
        Assert.Equal(6, doc.GetProperty("state_counts").GetProperty("TERMINATED").GetInt32());
        var best = doc.GetProperty("best");
        Assert.Equal(8, best.GetProperty("metrics").GetProperty("training_iteration").GetInt64());
        Assert.True(best.GetProperty("metrics").GetProperty("accuracy").GetDouble() >= 0.95, output);
    }

    [Fact]
    public async Task Run_SentimentExample_TrainsEmbeddingsAndBagsOfWordsSideBySide_AndReportsWhatEachCosts()
    {
        var (code, output) = await TunerAsync("run", Example("sentiment-embeddings.yaml"), "--output", _root, "--data-dir", SharedData.Directory, "-q");

        Assert.True(code == ExitCodes.Success, output);
        var dir = Path.Combine(_root, "sentiment-embeddings");
        var trials = RunFolder.TrialIds(dir).Select(id => (Params: RunFolder.Trial(dir, id).GetProperty("config"), Last: RunFolder.Results(dir, id)[^1])).ToList();
        Assert.Equal(4, trials.Count);
        Assert.All(trials, t =>
        {
            Assert.Equal(10, t.Last.GetProperty("training_iteration").GetInt64());
            Assert.True(t.Last.GetProperty("accuracy").GetDouble() > 0.7, $"{t.Params}: {t.Last}");
        });

        // Embeddings cost vocabulary x embedding_dim; the bag of words vocabulary x units, whatever embedding_dim says.
        long Cost(string model, int dim) => trials.Single(t => t.Params.GetProperty("model").GetString() == model && t.Params.GetProperty("embedding_dim").GetInt32() == dim).Last.GetProperty("parameters").GetInt64();
        Assert.True(Cost("embedding", 64) > Cost("embedding", 16));
        Assert.Equal(Cost("bow", 16), Cost("bow", 64));
        Assert.True(Cost("bow", 16) > Cost("embedding", 16));
    }

    [Fact]
    public async Task Space_PrintsTheDimensionsAndTheSchedulersPlan_AsJson()
    {
        var (code, output) = await TunerAsync("space", Example("gestures-gru.yaml"), "--json");

        Assert.Equal(ExitCodes.Success, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal(["hidden_size", "dropout", "num_layers"], root.GetProperty("dimensions").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal("unbounded", root.GetProperty("distinct_configs").GetString());
        Assert.Equal("asha", root.GetProperty("scheduler").GetString());
        var rungs = root.GetProperty("brackets")[0].GetProperty("rungs").EnumerateArray().Select(r => (r.GetProperty("configs").GetInt64(), r.GetProperty("resource").GetDouble())).ToList();
        Assert.Equal([(20L, 1.0), (7, 3), (2, 9), (1, 27), (1, 50)], rungs);
    }

    [Fact]
    public async Task Space_WarnsWhenTheBudgetCannotCoverTheSpace()
    {
        var spec = WriteSpec("name: wide\ntrainable: noop\nmetric: value\nsamples: 5\nspace:\n  a: { uniform: [0, 1] }\n  b: { uniform: [0, 1] }\n  c: { uniform: [0, 1] }\n  dropout: { uniform: [0, 0.5] }\n");

        var (code, output) = await TunerAsync("space", spec);

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("warning:", output, StringComparison.Ordinal);
        Assert.Contains("trying 3 values of each in combination takes 81", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_HartmannGridExample_RunsEveryGridPointOnce()
    {
        var (code, _) = await TunerAsync("run", Example("hartmann6-grid.yaml"), "--output", _root);

        Assert.Equal(ExitCodes.Success, code);
        var dir = Path.Combine(_root, "hartmann6-grid");
        var points = RunFolder.TrialIds(dir)
            .Select(id => RunFolder.Trial(dir, id).GetProperty("config"))
            .Select(p => (p.GetProperty("x1").GetDouble(), p.GetProperty("x2").GetDouble(), p.GetProperty("x3").GetDouble(), p.GetProperty("x6").GetDouble()))
            .ToList();
        Assert.Equal(18, points.Count);
        Assert.Equal(18, points.Distinct().Count());
        Assert.All(points, p => Assert.Equal(0.66, p.Item4));
    }

    [Fact]
    public async Task Run_TwiceWithTheSameOutput_KeepsTheFirstRun()
    {
        var spec = WriteSpec("name: twice\ntrainable: noop\nmetric: value\nsamples: 2\nparams: { reports: 2 }\n");

        Assert.Equal(ExitCodes.Success, (await TunerAsync("run", spec, "-o", _root, "-q")).ExitCode);
        Assert.Equal(ExitCodes.Success, (await TunerAsync("run", spec, "-o", _root, "-q")).ExitCode);

        Assert.True(File.Exists(Path.Combine(_root, "twice", "experiment.json")));
        Assert.True(File.Exists(Path.Combine(_root, "twice-2", "experiment.json")));
    }

    public static TheoryData<string, string> InvalidSpecs => new()
    {
        { "name: a\ntrainable: branin\nmetric: value\nsampels: 3\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "sampels" },
        { "name: a\ntrainable: branin\nmetric: value\nsamples: many\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "samples" },
        { "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [10, -5] }, x2: { uniform: [0, 15] } }", "space.x1.uniform" },
        { "name: a\ntrainable: branin\nmetric: value\nspace: { x1: { uniform: [1, 1] }, x2: { uniform: [0, 15] } }", "space.x1.uniform" },
        { "name: a\ntrainable: noop\nmetric: value\nspace: { lr: { loguniform: [0, 0.1] } }", "space.lr.loguniform" },
        { "name: a\ntrainable: noop\nmetric: value\nspace: { act: { choice: [] } }", "space.act.choice" },
        { "name: a\ntrainable: branin\nmetric: loss\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "metric" },
        { "name: a\ntrainable: branin\nmetric: value\nmode: minimise\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "mode" },
        { "name: a\ntrainable: resnet\nmetric: value", "trainable" },
        { "name: a\ntrainable: noop\nmetric: value\nsearch: { algorithm: hyperopt }", "search.algorithm" },
        { "name: a\ntrainable: noop\nmetric: value\nstop: { iterations: 3 }", "stop.iterations" },
        { "name: a\ntrainable: noop\nmetric: value\nspace: { x: { normal: [0, 0] } }", "space.x.normal" },
        { "name: [a\n", "(document)" },
        { "name: a\ntrainable: zdt1\nmetric: [f1, f2]\nmode: [min]\nspace: { x1: { uniform: [0, 1] } }", "mode" },
        { "name: a\ntrainable: branin\nmetric: value\nsearch: { algorithm: cmaes }\nspace: { x1: { choice: [1, 2] }, x2: { uniform: [0, 15] } }", "space.x1" },
        { "name: a\ntrainable: branin\nmetric: value\nsearch: { algorithm: tpe, points_to_evaluate: [{ x1: 20, x2: 1 }] }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "search.points_to_evaluate[0].x1" },
        { "name: a\ntrainable: branin\nmetric: value\nstop: { trial_plateau: { num_results: 1 } }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }", "stop.trial_plateau.num_results" },
    };

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public async Task Run_InvalidSpec_ExitsWith2_NamingTheField(string yaml, string path)
    {
        var (code, output) = await TunerAsync("run", WriteSpec(yaml), "--output", _root);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains($"{path}:", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "a")), "nothing runs for an invalid spec");
    }

    [Fact]
    public async Task Run_TwoObjectives_PrintsAndWritesTheParetoFront_AndTheReportDrawsIt()
    {
        var spec = WriteSpec(
            "name: zdt\ntrainable: zdt1\nmetric: [f1, f2]\nmode: [min, min]\nsamples: 60\nmax_concurrent: 4\n"
            + "search: { algorithm: nsga2, seed: 2, population_size: 20 }\nspace:\n"
            + string.Concat(Enumerable.Range(1, 6).Select(i => $"  x{i}: {{ uniform: [0, 1] }}\n")));

        var (code, output) = await TunerAsync("run", spec, "--output", _root);

        Assert.True(code == ExitCodes.Success, output);
        Assert.Contains("Pareto front:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Best trial", output, StringComparison.Ordinal);
        var dir = Path.Combine(_root, "zdt");
        var doc = RunFolder.Experiment(dir);
        Assert.Equal(JsonValueKind.Null, doc.GetProperty("best").ValueKind);
        var front = doc.GetProperty("pareto_front").EnumerateArray().Select(t => (F1: t.GetProperty("metrics").GetProperty("f1").GetDouble(), F2: t.GetProperty("metrics").GetProperty("f2").GetDouble())).ToList();
        Assert.NotEmpty(front);

        // Every trial's last result: none dominates a front trial, and every other trial is dominated by one.
        var all = RunFolder.TrialIds(dir).Select(id => RunFolder.Results(dir, id)[^1]).Select(r => (F1: r.GetProperty("f1").GetDouble(), F2: r.GetProperty("f2").GetDouble())).ToList();
        Assert.Equal(60, all.Count);
        static bool Dominates((double F1, double F2) a, (double F1, double F2) b) => a.F1 <= b.F1 && a.F2 <= b.F2 && (a.F1 < b.F1 || a.F2 < b.F2);
        Assert.All(front, f => Assert.DoesNotContain(all, a => Dominates(a, f)));
        Assert.All(all.Where(a => !front.Contains(a)), a => Assert.Contains(front, f => Dominates(f, a) || f == a));

        var (reportCode, reportOutput) = await TunerAsync("report", dir);
        Assert.True(reportCode == ExitCodes.Success, reportOutput);
        Assert.True(File.Exists(Path.Combine(dir, "report", "pareto-front.png")));
        Assert.Contains("id=\"pareto-front\"", await File.ReadAllTextAsync(Path.Combine(dir, "report.html"), TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extend_ContinuesACompletedRunsSearcher_NoTrialRunsTwice_AsAFreshRunOfThatManySamples()
    {
        const string Yaml = "name: ext\ntrainable: branin\nmetric: value\nsamples: 6\nmax_concurrent: 1\nsearch: { algorithm: tpe, seed: 3 }\nparams: { max_iterations: 3 }\n"
            + "space:\n  x1: { uniform: [-5, 10] }\n  x2: { uniform: [0, 15] }\n";
        var spec = WriteSpec(Yaml);
        var extendedRoot = Path.Combine(_root, "extended");
        var freshRoot = Path.Combine(_root, "fresh");
        Assert.Equal(ExitCodes.Success, (await TunerAsync("run", spec, "-o", extendedRoot, "-q")).ExitCode);
        var dir = Path.Combine(extendedRoot, "ext");

        var (code, output) = await TunerAsync("extend", dir, "--samples", "9", "-q");
        Assert.True(code == ExitCodes.Success, output);

        // The same command with --samples extends the completed run again (it does not start another).
        (code, output) = await TunerAsync("run", spec, "-o", extendedRoot, "-q", "--samples", "12");
        Assert.True(code == ExitCodes.Success, output);
        Assert.Equal(["ext"], Directory.GetDirectories(extendedRoot).Select(Path.GetFileName));

        // Twelve trials, each of whose three iterations ran once, with the configs a fresh run of twelve draws.
        Assert.Equal(ExitCodes.Success, (await TunerAsync("run", spec, "-o", freshRoot, "-q", "--samples", "12")).ExitCode);
        var fresh = Path.Combine(freshRoot, "ext");
        Assert.Equal(12, RunFolder.TrialIds(dir).Count());
        Assert.All(RunFolder.TrialIds(dir), id => Assert.Equal([1L, 2, 3], RunFolder.Iterations(dir, id)));
        Assert.Equal(
            RunFolder.TrialIds(fresh).Select(id => RunFolder.Trial(fresh, id).GetProperty("config").GetRawText()),
            RunFolder.TrialIds(dir).Select(id => RunFolder.Trial(dir, id).GetProperty("config").GetRawText()));
        var doc = RunFolder.Experiment(dir);
        Assert.Equal("completed", doc.GetProperty("status").GetString());
        Assert.Equal(12, doc.GetProperty("state_counts").GetProperty("TERMINATED").GetInt32());
        Assert.Equal(2, File.ReadLines(Path.Combine(dir, "journal.jsonl")).Count(l => l.Contains("\"event\":\"extended\"", StringComparison.Ordinal)));

        // Not more than it has, and not an unfinished run: exit 2, saying why.
        (code, output) = await TunerAsync("extend", dir, "--samples", "5");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("samples: 5 must be more than the 12 the experiment already has", output, StringComparison.Ordinal);
        (code, output) = await TunerAsync("extend", _root, "--samples", "5");
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("not a run folder", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingSpecFile_ExitsWith2()
    {
        var (code, output) = await TunerAsync("run", Path.Combine(_root, "nope.yaml"));

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MoreResourcesThanTheEmbeddedWorkerHas_ExitsWith2()
    {
        var spec = WriteSpec("name: big\ntrainable: noop\nmetric: value\nresources: { cpu: 4, gpu: 1 }\n");

        var (code, output) = await TunerAsync("run", spec, "--cpus", "2", "--output", _root);

        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("resources.cpu:", output, StringComparison.Ordinal);
        Assert.Contains("resources.gpu:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_TrialsEndingInError_ExitsWith1_AndShowsTheCause()
    {
        var spec = WriteSpec("name: broken\ntrainable: noop\nmetric: value\nsamples: 2\nparams: { fail_at_iteration: 1 }\n");

        var (code, output) = await TunerAsync("run", spec, "--output", _root);

        Assert.Equal(ExitCodes.RuntimeFailure, code);
        Assert.Contains("ERROR", output, StringComparison.Ordinal);
        Assert.Contains("failed on purpose", output, StringComparison.Ordinal);
        Assert.Equal("failed", RunFolder.Experiment(Path.Combine(_root, "broken")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Run_Interrupted_StopsTheExperiment_KeepsItsResults_AndExitsWith130()
    {
        var spec = WriteSpec("name: interrupted\ntrainable: sleep\nmetric: value\nsamples: 50\nmax_concurrent: 2\nresources: { cpu: 1 }\nparams: { seconds: 0.02, reports: 1000000 }\n");
        var dir = Path.Combine(_root, "interrupted");
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = InterruptibleTunerAsync(["run", spec, "--output", _root], interrupt.Token);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Path.Combine(dir, "results.jsonl")) || new FileInfo(Path.Combine(dir, "results.jsonl")).Length == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no results were written within 60 s");
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }

        await interrupt.CancelAsync();
        var (code, output) = await run;

        Assert.Equal(ExitCodes.Interrupted, code);
        Assert.Contains("Experiment interrupted stopped", output, StringComparison.Ordinal);
        var doc = RunFolder.Experiment(dir);
        Assert.Equal("stopped", doc.GetProperty("status").GetString());
        Assert.Equal(0, doc.GetProperty("state_counts").GetProperty("RUNNING").GetInt32());
        Assert.NotEmpty(RunFolder.Iterations(dir, "t00001"));
    }

    [Fact]
    public async Task Run_OutputThatCannotBeCreated_ExitsWith1_Explaining()
    {
        var blocker = Path.Combine(_root, "a-file");
        File.WriteAllText(blocker, "not a folder");
        var spec = WriteSpec("name: nowhere\ntrainable: noop\nmetric: value\n");

        var (code, output) = await TunerAsync("run", spec, "--output", Path.Combine(blocker, "runs"));

        Assert.Equal(ExitCodes.RuntimeFailure, code);
        Assert.Contains("error:", output, StringComparison.Ordinal);
        Assert.Contains("a-file", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_ShowsLearningRateAdvice_ForTheBestTrialAndOthers()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(writer) });
        console.Profile.Width = 200;
        var config = new Tuner.Core.Space.TrialConfig([new("lr", 0.01)]);
        var last = new Tuner.Core.Experiments.TrialResult(20, 1, 1, new Dictionary<string, double> { ["valid_loss"] = 0.1 });
        var snapshot = new Tuner.Abstractions.Messages.ExperimentSnapshot(
            "e-1", "e", Tuner.Core.Experiments.ExperimentStatus.Completed, null, null, "valid_loss", Tuner.Core.Spec.OptimizationMode.Min, 2,
            new Dictionary<Tuner.Core.Experiments.TrialStatus, int> { [Tuner.Core.Experiments.TrialStatus.Terminated] = 2 },
            [
                new("t00001", Tuner.Core.Experiments.TrialStatus.Terminated, config, 20, 0.1, 0, null, "valid_loss has not improved: would benefit from a learning-rate scheduler"),
                new("t00002", Tuner.Core.Experiments.TrialStatus.Terminated, config, 20, 0.2, 0, null),
            ],
            new Tuner.Core.Results.BestTrial("t00001", config, last), 40, 1.0, false);

        Tuner.Cli.Rendering.ExperimentView.PrintSummary(console, snapshot);

        var output = writer.ToString();
        Assert.Contains("The best trial t00001: valid_loss has not improved", output, StringComparison.Ordinal);
        Assert.Contains("Learning-rate advice for 1 of 2 trials", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_SaysHowManyTrialsASpecMakes()
    {
        var (code, output) = await TunerAsync("validate", Example("hartmann6-grid.yaml"));

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("18 trials", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TunerProcess_ExitCodesReachTheShell()
    {
        var tuner = Path.Combine(AppContext.BaseDirectory, "tuner.dll");
        var valid = WriteSpec("name: process\ntrainable: noop\nmetric: value\nsamples: 3\nparams: { reports: 2 }\n");
        var invalid = WriteSpec("name: process\ntrainable: noop\nmetric: value\nsamples: -3\n");

        var ok = await RunProcessAsync(tuner, "run", valid, "--output", _root);
        var bad = await RunProcessAsync(tuner, "run", invalid, "--output", _root);

        Assert.True(ok.Code == ExitCodes.Success, ok.Output);
        Assert.Contains("Experiment process completed", ok.Output, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, bad.Code);
        Assert.Contains("samples: must be at least 1", bad.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSameSpec_GivesTheSameResults_InSeparateProcesses()
    {
        var tuner = Path.Combine(AppContext.BaseDirectory, "tuner.dll");
        var spec = WriteSpec("name: repeat\ntrainable: branin\nmetric: value\nsamples: 4\nmax_concurrent: 2\nresources: { cpu: 1 }\nsearch: { seed: 3 }\nparams: { max_iterations: 5 }\nspace: { x1: { uniform: [-5, 10] }, x2: { uniform: [0, 15] } }\n");

        var first = await RunProcessAsync(tuner, "run", spec, "--output", Path.Combine(_root, "first"), "-q");
        var second = await RunProcessAsync(tuner, "run", spec, "--output", Path.Combine(_root, "second"), "-q");

        Assert.True(first.Code == ExitCodes.Success, first.Output);
        Assert.True(second.Code == ExitCodes.Success, second.Output);
        static string Values(string dir) => string.Join(
            "\n",
            RunFolder.TrialIds(dir).Select(id => string.Join(",", RunFolder.Results(dir, id).Select(r => r.GetProperty("value").GetDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        var values = Values(Path.Combine(_root, "first", "repeat"));
        Assert.Equal(values, Values(Path.Combine(_root, "second", "repeat")));
        Assert.Equal(4 * 5, values.Split('\n', ',').Length);
    }

    private static async Task<(int Code, string Output)> RunProcessAsync(string dll, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }
}
