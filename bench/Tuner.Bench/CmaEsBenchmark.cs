using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Bench;

/// <summary>
/// CMA-ES head to head: ours (<c>search.algorithm: cmaes</c>, IPOP restarts by default, and without restarts) and Optuna
/// 3.1's <c>CmaEsSampler</c> (its defaults, and with IPOP) on a 10-d ellipsoid (condition 1e6, optimum at x = 1 in
/// [-5, 5]^10) and the 10-d Rosenbrock function (optimum at x = 1 in [-2, 3]^10), both 0 at the optimum, each for the same
/// number of sequential evaluations from many seeds; the figure is the median over seeds of the best value (the regret).
/// Then the time one trial (suggest and learn) takes once 1,000 trials are complete, ours and Optuna's.
/// The functions and bounds are also in <c>peers/optuna_search.py</c>: keep them in step.
/// </summary>
public static class CmaEsBenchmark
{
    private const int N = 10;

    private sealed record Problem(string Name, double Low, double High, Func<double[], double> Evaluate);

    private static readonly Problem[] Problems =
    [
        new("ellipsoid10", -5, 5, x => Enumerable.Range(0, N).Sum(i => Math.Pow(1e6, i / (N - 1.0)) * (x[i] - 1) * (x[i] - 1))),
        new("rosenbrock10", -2, 3, x => Enumerable.Range(0, N - 1).Sum(i => (100 * Math.Pow(x[i + 1] - (x[i] * x[i]), 2)) + Math.Pow(1 - x[i], 2))),
    ];

    public static int Run(int seeds, int evaluations)
    {
        Say($"[bold]cmaes[/]: best regret after {evaluations} sequential evaluations on 10-d problems, median over {seeds} seeds (lower is better)");
        var table = new Table().AddColumns("problem", "searcher", "median regret", "25th-75th percentile", "seconds");
        var medians = new Dictionary<(string, string), double>();
        foreach (var problem in Problems)
        {
            foreach (var (label, algorithm, restarts) in new[] { ("Tuner cmaes (ipop)", "cmaes", "ipop"), ("Tuner cmaes (no restarts)", "cmaes", "none"), ("Tuner random", "random", "ipop") })
            {
                var watch = Stopwatch.StartNew();
                var regrets = Enumerable.Range(0, seeds).Select(seed => Optimise(problem, algorithm, restarts, seed, evaluations)).ToArray();
                medians[(problem.Name, label)] = AddRow(table, problem.Name, label, regrets, watch.Elapsed.TotalSeconds);
            }

            foreach (var sampler in new[] { "cmaes", "cmaes_ipop" })
            {
                var watch = Stopwatch.StartNew();
                if (Optuna(problem.Name, sampler, seeds, evaluations, null) is { } peer)
                {
                    medians[(problem.Name, $"Optuna {sampler}")] = AddRow(table, problem.Name, $"Optuna {peer.Version} {(sampler == "cmaes" ? "CmaEsSampler" : "CmaEsSampler (ipop)")}", peer.Best, watch.Elapsed.TotalSeconds);
                }
            }
        }

        AnsiConsole.Write(table);
        foreach (var problem in Problems)
        {
            if (medians.TryGetValue((problem.Name, "Optuna cmaes"), out var optuna))
            {
                var ours = medians[(problem.Name, "Tuner cmaes (ipop)")];
                Say($"{problem.Name}: Tuner cmaes's median regret is {Ratio(ours, optuna)} Optuna CmaEsSampler's ({(ours <= optuna ? "[green]met[/]" : "[red]not met[/]")}: <= 1x)"
                    + (medians.TryGetValue((problem.Name, "Optuna cmaes_ipop"), out var ipop) ? $"; {Ratio(ours, ipop)} its IPOP's" : string.Empty));
            }
        }

        var ourMs = MillisecondsPerTrial(Problems[0], 1000);
        var optunaTiming = Optuna(Problems[0].Name, "cmaes", 0, 0, 1000);
        Say($"CMA-ES, one trial (suggest and learn) with 1,000 complete, on ellipsoid10: Tuner [bold]{ourMs:F3} ms[/] (target < 1 ms: {(ourMs < 1 ? "[green]met[/]" : "[red]not met[/]")})"
            + (optunaTiming?.SecondsPerTrial is { } s ? $", Optuna {s * 1000:F2} ms" : " (Optuna not installed)"));
        if (!medians.Keys.Any(k => k.Item2.StartsWith("Optuna", StringComparison.Ordinal)))
        {
            Say("[yellow]Optuna not found[/]: install Debian's python3-optuna (apt-get install -y python3-optuna, which brings python3-cmaes) to measure it side by side");
        }

        return 0;
    }

    private static double Optimise(Problem problem, string algorithm, string restarts, int seed, int evaluations)
    {
        var searcher = SearcherFactory.Create(Spec(problem, algorithm, restarts, seed, evaluations));
        var best = double.PositiveInfinity;
        for (var i = 0; i < evaluations && searcher.TrySuggest($"t{i}", out var config); i++)
        {
            var value = problem.Evaluate(Point(config));
            best = Math.Min(best, value);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = value }, failed: false);
        }

        return best;
    }

    private static double MillisecondsPerTrial(Problem problem, int completed)
    {
        var searcher = SearcherFactory.Create(Spec(problem, "cmaes", "ipop", 0, completed));
        var watch = new Stopwatch();
        for (var i = 0; i < completed; i++)
        {
            if (i == completed - 100)
            {
                watch.Start();
            }

            searcher.TrySuggest($"t{i}", out var config);
            searcher.OnTrialComplete($"t{i}", new Dictionary<string, double> { ["value"] = problem.Evaluate(Point(config)) }, failed: false);
        }

        return watch.Elapsed.TotalMilliseconds / 100;
    }

    private static double[] Point(TrialConfig config) => [.. Enumerable.Range(0, N).Select(i => config[$"x{i}"].AsDouble())];

    private static ExperimentSpec Spec(Problem problem, string algorithm, string restarts, int seed, int evaluations)
    {
        var space = new SearchSpace();
        for (var i = 0; i < N; i++)
        {
            space[$"x{i}"] = Domain.Uniform(problem.Low, problem.High);
        }

        return new ExperimentSpec
        {
            Name = $"bench-{problem.Name}",
            Trainable = problem.Name,
            Metric = "value",
            Samples = evaluations,
            Search = new SearchSpec { Algorithm = algorithm, Seed = seed, Restarts = restarts },
            Space = space,
        };
    }

    private static PeerBest? Optuna(string problem, string sampler, int seeds, int evaluations, int? timing) =>
        PeerBest.Run("optuna_search.py", [problem, sampler, I(seeds), I(evaluations), .. timing is { } t ? new[] { I(t) } : []], "cmaes");

    private static double AddRow(Table table, string problem, string searcher, double[] regrets, double seconds) =>
        QuartileRow.Add(table, [problem, searcher], regrets, seconds.ToString("F1", CultureInfo.InvariantCulture));

    private static string Ratio(double a, double b) => b == 0 ? "n/a" : $"{a / b:F2}x";

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
