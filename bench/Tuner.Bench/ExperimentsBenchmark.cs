using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Embedded;
using Tuner.Tests;

namespace Tuner.Bench;

/// <summary>
/// Many experiments at once (issue 16). First on a cluster (redis-server, one scheduler silo, two worker processes):
/// <paramref name="experiments"/> experiments submitted together, each of equal work and each allowed the whole cluster,
/// share the slots fairly (trials done per experiment when the first one completes, Jain's index over them) and all
/// complete near the ideal time. Then the scheduler's rate: no-op trials granted per second in one process, by one
/// experiment and by the same number of trials split over <paramref name="experiments"/> experiments.
/// </summary>
public static class ExperimentsBenchmark
{
    public static async Task<int> RunAsync(int experiments, int trials, int grantTrials)
    {
        var fair = await FairShareAsync(experiments, trials, workers: 2, slotsPerWorker: 4, seconds: 0.5);
        var rate = await GrantRateAsync(experiments, grantTrials);
        return fair && rate ? 0 : 1;
    }

    private static async Task<bool> FairShareAsync(int experiments, int trials, int workers, double slotsPerWorker, double seconds)
    {
        var slots = (int)(workers * slotsPerWorker);
        Say($"[bold]experiments[/]: {experiments} experiments of {trials} trials of {seconds} s submitted together; redis-server, a scheduler and {workers} workers of {slotsPerWorker} slots");
        await using var cluster = await LocalCluster.StartAsync(workers, slotsPerWorker, workerLease: TimeSpan.FromSeconds(60));
        using var client = cluster.Client();
        var spec = new ExperimentSpec
        {
            Name = "fair",
            Trainable = "sleep",
            Metric = "value",
            Samples = trials,
            MaxConcurrent = slots,
            Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = 1, ["seconds"] = seconds }),
            Resources = new ResourceSpec { Cpu = 1 },
            Space = new() { ["x"] = Domain.Uniform(0, 1) },
        };

        // Warm (connections, code paths) before the clock starts, as the cluster benches do.
        await ClusterBenchmark.EndedAsync(client, (await client.SubmitAsync(spec with { Name = "warm-up", Samples = 2, Params = new TrialConfig(new Dictionary<string, ParamValue> { ["reports"] = 1, ["seconds"] = 0.01 }) })).ExperimentId);

        var clock = Stopwatch.StartNew();
        var ids = (await Task.WhenAll(Enumerable.Range(1, experiments).Select(i => client.SubmitAsync(spec with { Name = $"fair-{i:D2}", Search = spec.Search with { Seed = i } })))).Select(s => s.ExperimentId).ToList();
        var finished = new Dictionary<string, double>(StringComparer.Ordinal);
        int[]? doneAtFirst = null;
        var statuses = new Dictionary<string, ExperimentStatus>(StringComparer.Ordinal);
        var mostRunning = 0;
        while (finished.Count < ids.Count)
        {
            var snapshots = (await client.ListAsync()).Where(s => ids.Contains(s.ExperimentId)).ToDictionary(s => s.ExperimentId, StringComparer.Ordinal);
            mostRunning = Math.Max(mostRunning, snapshots.Values.Sum(s => s.Count(TrialStatus.Running)));
            foreach (var (id, snapshot) in snapshots)
            {
                if (snapshot.Status != ExperimentStatus.Running && finished.TryAdd(id, clock.Elapsed.TotalSeconds))
                {
                    statuses[id] = snapshot.Status;
                    doneAtFirst ??= [.. ids.Select(i => snapshots.TryGetValue(i, out var s) ? s.Count(TrialStatus.Terminated) : 0)];
                }
            }

            await Task.Delay(100);
        }

        var actual = clock.Elapsed.TotalSeconds;
        var ideal = Math.Ceiling(experiments * trials / (double)slots) * seconds;
        var jain = Jain(doneAtFirst!);
        var completed = statuses.Values.Count(s => s == ExperimentStatus.Completed);
        var table = new Table().AddColumns("measure", "value", "target", "met");
        table.AddRow("experiments completed", $"{completed} of {experiments}", "all", Met(completed == experiments));
        table.AddRow("wall time", $"{actual:F1} s, ideal {ideal:F1} s ({(actual / ideal - 1) * 100:+0.0;-0.0}%)", "-", string.Empty);
        table.AddRow("slots busy at most", $"{mostRunning} of {slots}", $"{slots}", Met(mostRunning <= slots));
        table.AddRow("first / last experiment completed", $"{finished.Values.Min():F1} s / {finished.Values.Max():F1} s", "-", string.Empty);
        table.AddRow("trials done per experiment when the first completed", $"{doneAtFirst!.Min()} to {doneAtFirst!.Max()} of {trials}", "-", string.Empty);
        table.AddRow("Jain's fairness index of those", jain.ToString("F3", CultureInfo.InvariantCulture), ">= 0.9 (1 = equal shares)", Met(jain >= 0.9));
        AnsiConsole.Write(table);
        return completed == experiments && jain >= 0.9;
    }

    /// <summary>Grants per second: every no-op trial is one grant (and one release) by the resource scheduler.</summary>
    private static async Task<bool> GrantRateAsync(int experiments, int trials)
    {
        var slots = 64;
        Say($"[bold]grants/s[/]: {trials:N0} no-op trials of one report in one process with {slots} slots, as 1 experiment and as {experiments}");
        var root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"tuner-grants-{Environment.ProcessId}");
        try
        {
            await using var tuner = await EmbeddedTuner.StartAsync(new EmbeddedTunerOptions { CpuSlots = slots });
            var spec = new ExperimentSpec
            {
                Name = "grants",
                Trainable = "noop",
                Metric = "value",
                MaxConcurrent = slots,
                Params = new([new("reports", 1)]),
                Resources = new ResourceSpec { Cpu = 1 },
                Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
            };

            async Task<double> Rate(int count, int each)
            {
                var clock = Stopwatch.StartNew();
                var ids = new List<string>();
                for (var i = 0; i < count; i++)
                {
                    ids.Add((await tuner.Client.SubmitAsync(spec with { Name = $"grants-{count}-{i}", Samples = each, Search = spec.Search with { Seed = i } }, new() { OutputRoot = root })).ExperimentId);
                }

                var done = 0;
                foreach (var id in ids)
                {
                    done += (await tuner.Client.WaitAsync(id)).Count(TrialStatus.Terminated);
                }

                return done == count * each ? done / clock.Elapsed.TotalSeconds : throw new InvalidOperationException($"{done} of {count * each} trials ended");
            }

            await Rate(1, Math.Min(trials, 2_000));
            var one = await Rate(1, trials);
            var many = await Rate(experiments, trials / experiments);
            var table = new Table().AddColumns("submitted as", "trials", "grants/s");
            table.AddRow("1 experiment", N(trials), N(one));
            table.AddRow($"{experiments} experiments at once", N(trials / experiments * experiments), $"{N(many)} ({(many / one - 1) * 100:+0.0;-0.0}%)");
            AnsiConsole.Write(table);
            Say($"{experiments} experiments at once keep {many / one:P0} of one experiment's rate (target: at least 80%)");
            return many >= 0.8 * one;
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>Jain's index: (sum x)^2 / (n sum x^2), 1 when all are equal, 1/n when one has everything.</summary>
    public static double Jain(IReadOnlyCollection<int> shares)
    {
        var sum = shares.Sum(x => (double)x);
        var squares = shares.Sum(x => (double)x * x);
        return squares == 0 ? 1 : sum * sum / (shares.Count * squares);
    }

    private static string Met(bool met) => met ? "[green]yes[/]" : "[red]no[/]";

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void Say(FormattableString s) => AnsiConsole.MarkupLine(s.ToString(CultureInfo.InvariantCulture));
}
