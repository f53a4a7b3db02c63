using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tuner.Client.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Spec;

namespace Tuner.Bench;

/// <summary>
/// The tuner's own overhead: N <c>noop</c> trials of R reports each through the experiment, trial and
/// resource scheduler grains of an embedded cluster, every result written to the run folder.
/// Optuna 3.1 runs the same number of trials and reports in the same run, when it is installed.
/// </summary>
public static class OverheadBenchmark
{
    public static async Task<int> RunAsync(int trials, int reports, int concurrency, int repeats, string output)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]overhead[/]: {trials:N0} noop trials x {reports} reports, {concurrency} concurrent, embedded cluster, results written under {output}");
        var spec = new ExperimentSpec
        {
            Name = "bench-overhead",
            Trainable = "noop",
            Metric = "value",
            Samples = trials,
            MaxConcurrent = concurrency,
            Params = new([new("reports", reports)]),
            Resources = new ResourceSpec { Cpu = 0 },
            Space = new() { ["x1"] = Core.Space.Domain.Uniform(-5, 10), ["x2"] = Core.Space.Domain.Uniform(0, 15) },
        };

        var table = new Table().AddColumns("run", "system", "trials", "results", "seconds", "trials/s", "results/s");
        var ours = new List<double>();
        await using (var tuner = await EmbeddedTuner.StartAsync())
        {
            // One warm-up run: JIT and grain type loading are not what this measures.
            await tuner.Client.RunAsync(spec with { Samples = Math.Min(trials, 100) }, output);
            for (var run = 1; run <= repeats; run++)
            {
                var stopwatch = Stopwatch.StartNew();
                var result = await tuner.Client.RunAsync(spec, output);
                stopwatch.Stop();
                var done = result.Count(TrialStatus.Terminated);
                if (done != trials || result.ResultsReported != (long)trials * reports)
                {
                    throw new InvalidOperationException($"expected {trials} trials and {trials * reports} results, got {done} and {result.ResultsReported}");
                }

                var seconds = stopwatch.Elapsed.TotalSeconds;
                ours.Add(seconds);
                AddRow(table, run, "Tuner (embedded)", trials, result.ResultsReported, seconds);
            }
        }

        var peers = new List<(string Name, double Seconds, long Results)>();
        foreach (var (sampler, pruner) in new[] { ("random", "nop"), ("random", "hyperband") })
        {
            if (RunOptuna(trials, reports, sampler, pruner) is { } peer)
            {
                AddRow(table, 1, $"Optuna {peer.Version} {sampler}/{pruner}", peer.Trials, peer.Results, peer.Seconds);
                peers.Add(($"Optuna {sampler}/{pruner}", peer.Seconds, peer.Results));
            }
        }

        AnsiConsole.Write(table);
        var median = ours.Order().ElementAt(ours.Count / 2);
        AnsiConsole.MarkupLine(F($"Tuner median: [bold]{trials / median:N0} trials/s, {(double)trials * reports / median:N0} results/s[/]"));
        foreach (var (name, seconds, results) in peers)
        {
            AnsiConsole.MarkupLine(F($"ratio vs {name}: trials/s x{seconds / median:F2}, results/s x{(double)trials * reports / median / (results / seconds):F2}"));
        }

        if (peers.Count == 0)
        {
            AnsiConsole.MarkupLine("[yellow]Optuna not found[/]: install Debian's python3-optuna to measure it side by side (apt-get install -y python3-optuna)");
        }

        return 0;
    }

    private static void AddRow(Table table, int run, string system, long trials, long results, double seconds) =>
        table.AddRow(
            run.ToString(CultureInfo.InvariantCulture),
            system,
            trials.ToString("N0", CultureInfo.InvariantCulture),
            results.ToString("N0", CultureInfo.InvariantCulture),
            seconds.ToString("F3", CultureInfo.InvariantCulture),
            (trials / seconds).ToString("N0", CultureInfo.InvariantCulture),
            (results / seconds).ToString("N0", CultureInfo.InvariantCulture));

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed record PeerResult(long Trials, long Results, double Seconds, string Version);

    private static PeerResult? RunOptuna(int trials, int reports, string sampler, string pruner)
    {
        var python = Peers.DebianPython;
        if (python is null)
        {
            return null;
        }

        var script = Path.Combine(AppContext.BaseDirectory, "peers", "optuna_overhead.py");
        var output = Peers.Run(python, [script, trials.ToString(CultureInfo.InvariantCulture), reports.ToString(CultureInfo.InvariantCulture), sampler, pruner]);
        if (output is null)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        return new PeerResult(root.GetProperty("trials").GetInt64(), root.GetProperty("results").GetInt64(), root.GetProperty("seconds").GetDouble(), root.GetProperty("version").GetString()!);
    }
}
