using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Tuner.Embedded;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Bench;

/// <summary>
/// The tuner's own overhead: N <c>noop</c> trials of R reports each through the experiment, trial and
/// resource scheduler grains of an embedded cluster, every result written to the run folder, one CPU
/// slot per trial as in Ray (so as many trials run at once as there are cores). In the same run:
/// the disk's floor for the same files (a plain loop appending each trial's rows, the way the run folder does),
/// the tuner with <c>durability: fsync</c> (what syncing each batch costs), the tuner with its results on tmpfs (its overhead without the disk), and
/// Optuna 3.1 on the same number of trials and reports, in memory, when it is installed.
/// </summary>
public static class OverheadBenchmark
{
    public static async Task<int> RunAsync(int trials, int reports, int repeats, string diskRoot)
    {
        var cores = Environment.ProcessorCount;
        Say($"[bold]overhead[/]: {trials:N0} noop trials x {reports} reports, 1 CPU slot each on a {cores}-core embedded worker; median of {repeats} runs");
        var spec = new ExperimentSpec
        {
            Name = "bench-overhead",
            Trainable = "noop",
            Metric = "value",
            Samples = trials,
            MaxConcurrent = cores,
            Params = new([new("reports", reports)]),
            Resources = new ResourceSpec { Cpu = 1 },
            Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
        };

        // Nothing is deleted until every figure is taken: on a disk mounted with discard, deleting
        // thousands of files slows the creation of the next ones for seconds.
        var table = new Table().AddColumns("system", "where results go", "trials", "results", "seconds (median)", "trials/s", "results/s", "each run (s)", "CPU ms per trial");
        var shm = Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", $"tuner-bench-{Environment.ProcessId}") : null;

        // Warm up once at full size (on tmpfs where there is one, to spare the disk): until the JIT has
        // promoted the hot paths to optimised code, the first thousand trials run slower.
        await TunerAsync(spec, 1, shm ?? diskRoot);
        var floorBefore = DiskFloor(trials, Path.Combine(diskRoot, "floor-before"));
        var onDisk = await TunerAsync(spec, repeats, diskRoot);
        var floorAfter = DiskFloor(trials, Path.Combine(diskRoot, "floor-after"));
        var diskRuns = Runs;
        var diskCpu = Cpu;
        var synced = await TunerAsync(spec with { Durability = Durability.Fsync }, repeats, diskRoot);
        table.AddRow("(disk floor before: the same files, no tuner)", diskRoot, N(trials), "-", S(floorBefore), N(trials / floorBefore), "-", string.Empty, "-");
        table.AddRow("Tuner (embedded)", diskRoot, N(trials), N((long)trials * reports), S(onDisk), N(trials / onDisk), N(trials * reports / onDisk), diskRuns, diskCpu);
        table.AddRow("(disk floor after)", diskRoot, N(trials), "-", S(floorAfter), N(trials / floorAfter), "-", string.Empty, "-");
        table.AddRow("Tuner (embedded), durability: fsync", diskRoot, N(trials), N((long)trials * reports), S(synced), N(trials / synced), N(trials * reports / synced), Runs, Cpu);
        double? onTmpfs = null;
        if (shm is not null)
        {
            try
            {
                onTmpfs = await TunerAsync(spec, repeats, shm);
                table.AddRow("Tuner (embedded)", "/dev/shm (tmpfs)", N(trials), N((long)trials * reports), S(onTmpfs.Value), N(trials / onTmpfs.Value), N(trials * reports / onTmpfs.Value), Runs, Cpu);
            }
            finally
            {
                Directory.Delete(shm, recursive: true);
            }
        }

        var peers = new List<(string Name, double Seconds, long Trials, long Results)>();
        foreach (var (sampler, pruner) in new[] { ("random", "nop"), ("random", "hyperband") })
        {
            if (RunOptuna(trials, reports, sampler, pruner) is { } peer)
            {
                var name = $"Optuna {peer.Version} {sampler} sampler, {pruner} pruner";
                table.AddRow(name, "memory", N(peer.Trials), N(peer.Results), S(peer.Seconds), N(peer.Trials / peer.Seconds), N(peer.Results / peer.Seconds), S(peer.Seconds), "-");
                peers.Add((name, peer.Seconds, peer.Trials, peer.Results));
            }
        }

        AnsiConsole.Write(table);
        foreach (var (name, seconds, peerTrials, results) in peers)
        {
            Say($"Tuner on disk vs {name}: trials/s x{(trials / onDisk) / (peerTrials / seconds):F2}, results/s x{(trials * reports / onDisk) / (results / seconds):F2}");
            if (onTmpfs is { } tmpfs)
            {
                Say($"Tuner on tmpfs vs {name}: trials/s x{(trials / tmpfs) / (peerTrials / seconds):F2}, results/s x{(trials * reports / tmpfs) / (results / seconds):F2}");
            }
        }

        if (peers.Count == 0)
        {
            Say($"[yellow]Optuna not found[/]: install Debian's python3-optuna (apt-get install -y python3-optuna) to measure it side by side");
        }

        Say($"durability: fsync costs x{synced / onDisk:F2} the time of the default (os) on this disk.");
        Say($"The disk floor is what this machine's file system needs for the run folder's rows of {trials:N0} trials, a write each; the tuner writes them on background threads.");
        return 0;
    }

