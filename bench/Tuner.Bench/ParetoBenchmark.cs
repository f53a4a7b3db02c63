using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Search.Pareto;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Bench;

/// <summary>
/// Multi-objective search head to head: our NSGA-II, MOTPE and random search and Optuna 3.1's NSGAIISampler,
/// multi-objective TPESampler and RandomSampler on ZDT1 and ZDT2 (six dimensions, both objectives minimised), each for
/// the same number of sequential trials from many seeds; the figure is the median over seeds of the hypervolume (larger
/// is better) against the reference point (1.1, 11), which every point of the space dominates (f1 &lt;= 1, f2 &lt;= g &lt;= 10).
/// The multi-fidelity variant (ZDT1 reporting 9 times, f2 + exp(-t/1.5)(1 + 0.5 z_t)) gives every method the same
/// budget of iterations (trials x 9): ours with ASHA ranking by dominance (rungs 1, 3, 9) gets more trials from it,
/// Optuna cannot prune several objectives (optuna#3450) and runs each trial to the end. There the hypervolume is of the
/// true objectives of the trials on the front of what they reported. The problems are also in
/// <c>peers/optuna_pareto.py</c>: keep them in step.
/// </summary>
public static class ParetoBenchmark
{
    public static readonly double[] Reference = [1.1, 11];

    private const int Reports = 9;

    public static int Run(int seeds, int evaluations)
    {
        Say($"[bold]pareto[/]: hypervolume (reference point {F(Reference[0])}, {F(Reference[1])}) after {evaluations} sequential trials on 6-d ZDT problems, median over {seeds} seeds (higher is better)");
        var table = new Table().AddColumns("problem", "searcher", "median hypervolume", "25th-75th percentile", "trials", "seconds");
        var medians = new Dictionary<(string, string), double>();
        foreach (var problem in new[] { "zdt1", "zdt2", "zdt1_mf" })
        {
            var ours = problem == "zdt1_mf"
                ? new[] { ("Tuner nsga2 + asha", "nsga2", true), ("Tuner motpe + asha", "tpe", true), ("Tuner nsga2", "nsga2", false), ("Tuner random", "random", false) }
                : [("Tuner nsga2", "nsga2", false), ("Tuner motpe", "tpe", false), ("Tuner random", "random", false)];
            foreach (var (label, algorithm, asha) in ours)
            {
                var watch = Stopwatch.StartNew();
                var runs = Enumerable.Range(0, seeds).Select(seed => Optimise(problem, algorithm, asha, seed, evaluations)).ToArray();
                medians[(problem, label)] = AddRow(table, problem, label, [.. runs.Select(r => r.Volume)], runs.Average(r => r.Trials), watch.Elapsed.TotalSeconds);
            }

            foreach (var sampler in new[] { "nsga2", "motpe", "random" })
            {
                var watch = Stopwatch.StartNew();
                if (Optuna(problem, sampler, seeds, evaluations) is { } peer)
                {
                    var name = sampler switch { "nsga2" => "NSGAIISampler", "motpe" => "TPESampler (MOTPE)", _ => "RandomSampler" };
                    medians[(problem, $"Optuna {sampler}")] = AddRow(table, problem, $"Optuna {peer.Version} {name}", peer.Volumes, evaluations, watch.Elapsed.TotalSeconds);
                }
            }
        }

        AnsiConsole.Write(table);
        foreach (var problem in new[] { "zdt1", "zdt2", "zdt1_mf" })
        {
            var suffix = problem == "zdt1_mf" ? " + asha" : string.Empty;
            var nsga2 = medians[(problem, $"Tuner nsga2{suffix}")];
            var motpe = medians[(problem, $"Tuner motpe{suffix}")];
            var random = medians[(problem, "Tuner random")];
            var line = $"{problem}: Tuner nsga2{suffix} {F(nsga2)}, motpe{suffix} {F(motpe)}, random {F(random)} ({Met(nsga2 >= random && motpe >= random)}: both >= random)";
            if (medians.TryGetValue((problem, "Optuna nsga2"), out var optunaNsga2) && medians.TryGetValue((problem, "Optuna motpe"), out var optunaMotpe))
            {
                line += $"; against Optuna: nsga2 {F(nsga2)} vs {F(optunaNsga2)} ({Met(nsga2 >= optunaNsga2)}), motpe {F(motpe)} vs {F(optunaMotpe)} ({Met(motpe >= optunaMotpe)})";
            }

            Say(line);
        }

        if (!medians.Keys.Any(k => k.Item2.StartsWith("Optuna", StringComparison.Ordinal)))
        {
            Say("[yellow]Optuna not found[/]: install Debian's python3-optuna (apt-get install -y python3-optuna) to measure it side by side");
        }

        return 0;
    }

