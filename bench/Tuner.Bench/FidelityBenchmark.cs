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
/// report exactly as the experiment grain has it decide. FIFO runs every config to max_t; ASHA gets
/// more configs (by default 42 against 30). The best trial is the one with the lowest last report; its regret is
/// its true f(x) minus the optimum. Target: ASHA reaches FIFO's regret with at most a third of FIFO's
/// iterations.
/// </summary>
public static class FidelityBenchmark
{
    private const int MaxT = 27;
    private const int Workers = 4;

    public static int Run(int seeds, int fifoConfigs, int ashaConfigs)
    {
        Say($"[bold]fidelity[/]: multi-fidelity branin, max_t {MaxT}, {Workers} simulated workers, median over {seeds} seeds");
        var table = new Table().AddColumns("scheduler", "configs", "median regret", "25th-75th percentile", "iterations (mean)", "of FIFO's");
        var fifo = Enumerable.Range(0, seeds).Select(seed => Simulate(new SchedulerSpec { Algorithm = "fifo" }, fifoConfigs, seed)).ToArray();
        var asha = Enumerable.Range(0, seeds).Select(seed => Simulate(new SchedulerSpec { Algorithm = "asha", MaxT = MaxT, GracePeriod = 1, ReductionFactor = 3 }, ashaConfigs, seed)).ToArray();
        var fifoIterations = fifo.Average(r => r.Iterations);
        AddRow(table, "fifo", fifoConfigs, fifo, fifoIterations);
        AddRow(table, "asha (grace 1, rf 3)", ashaConfigs, asha, fifoIterations);
        AnsiConsole.Write(table);
        var fifoRegret = Median(fifo.Select(r => r.Regret));
        var ashaRegret = Median(asha.Select(r => r.Regret));
        Say($"ASHA: median regret {F(ashaRegret)} against FIFO's {F(fifoRegret)}, with {asha.Average(r => r.Iterations) / fifoIterations:P1} of FIFO's iterations (target: no worse, at most 33%)");
        return 0;
    }

    private static (double Regret, long Iterations) Simulate(SchedulerSpec scheduler, int configs, int seed)
    {
        var spec = new ExperimentSpec
        {
            Name = "fidelity",
            Trainable = "branin",
            Metric = "value",
            Samples = configs,
            Search = new SearchSpec { Algorithm = "random", Seed = seed },
            Scheduler = scheduler,
            Params = new([new("max_iterations", MaxT), new("fidelity_decay", 3.0), new("noise", 3.0)]),
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        };
        var searcher = SearcherFactory.Create(spec);
        var rules = SchedulerFactory.Create(spec);
        var slots = new (string Id, TrialConfig Config, ITrainable Trainable, long Iteration)?[Workers];
        var finals = new List<(double LastReport, double TrueValue)>();
        long iterations = 0;
        var next = 0;
        while (true)
        {
            for (var w = 0; w < Workers; w++)
            {
                if (slots[w] is null && searcher.TrySuggest($"t{next}", out var config))
                {
                    var trainable = BraninTrainable.Descriptor.Create();
                    trainable.SetupAsync(new TrialContext($"t{next}", config, SeededNoise.DeriveSeed(seed, next), 1), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                    slots[w] = ($"t{next}", config, trainable, 0);
                    next++;
                }
            }

            if (slots.All(s => s is null))
            {
                break;
            }

            for (var w = 0; w < Workers; w++)
            {
                if (slots[w] is not { } slot)
                {
                    continue;
                }

                var step = slot.Trainable.StepAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
                iterations++;
                var iteration = slot.Iteration + 1;
                var metrics = new Dictionary<string, double>(step.Metrics);
                var decision = rules.OnResult(slot.Id, new TrialResult(iteration, iteration, 0, metrics));
                if (step.Done || decision.Action != SchedulerAction.Continue)
                {
                    rules.OnTrialComplete(slot.Id);
                    searcher.OnTrialComplete(slot.Id, metrics, failed: false);
                    finals.Add((metrics["value"], BraninTrainable.Evaluate(slot.Config["x1"].AsDouble(), slot.Config["x2"].AsDouble())));
                    slots[w] = null;
                }
                else
                {
                    slots[w] = slot with { Iteration = iteration };
                }
            }
        }

        var best = finals.MinBy(f => f.LastReport);
        return (best.TrueValue - BraninTrainable.Minimum, iterations);
    }

    private static void AddRow(Table table, string name, int configs, (double Regret, long Iterations)[] runs, double fifoIterations)
    {
        var sorted = runs.Select(r => r.Regret).Order().ToArray();
        var mean = runs.Average(r => r.Iterations);
        table.AddRow(name, configs.ToString(CultureInfo.InvariantCulture), F(Quantile.Linear(sorted, 0.5)), $"{F(Quantile.Linear(sorted, 0.25))} - {F(Quantile.Linear(sorted, 0.75))}", mean.ToString("F0", CultureInfo.InvariantCulture), (mean / fifoIterations).ToString("P0", CultureInfo.InvariantCulture));
    }

    private static double Median(IEnumerable<double> values) => Quantile.Median(values);

    private static string F(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