    /// <summary>
    /// Median seconds for the whole experiment (start to files flushed), after one warm-up run; every run's seconds go to
    /// <see cref="Runs"/>, the median of the process's CPU time per trial to <see cref="Cpu"/> (all threads: with as many trials
    /// running as cores, CPU per trial x trials / (seconds x cores) is how busy the cores were).
    /// </summary>
    private static async Task<double> TunerAsync(ExperimentSpec spec, int repeats, string root)
    {
        var seconds = new List<double>();
        var cpu = new List<double>();
        var process = Process.GetCurrentProcess();
        await using var tuner = await EmbeddedTuner.StartAsync();
        await tuner.Client.RunAsync(spec with { Samples = Math.Min(spec.Samples, 200) }, root);
        for (var run = 0; run < repeats; run++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            var result = await tuner.Client.RunAsync(spec, root);
            stopwatch.Stop();
            process.Refresh();
            cpu.Add((process.TotalProcessorTime - cpuBefore).TotalMilliseconds / spec.Samples);
            var expected = (long)spec.Samples * spec.Params["reports"].AsInteger();
            if (result.Count(TrialStatus.Terminated) != spec.Samples || result.ResultsReported != expected)
            {
                throw new InvalidOperationException($"expected {spec.Samples} trials and {expected} results, got {result.Count(TrialStatus.Terminated)} and {result.ResultsReported}");
            }

            seconds.Add(stopwatch.Elapsed.TotalSeconds);
        }

        Runs = string.Join(", ", seconds.Select(S));
        Cpu = cpu.Order().ElementAt(cpu.Count / 2).ToString("F3", CultureInfo.InvariantCulture);
        return seconds.Order().ElementAt(seconds.Count / 2);
    }

    private static string Runs { get; set; } = string.Empty;

    private static string Cpu { get; set; } = string.Empty;

    /// <summary>
    /// Seconds to write what the run folder holds per trial, with no tuner: its rows appended to the run's results.jsonl and
    /// progress.csv, a write each (short trials have no folder or file of their own).
    /// </summary>
    private static double DiskFloor(int trials, string directory)
    {
        var result = new byte[640];
        var stopwatch = Stopwatch.StartNew();
        Directory.CreateDirectory(directory);
        using var rows = new FileStream(Path.Combine(directory, "results.jsonl"), FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        using var csv = new FileStream(Path.Combine(directory, "progress.csv"), FileMode.Create, FileAccess.Write, FileShare.Read, 1);
        for (var i = 0; i < trials; i++)
        {
            rows.Write(result);
            csv.Write(result.AsSpan(0, 420));
        }

        stopwatch.Stop();
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static void Say(FormattableString s) => AnsiConsole.MarkupLine(s.ToString(CultureInfo.InvariantCulture));

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string S(double value) => value.ToString("F3", CultureInfo.InvariantCulture);

    private sealed record PeerResult(long Trials, long Results, double Seconds, string Version);

    private static PeerResult? RunOptuna(int trials, int reports, string sampler, string pruner)
    {
        var python = Peers.PythonWith("optuna");
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
