using System.Globalization;
using Spectre.Console;
using Tuner.Core.Experiments;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Trainables;

namespace Tuner.Bench;

/// <summary>
/// Early stopping against running everything: multi-fidelity Branin (each report is
/// <c>f(x) + exp(-t / 3) x (10 + 3 z_t)</c>, so early reports rank configs roughly) on simulated
/// workers that step their trials one iteration at a time, the scheduler deciding after every
/// report, choosing what a free slot runs and which paused trials end, exactly as the experiment
/// grain has it do (a paused trial keeps its state, as a checkpoint would). FIFO runs every config
/// to max_t; the early-stopping schedulers get more configs. The best trial is the one with the
/// lowest last report; its regret is its true f(x) minus the optimum. Target: every early-stopping
/// scheduler reaches FIFO's regret with at most a third of FIFO's iterations.
/// </summary>
public static class FidelityBenchmark
{
    private const int MaxT = 27;
    private const int Workers = 4;

    public static int Run(int seeds, int fifoConfigs, int ashaConfigs, int hyperbandConfigs)
    {
        Say($"[bold]fidelity[/]: multi-fidelity branin, max_t {MaxT}, {Workers} simulated workers, median over {seeds} seeds");
        var table = new Table().AddColumns("scheduler", "searcher", "configs", "median regret", "25th-75th percentile", "iterations (mean)", "of FIFO's");
        var rows = new (string Name, string Search, SchedulerSpec Scheduler, int Configs)[]
        {
            ("fifo", "random", new SchedulerSpec { Algorithm = "fifo" }, fifoConfigs),
            ("asha (grace 1, rf 3)", "random", new SchedulerSpec { Algorithm = "asha", MaxT = MaxT, GracePeriod = 1, ReductionFactor = 3 }, ashaConfigs),
            ("asha_promotion (grace 1, rf 3)", "random", new SchedulerSpec { Algorithm = "asha_promotion", MaxT = MaxT, GracePeriod = 1, ReductionFactor = 3 }, ashaConfigs),
            ("hyperband (R 27, eta 3)", "random", new SchedulerSpec { Algorithm = "hyperband", MaxT = MaxT, ReductionFactor = 3 }, hyperbandConfigs),
            ("bohb (R 27, eta 3)", "bohb", new SchedulerSpec { Algorithm = "bohb", MaxT = MaxT, ReductionFactor = 3 }, hyperbandConfigs),
        };
        var runs = rows.Select(row => Enumerable.Range(0, seeds).Select(seed => Simulate(row.Search, row.Scheduler, row.Configs, seed)).ToArray()).ToArray();
        var fifoIterations = runs[0].Average(r => r.Iterations);
        var fifoRegret = Median(runs[0].Select(r => r.Regret));
        for (var i = 0; i < rows.Length; i++)
        {
            AddRow(table, rows[i].Name, rows[i].Search, rows[i].Configs, runs[i], fifoIterations);
        }

        AnsiConsole.Write(table);
        for (var i = 1; i < rows.Length; i++)
        {
            var regret = Median(runs[i].Select(r => r.Regret));
            var share = runs[i].Average(r => r.Iterations) / fifoIterations;
            var met = regret <= fifoRegret && share <= 1.0 / 3;
            Say($"{Markup.Escape(rows[i].Name)}: median regret {F(regret)} against FIFO's {F(fifoRegret)}, with {share:P1} of FIFO's iterations (target: no worse, at most 33%): {(met ? "[green]met[/]" : "[red]not met[/]")}");
        }

        return 0;
    }

