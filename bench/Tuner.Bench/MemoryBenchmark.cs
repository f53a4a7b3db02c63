using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Protocol;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Data.Cache;
using P = Tuner.Core.Protocol.TrialProcessProtocol;

namespace Tuner.Bench;

/// <summary>
/// Memory over time. First, one gestures GRU trial for many epochs in its own trial process, started
/// as a worker starts it: the process's resident memory after every epoch (target: it grows by less
/// than 50 MB after the first). Then many such trials in a row on one embedded worker: the worker's
/// own resident memory and managed heap after each (target: flat, since trials live and die in
/// their own processes).
/// </summary>
public static class MemoryBenchmark
{
    private const double GrowthTargetMb = 50;
    private const double FlatTargetMb = 10;

    private static readonly TrialConfig Gru = new([new("model", "rnn"), new("hidden_size", 32), new("num_layers", 1), new("batch_size", 64), new("lr", 0.003)]);

    public static async Task<int> RunAsync(int epochs, int trials, string root)
    {
        var dataDir = DataCache.Resolve().Directory;
        Say($"[bold]memory[/]: gestures GRU (hidden 32, 1 layer, batch 64); data from {dataDir}");
        var single = SingleTrial(epochs, Path.Combine(root, "single"));
        var worker = await TrialsInARowAsync(trials, Path.Combine(root, "worker"));

        var table = new Table().AddColumns("measurement", "after the first", "after the last", "largest", "growth", "target", "met");
        table.AddRow($"trial process RSS, {epochs} epochs", Mb(single[0]), Mb(single[^1]), Mb(single.Max()), Mb(single[^1] - single[0]), $"< {GrowthTargetMb} MB", Met(single[^1] - single[0] < GrowthTargetMb * 1e6));
        var rss = worker.Select(w => w.Rss).ToList();
        var heap = worker.Select(w => w.Heap).ToList();

        // The first trial loads the worker's code paths; flat means no trend from the second on.
        table.AddRow($"worker RSS, {trials} trials in a row", Mb(rss[0]), Mb(rss[^1]), Mb(rss.Max()), Mb(rss[^1] - rss[Math.Min(1, rss.Count - 1)]), $"< {FlatTargetMb} MB from the 2nd", Met(rss[^1] - rss[Math.Min(1, rss.Count - 1)] < FlatTargetMb * 1e6));
        table.AddRow($"worker managed heap, {trials} trials", Mb(heap[0]), Mb(heap[^1]), Mb(heap.Max()), Mb(heap[^1] - heap[Math.Min(1, heap.Count - 1)]), "flat", string.Empty);
        AnsiConsole.Write(table);
        Say($"trial process RSS by epoch (MB): {string.Join(" ", single.Where((_, i) => i % Math.Max(1, single.Count / 20) == 0 || i == single.Count - 1).Select(v => (v / 1e6).ToString("F0", CultureInfo.InvariantCulture)))}");
        Say($"worker RSS after each trial (MB): {string.Join(" ", rss.Select(v => (v / 1e6).ToString("F0", CultureInfo.InvariantCulture)))}");
        return 0;
    }

    /// <summary>Resident bytes of the trial process after each epoch it reports.</summary>
    private static List<long> SingleTrial(int epochs, string directory)
    {
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "config.json");
        P.WriteConfig(config, new TrialConfig([.. Gru, new("epochs", epochs)]));
        var (program, arguments) = new Tuner.Worker.WorkerOptions().TrialProcessCommand();
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[P.ConfigFileVariable] = config;
        start.Environment[P.TrialIdVariable] = "t00001";
        start.Environment[P.CheckpointDirVariable] = Path.Combine(directory, "checkpoints");
        start.Environment[P.TrainableVariable] = "gestures";
        start.Environment[P.SeedVariable] = "1";
        start.Environment[P.ThreadsVariable] = "1";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var rss = new List<long>(epochs);
        while (process.StandardOutput.ReadLine() is { } line)
        {
            if (TrialProcessProtocol.Parse(line) is ProtocolMessage.Report)
            {
                rss.Add(ResidentBytes(process.Id));
            }
        }

        process.WaitForExit();
        if (process.ExitCode != 0 || rss.Count != epochs)
        {
            throw new InvalidOperationException($"the trial process exited with {process.ExitCode} after {rss.Count} of {epochs} epochs: {stderr.Result}");
        }

        return rss;
    }

    /// <summary>This process's resident bytes and managed heap after each of <paramref name="trials"/> trials, one at a time.</summary>
    private static async Task<List<(long Rss, long Heap)>> TrialsInARowAsync(int trials, string root)
    {
        await using var tuner = await EmbeddedTuner.StartAsync();
        var spec = new ExperimentSpec
        {
            Name = "bench-memory",
            Trainable = "gestures",
            Metric = "valid_loss",
            Mode = OptimizationMode.Min,
            Samples = 1,
            MaxConcurrent = 1,
            Resources = new ResourceSpec { Cpu = 1 },
            Params = new([.. Gru, new("epochs", 2)]),
            Checkpoint = new CheckpointSpec { Frequency = 1 },
        };
        var samples = new List<(long, long)>(trials);
        for (var i = 0; i < trials; i++)
        {
            var result = await tuner.Client.RunAsync(spec with { Name = $"bench-memory-{i + 1}" }, root);
            if (result.Count(TrialStatus.Terminated) != 1)
            {
                throw new InvalidOperationException($"trial {i + 1} did not finish: {result.StatusReason} {string.Join("; ", result.Rows.Select(r => r.StatusReason))}");
            }

            var heap = GC.GetTotalMemory(forceFullCollection: true);
            samples.Add((ResidentBytes(Environment.ProcessId), heap));
        }

        return samples;
    }

    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"no VmRSS in /proc/{pid}/status");
    }

    private static string Mb(long bytes) => $"{bytes / 1e6:F1} MB";

    private static string Met(bool met) => met ? "[green]yes[/]" : "[red]no[/]";

    private static void Say(string markup) => AnsiConsole.MarkupLine(markup);
}
