using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Schedulers;
using Tuner.Core.Search.Pareto;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Bench;

/// <summary>
/// Constraints head to head: the constrained Branin (feasible within <see cref="Radius"/> of (2.5, 7.5), a disk that
/// leaves out all three of Branin's minima), searched by our TPE and random search through the experiment's own controller
/// (so the best is the one <c>experiment.json</c> reports, and it is checked to be feasible) and by Optuna 3.1's
/// TPESampler with <c>constraints_func</c> and its RandomSampler, each for the same number of sequential trials from many
/// seeds. The figure is the median over seeds of the regret of the best feasible trial against the constrained optimum
/// (found on a fine grid of the disk). The constraint is also in <c>peers/optuna_constrained.py</c>: keep them in step.
/// </summary>
public static class ConstrainedBenchmark
{
    public const double Radius = 4;

    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    public static int Run(int seeds, int evaluations)
    {
        var optimum = ConstrainedOptimum();
        Say($"[bold]constrained[/]: Branin within {F(Radius)} of (2.5, 7.5) (constrained optimum {F(optimum)}), best feasible regret after {evaluations} sequential trials, median over {seeds} seeds (lower is better)");
        var table = new Table().AddColumns("searcher", "median regret", "25th-75th percentile", "feasible trials", "best always feasible", "seconds");
        var medians = new Dictionary<string, double>();
        foreach (var algorithm in new[] { "tpe", "random" })
        {
            var watch = Stopwatch.StartNew();
            var runs = Enumerable.Range(0, seeds).Select(seed => Optimise(algorithm, seed, evaluations)).ToArray();
            medians[$"Tuner {algorithm}"] = AddRow(table, $"Tuner {algorithm}", [.. runs.Select(r => r.Best - optimum)], runs.Average(r => r.FeasibleShare), runs.All(r => r.BestFeasible) ? "yes" : "NO", watch.Elapsed.TotalSeconds);
        }

        foreach (var sampler in new[] { "tpe", "random" })
        {
            var watch = Stopwatch.StartNew();
            if (Optuna(sampler, seeds, evaluations) is { } peer)
            {
                medians[$"Optuna {sampler}"] = AddRow(table, $"Optuna {peer.Version} {(sampler == "tpe" ? "TPESampler (constraints_func)" : "RandomSampler")}", [.. peer.Best.Select(b => b - optimum)], peer.FeasibleShare, "-", watch.Elapsed.TotalSeconds);
            }
        }

        AnsiConsole.Write(table);
        if (medians.TryGetValue("Optuna tpe", out var optunaTpe))
        {
            var ours = medians["Tuner tpe"];
            Say($"Tuner TPE's median regret among feasible trials is {F(ours)}, Optuna TPE's {F(optunaTpe)} ({(ours <= optunaTpe ? "[green]met[/]" : "[red]not met[/]")}: <= Optuna's)");
        }
        else
        {
            Say("[yellow]Optuna not found[/]: install Debian's python3-optuna (apt-get install -y python3-optuna) to measure it side by side");
        }

        return 0;
    }

    /// <summary>One seed through the controller: the best it reports (checked feasible), and the share of feasible trials.</summary>
    private static (double Best, double FeasibleShare, bool BestFeasible) Optimise(string algorithm, int seed, int evaluations)
    {
        var spec = new ExperimentSpec
        {
            Name = "bench-constrained",
            Trainable = "branin",
            Metric = "value",
            Samples = evaluations,
            Params = new TrialConfig([new("disk_radius", Radius)]),
            Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
            Space = new SearchSpace { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        };
        var controller = ExperimentController.Create(spec, TextWriter.Null, new NullListener(), TimeProvider.System, T0);
        controller.Start();
        var commands = controller.Fill();
        var feasible = 0;
        while (commands.OfType<StartTrial>().FirstOrDefault() is { } start)
        {
            controller.TryGetTrial(start.TrialId, out var trial);
            var (x1, x2) = (trial.Config["x1"].AsDouble(), trial.Config["x2"].AsDouble());
            var constraint = BraninTrainable.DiskConstraint(x1, x2, Radius);
            feasible += constraint <= 0 ? 1 : 0;
            controller.OnResult(start.TrialId, 1, new TrialResult(1, 0, 0, new Dictionary<string, double> { ["value"] = BraninTrainable.Evaluate(x1, x2), ["constraint_disk"] = constraint }), []);
            commands = controller.OnTrialEnded(start.TrialId, TrialStatus.Terminated, null);
        }

        var best = controller.Best();
        return best is null
            ? (double.PositiveInfinity, feasible / (double)evaluations, true)
            : (best.LastMetric!.Value, feasible / (double)evaluations, Constraints.IsFeasible(best.LastResult!.Metrics));
    }

    /// <summary>Branin's minimum over the disk: a polar grid, then a finer one around its best point.</summary>
    private static double ConstrainedOptimum()
    {
        var (bestX1, bestX2, best) = (2.5, 7.5, double.PositiveInfinity);
        for (var r = 0; r <= 800; r++)
        {
            for (var a = 0; a < 3200; a++)
            {
                var rho = Radius * r / 800.0;
                var angle = 2 * Math.PI * a / 3200.0;
                var (x1, x2) = (2.5 + (rho * Math.Cos(angle)), 7.5 + (rho * Math.Sin(angle)));
                var value = BraninTrainable.Evaluate(x1, x2);
                if (value < best)
                {
                    (bestX1, bestX2, best) = (x1, x2, value);
                }
            }
        }

        return best;
    }

    private static (double[] Best, double FeasibleShare, string Version)? Optuna(string sampler, int seeds, int evaluations)
    {
        if (Peers.PythonWith("optuna") is not { } python)
        {
            return null;
        }

        var script = Path.Combine(AppContext.BaseDirectory, "peers", "optuna_constrained.py");
        if (Peers.Run(python, [script, sampler, I(seeds), I(evaluations), Radius.ToString(CultureInfo.InvariantCulture)]) is not { } output)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        return (
            [.. root.GetProperty("best").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? double.PositiveInfinity : e.GetDouble())],
            root.GetProperty("feasible").EnumerateArray().Average(e => e.GetDouble()),
            root.GetProperty("version").GetString()!);
    }

    private static double AddRow(Table table, string searcher, double[] regrets, double feasibleShare, string bestFeasible, double seconds)
    {
        var sorted = regrets.Order().ToArray();
        var median = Quantile.Linear(sorted, 0.5);
        table.AddRow(searcher, F(median), $"{F(Quantile.Linear(sorted, 0.25))} - {F(Quantile.Linear(sorted, 0.75))}", feasibleShare.ToString("P0", CultureInfo.InvariantCulture), bestFeasible, seconds.ToString("F1", CultureInfo.InvariantCulture));
        return median;
    }

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);

    private sealed class NullListener : IExperimentListener
    {
        public void OnEvent(ExperimentEvent e, TrialRecord? trial, bool replayed)
        {
        }

        public void OnAttempt(string trialId, int attempt, int failures)
        {
        }

        public void OnInterrupted(IReadOnlyCollection<string> trials, IReadOnlyCollection<string> paused)
        {
        }
    }
}