    /// <summary>One seed's run: the hypervolume of the true objectives of the trials on the front of what they reported, and how many trials ran.</summary>
    private static (double Volume, int Trials) Optimise(string problem, string algorithm, bool asha, int seed, int evaluations)
    {
        var spec = Spec(problem, algorithm, seed, evaluations * (asha ? Reports : 1));
        var searcher = SearcherFactory.Create(spec);
        var scheduler = asha ? new ParetoAshaScheduler(spec.Objectives, "training_iteration", Reports, 1, 3) : null;
        var budget = (long)evaluations * (problem == "zdt1_mf" ? Reports : 1);
        var variant = problem == "zdt2" ? 2 : 1;
        var truth = new List<double[]>();
        var reported = new List<double[]>();
        long used = 0;
        for (var i = 0; used < budget && searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var (f1, f2) = ZdtTrainable.Evaluate(variant, [.. Enumerable.Range(1, ZdtTrainable.Dimensions).Select(d => config[$"x{d}"].AsDouble())]);
            var last = f2;
            if (problem == "zdt1_mf")
            {
                var trialSeed = SeededNoise.DeriveSeed(seed, i + 1);
                for (var t = 1; t <= Reports; t++)
                {
                    used++;
                    last = f2 + (Math.Exp(-t / 1.5) * (1 + (0.5 * SeededNoise.Normal(trialSeed, t))));
                    var result = new TrialResult(t, t, 0, new Dictionary<string, double> { ["f1"] = f1, ["f2"] = last });
                    if (scheduler?.OnResult($"t{i}", result).Action == SchedulerAction.Stop || used >= budget)
                    {
                        break;
                    }
                }
            }
            else
            {
                used++;
            }

            truth.Add([f1, f2]);
            reported.Add([f1, last]);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["f1"] = f1, ["f2"] = last }, failed: false);
        }

        return (Hypervolume.Compute(Pareto.Front(reported).Select(k => truth[k]), Reference), truth.Count);
    }

    private static ExperimentSpec Spec(string problem, string algorithm, int seed, int samples)
    {
        var space = new SearchSpace();
        for (var i = 1; i <= ZdtTrainable.Dimensions; i++)
        {
            space[$"x{i}"] = Domain.Uniform(0, 1);
        }

        return new ExperimentSpec
        {
            Name = $"bench-{problem}",
            Trainable = problem == "zdt2" ? "zdt2" : "zdt1",
            Metric = "f1",
            MoreObjectives = [new Objective("f2", OptimizationMode.Min)],
            Samples = samples,
            Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
            Space = space,
        };
    }

    private static (double[] Volumes, string Version)? Optuna(string problem, string sampler, int seeds, int evaluations)
    {
        if (Peers.PythonWith("optuna") is not { } python)
        {
            return null;
        }

        var script = Path.Combine(AppContext.BaseDirectory, "peers", "optuna_pareto.py");
        if (Peers.Run(python, [script, problem, sampler, I(seeds), I(evaluations)]) is not { } output)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(output);
        var volumes = doc.RootElement.GetProperty("seeds").EnumerateArray().Select(seed =>
        {
            var truth = seed.GetProperty("true").EnumerateArray().Select(p => new[] { p[0].GetDouble(), p[1].GetDouble() }).ToList();
            var reported = seed.GetProperty("reported").EnumerateArray().Select(p => new[] { p[0].GetDouble(), p[1].GetDouble() }).ToList();
            return Hypervolume.Compute(Pareto.Front(reported).Select(k => truth[k]), Reference);
        });
        return ([.. volumes], doc.RootElement.GetProperty("version").GetString()!);
    }

    private static double AddRow(Table table, string problem, string searcher, double[] volumes, double trials, double seconds)
    {
        var sorted = volumes.Order().ToArray();
        var median = Quantile.Linear(sorted, 0.5);
        table.AddRow(problem, searcher, F(median), $"{F(Quantile.Linear(sorted, 0.25))} - {F(Quantile.Linear(sorted, 0.75))}", trials.ToString("F0", CultureInfo.InvariantCulture), seconds.ToString("F1", CultureInfo.InvariantCulture));
        return median;
    }

    private static string Met(bool met) => met ? "[green]met[/]" : "[red]not met[/]";

    private static string F(double value) => value.ToString("G5", CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
