using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Bench;

/// <summary>
/// Searchers head to head: ours (random, TPE) and Optuna 3.1's (RandomSampler, TPESampler, also
/// multivariate) on Branin (2-D) and Hartmann6 (6-D), each for the same number of sequential
/// evaluations of the exact function from many seeds; the figure is the median over seeds of the best
/// value's regret (best found minus the optimum). Then the time one TPE trial (suggest and learn)
/// takes once 1,000 trials are complete, ours and Optuna's.
/// </summary>
public static class SearchBenchmark
{
    private sealed record Problem(string Name, double Optimum, SearchSpace Space, Func<TrialConfig, double> Evaluate);

    private static readonly Problem[] Problems =
    [
        new("branin", BraninTrainable.Minimum, new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) }, c => BraninTrainable.Evaluate(c["x1"].AsDouble(), c["x2"].AsDouble())),
        new("hartmann6", Hartmann6Trainable.Minimum, Hartmann(), c => Hartmann6Trainable.Evaluate([.. Enumerable.Range(1, 6).Select(i => c[$"x{i}"].AsDouble())])),
    ];

    public static int Run(int seeds, int evaluations)
    {
        Say($"[bold]search[/]: best regret after {evaluations} sequential evaluations, median over {seeds} seeds (lower is better)");
        var table = new Table().AddColumns("problem", "searcher", "median regret", "25th-75th percentile", "seconds");
        var medians = new Dictionary<(string, string), double>();
        foreach (var problem in Problems)
        {
            foreach (var algorithm in new[] { "random", "tpe", "gp" })
            {
                var watch = Stopwatch.StartNew();
                var regrets = Enumerable.Range(0, seeds).Select(seed => Optimise(problem, algorithm, seed, evaluations) - problem.Optimum).ToArray();
                medians[(problem.Name, $"Tuner {algorithm}")] = AddRow(table, problem.Name, $"Tuner {algorithm}", regrets, watch.Elapsed.TotalSeconds);
            }

            foreach (var sampler in new[] { "random", "tpe", "tpe_multivariate" })
            {
                var watch = Stopwatch.StartNew();
                if (Optuna(problem.Name, sampler, seeds, evaluations, null) is { } peer)
                {
                    medians[(problem.Name, $"Optuna {sampler}")] = AddRow(table, problem.Name, $"Optuna {peer.Version} {sampler}", [.. peer.Best.Select(b => b - problem.Optimum)], watch.Elapsed.TotalSeconds);
                }
            }
        }

        AnsiConsole.Write(table);
        foreach (var problem in Problems)
        {
            if (medians.TryGetValue((problem.Name, "Optuna tpe"), out var optunaTpe))
            {
                var ours = medians[(problem.Name, "Tuner tpe")];
                Say($"{problem.Name}: Tuner TPE's median regret is {Ratio(ours, optunaTpe)} Optuna TPE's; Tuner random's {Ratio(medians[(problem.Name, "Tuner random")], ours)} Tuner TPE's");
            }
        }

        var ourMs = TpeMillisecondsPerTrial(1000);
        var optunaTiming = Optuna("branin", "tpe", 0, 0, 1000);
        Say($"TPE, one trial (suggest and learn) with 1,000 complete, on branin: Tuner [bold]{ourMs:F2} ms[/]" + (optunaTiming?.SecondsPerTrial is { } s ? $", Optuna {s * 1000:F2} ms" : " (Optuna not installed)"));
        if (!medians.Keys.Any(k => k.Item2.StartsWith("Optuna", StringComparison.Ordinal)))
        {
            Say("[yellow]Optuna not found[/]: install Debian's python3-optuna (apt-get install -y python3-optuna) to measure it side by side");
        }

        return 0;
    }

    private static double Optimise(Problem problem, string algorithm, int seed, int evaluations)
    {
        var searcher = SearcherFactory.Create(Spec(problem, algorithm, seed, evaluations));
        var best = double.PositiveInfinity;
        for (var i = 0; i < evaluations && searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var value = problem.Evaluate(config);
            best = Math.Min(best, value);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = value }, failed: false);
        }

        return best;
    }

    private static double TpeMillisecondsPerTrial(int completed)
    {
        var problem = Problems[0];
        var searcher = SearcherFactory.Create(Spec(problem, "tpe", 0, completed));
        var watch = new Stopwatch();
        for (var i = 0; i < completed && searcher.TrySuggest($"t{i}", out var config); i++)
        {
            if (i == completed - 100)
            {
                watch.Start();
            }

            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = problem.Evaluate(config) }, failed: false);
        }

        return watch.Elapsed.TotalMilliseconds / 100;
    }

    private static ExperimentSpec Spec(Problem problem, string algorithm, int seed, int evaluations) => new()
    {
        Name = $"bench-{problem.Name}",
        Trainable = problem.Name,
        Metric = "value",
        Samples = evaluations,
        Search = new SearchSpec { Algorithm = algorithm, Seed = seed },
        Space = problem.Space,
    };

    private static SearchSpace Hartmann()
    {
        var space = new SearchSpace();
        for (var i = 1; i <= 6; i++)
        {
            space[$"x{i}"] = Domain.Uniform(0, 1);
        }

        return space;
    }

    private static PeerBest? Optuna(string problem, string sampler, int seeds, int evaluations, int? timing) =>
        PeerBest.Run("optuna_search.py", [problem, sampler, I(seeds), I(evaluations), .. timing is { } t ? new[] { I(t) } : []], null);

    private static double AddRow(Table table, string problem, string searcher, double[] regrets, double seconds) =>
        QuartileRow.Add(table, [problem, searcher], regrets, seconds.ToString("F1", CultureInfo.InvariantCulture));

    private static string Ratio(double a, double b) => b == 0 ? "n/a" : $"{a / b:F2}x";

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