    private static (double Regret, long Iterations) Simulate(string search, SchedulerSpec scheduler, int configs, int seed)
    {
        var spec = new ExperimentSpec
        {
            Name = "fidelity",
            Trainable = "branin",
            Metric = "value",
            Samples = configs,
            Search = new SearchSpec { Algorithm = search, Seed = seed },
            Scheduler = scheduler,
            Params = new([new("max_iterations", MaxT), new("fidelity_decay", 3.0), new("noise", 3.0)]),
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        };
        var searcher = SearcherFactory.Create(spec);
        var rules = SchedulerFactory.Create(spec);
        var slots = new Trial?[Workers];
        var paused = new Dictionary<string, Trial>(StringComparer.Ordinal);
        var finals = new List<(double LastReport, double TrueValue)>();
        long iterations = 0;
        var next = 0;

        void End(Trial trial, bool failed = false)
        {
            rules.OnTrialComplete(trial.Id);
            searcher.OnTrialComplete(trial.Id, trial.LastMetrics, failed);
            if (trial.LastMetrics is { } metrics)
            {
                finals.Add((metrics["value"], BraninTrainable.Evaluate(trial.Config["x1"].AsDouble(), trial.Config["x2"].AsDouble())));
            }
        }

        while (true)
        {
            // Free slots, filled as the experiment grain fills them.
            var closed = false;
            for (var w = 0; w < Workers; w++)
            {
                while (slots[w] is null)
                {
                    var state = new SchedulerState([.. paused.Keys], slots.Count(s => s is not null), !closed && !searcher.IsExhausted);
                    foreach (var stop in rules.PausedToStop(state))
                    {
                        if (paused.Remove(stop.TrialId, out var ended))
                        {
                            End(ended);
                        }
                    }

                    var choice = rules.ChooseTrialToRun(state);
                    if (choice.Kind == ChoiceKind.Resume && choice.TrialId is { } id && paused.Remove(id, out var resumed))
                    {
                        slots[w] = resumed;
                    }
                    else if (choice.Kind == ChoiceKind.StartNew && searcher.TrySuggest($"t{next}", out var config))
                    {
                        var trainable = BraninTrainable.Descriptor.Create();
                        trainable.SetupAsync(new TrialContext($"t{next}", config, SeededNoise.DeriveSeed(seed, next), 1), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                        rules.OnTrialAdd($"t{next}", config);
                        slots[w] = new Trial($"t{next}", config, trainable);
                        next++;
                    }
                    else if (slots.All(s => s is null) && paused.Count > 0 && !closed)
                    {
                        closed = true;
                    }
                    else
                    {
                        break;
                    }
                }
            }

            if (slots.All(s => s is null))
            {
                foreach (var left in paused.Values)
                {
                    End(left);
                }

                break;
            }

            for (var w = 0; w < Workers; w++)
            {
                if (slots[w] is not { } trial)
                {
                    continue;
                }

                var step = trial.Trainable.StepAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                iterations++;
                trial.Iteration++;
                trial.LastMetrics = new Dictionary<string, double>(step.Metrics);
                var result = new TrialResult(trial.Iteration, trial.Iteration, 0, trial.LastMetrics);
                searcher.OnTrialResult(trial.Id, result);
                var decision = rules.OnResult(trial.Id, result);
                if (step.Done || decision.Action == SchedulerAction.Stop)
                {
                    End(trial);
                    slots[w] = null;
                }
                else if (decision.Action == SchedulerAction.Pause)
                {
                    paused[trial.Id] = trial;
                    slots[w] = null;
                }
            }
        }

        var best = finals.MinBy(f => f.LastReport);
        return (best.TrueValue - BraninTrainable.Minimum, iterations);
    }

    private sealed class Trial(string id, TrialConfig config, ITrainable trainable)
    {
        public string Id { get; } = id;

        public TrialConfig Config { get; } = config;

        public ITrainable Trainable { get; } = trainable;

        public long Iteration { get; set; }

        public Dictionary<string, double>? LastMetrics { get; set; }
    }

    private static void AddRow(Table table, string name, string search, int configs, (double Regret, long Iterations)[] runs, double fifoIterations)
    {
        var sorted = runs.Select(r => r.Regret).Order().ToArray();
        var mean = runs.Average(r => r.Iterations);
        table.AddRow(name, search, configs.ToString(CultureInfo.InvariantCulture), F(Quantile.Linear(sorted, 0.5)), $"{F(Quantile.Linear(sorted, 0.25))} - {F(Quantile.Linear(sorted, 0.75))}", mean.ToString("F0", CultureInfo.InvariantCulture), (mean / fifoIterations).ToString("P0", CultureInfo.InvariantCulture));
    }

    private static double Median(IEnumerable<double> values) => Quantile.Median(values);

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
