using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Spectre.Console;
using Tuner.Core.Experiments;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Embedded;

namespace Tuner.Bench;

/// <summary>
/// One experiment of many no-op trials (100,000 x 10 reports by default) in an embedded cluster, results on tmpfs: how fast
/// trials go early and late (trials/s over 5% of the trials from the 1,000th, and over the last 5%), the process's resident memory
/// as it goes (peak, and growth from half way to the end), the trial grains still in memory at the end, and how many files
/// the run folder has. Targets (issue 16): completes; the late rate within 15% of a fresh run's right after; peak RSS under 1 GB and
/// growing less than 10% from 50k to 100k trials.
/// </summary>
public static class ScaleBenchmark
{
    public static async Task<int> RunAsync(int trials, int reports)
    {
        var cores = Environment.ProcessorCount;
        var root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"tuner-scale-{Environment.ProcessId}");
        Say($"[bold]scale[/]: {trials:N0} noop trials x {reports} reports in one embedded experiment, {cores} CPU slots, results in {root}");
        var spec = Spec(trials, reports);

        try
        {
            await using var tuner = await EmbeddedTuner.StartAsync();

            // Warm up (the JIT's optimised code) on a small run first, as the overhead bench does.
            await tuner.Client.RunAsync(spec with { Name = "bench-scale-warmup", Samples = Math.Min(trials, 2_000) }, root);
            var process = Process.GetCurrentProcess();
            var samples = new List<(double Seconds, int Done, long Rss, long Heap)>();
            var stopwatch = Stopwatch.StartNew();
            long halfLive = 0;
            var halfDone = 0;
            var last = await FollowAsync(tuner.Client, spec, root, done =>
            {
                process.Refresh();
                samples.Add((stopwatch.Elapsed.TotalSeconds, done, process.WorkingSet64, GC.GetGCMemoryInfo().TotalCommittedBytes));
                if (halfLive == 0 && done >= trials / 2)
                {
                    halfLive = GC.GetTotalMemory(forceFullCollection: true);
                    halfDone = done;
                }
            });

            stopwatch.Stop();
            var endLive = GC.GetTotalMemory(forceFullCollection: true);

            // This machine's speed drifts over a run: the late rate is also set against a fresh run started right after it,
            // as many trials as the window past the first 1,000, in the same process (trials/s at 100k against trials/s at 1k).
            var freshTrials = Math.Min(trials, 1_000 + Math.Max(1, trials / 20));
            var fresh = Stopwatch.StartNew();
            var freshSamples = new List<(double Seconds, int Done)>();
            var freshRun = await FollowAsync(tuner.Client, spec with { Name = "bench-scale-fresh", Samples = freshTrials }, root, done => freshSamples.Add((fresh.Elapsed.TotalSeconds, done)));

            // Rates are timed by the trials themselves (each ended trial's last report, in the archive), not by the 50 ms poll: a
            // window of 5,000 trials lasts under a second, and the poll's steps moved a reading by a tenth either way.
            var ends = EndTimes(last.Directory);
            var freshEnds = EndTimes(freshRun.Directory);
            var freshFromDone = Math.Min(1_000, freshTrials / 2);
            var freshRate = RateOf(freshEnds, freshFromDone, freshEnds.Length);
            var management = tuner.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
            var stats = await management.GetSimpleGrainStatistics();
            var trialGrains = stats.Where(s => s.GrainType.Contains("TrialGrain", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
            var files = Directory.GetFiles(last.Directory, "*", SearchOption.AllDirectories);
            var directories = Directory.GetDirectories(last.Directory, "*", SearchOption.AllDirectories);

            double Rate(int from, int to) => RateOf(ends, from, to);

            long RssAt(int done) => samples.First(s => s.Done >= done).Rss;
            // Windows of 5% (5,000 trials, about a second at 100k): a shorter one measures a collection or a snapshot, not a rate.
            var window = Math.Max(1, trials / 20);
            var early = Rate(Math.Min(1_000, trials / 100), Math.Min(1_000, trials / 100) + window);
            var late = Rate(trials - window, trials);
            // Peaks, not single readings: resident memory moves with each collection, its peak is what a machine must have.
            var peak = samples.Max(s => s.Rss);

            // Growth from 50k to 100k: the target's figure is the peak of everything up to each (a peak is what a machine must have).
            // A single reading moves by 20-30 MB with where the collector happens to be (its youngest generation fills and empties),
            // so the tenth of the run before each is printed too, by its peak and by its median.
            List<long> Window(int to) => [.. samples.Where(s => s.Done > to - (trials / 10) && s.Done <= to).Select(s => s.Rss).Order()];
            long Median(List<long> window) => window.Count == 0 ? 0 : window[window.Count / 2];
            var half = Median(Window(trials / 2));
            var end = Median(Window(trials));
            var halfPeak = Window(trials / 2).DefaultIfEmpty(0).Max();
            var endPeak = Window(trials).DefaultIfEmpty(0).Max();
            var halfSoFar = samples.Where(s => s.Done <= trials / 2).Max(s => s.Rss);

            var table = new Table().AddColumns("measure", "value", "target", "met");
            table.AddRow("status", $"{last.Status.ToWire()}: {last.Done:N0} trials, {last.Results:N0} results", $"{trials:N0} trials", Met(last.Done == trials && last.Results == (long)trials * reports));
            table.AddRow("whole run", $"{stopwatch.Elapsed.TotalSeconds:F1} s, {trials / stopwatch.Elapsed.TotalSeconds:N0} trials/s", "-", string.Empty);
            table.AddRow($"trials/s early ({Math.Min(1_000, trials / 100):N0} to {Math.Min(1_000, trials / 100) + window:N0})", N(early), "-", string.Empty);
            table.AddRow($"trials/s late (last {window:N0})", $"{N(late)} ({(late / early - 1) * 100:+0.0;-0.0}% of early)", "-", string.Empty);
            table.AddRow($"trials/s of a fresh run of {freshTrials:N0} right after ({freshFromDone:N0} to {freshEnds.Length:N0})", $"{N(freshRate)} (late is {(late / freshRate - 1) * 100:+0.0;-0.0}% of it)", "late within 15%", Met(late >= freshRate * 0.85));
            table.AddRow("peak RSS", Mb(peak), "< 1,000 MB", Met(peak < 1e9));
            var growth = (double)(peak - halfSoFar) / halfSoFar;
            table.AddRow($"peak RSS up to {trials / 2:N0} -> up to {trials:N0} trials", $"{Mb(halfSoFar)} -> {Mb(peak)} ({growth * 100:+0.0;-0.0}%)", "< +10%", Met(growth < 0.10));
            table.AddRow($"peak RSS over {trials * 2 / 5:N0}-{trials / 2:N0} -> {trials * 9 / 10:N0}-{trials:N0} trials", $"{Mb(halfPeak)} -> {Mb(endPeak)} ({(double)(endPeak - halfPeak) / halfPeak * 100:+0.0;-0.0}%)", "-", string.Empty);
            table.AddRow($"median RSS over {trials * 2 / 5:N0}-{trials / 2:N0} -> {trials * 9 / 10:N0}-{trials:N0} trials", $"{Mb(half)} -> {Mb(end)} ({(double)(end - half) / half * 100:+0.0;-0.0}%)", "-", string.Empty);
            table.AddRow($"live managed heap after a full GC at {halfDone:N0} -> {last.Done:N0} trials", $"{Mb(halfLive)} -> {Mb(endLive)}: {(double)(endLive - halfLive) / Math.Max(1, last.Done - halfDone):N0} bytes per finished trial", "a small record each", string.Empty);
            table.AddRow("trial grains in memory at the end", N(trialGrains), "live trials only", Met(trialGrains <= cores));
            var rowsOnDisk = CountLines(Path.Combine(last.Directory, Tuner.Core.Results.RunFolderWriter.ResultsFileName));
            table.AddRow("rows in results.jsonl", N(rowsOnDisk), $"{(long)trials * reports:N0}", Met(rowsOnDisk == (long)trials * reports));
            table.AddRow("run folder", $"{files.Length:N0} files in {directories.Length:N0} folders", "-", string.Empty);
            AnsiConsole.Write(table);
            Say($"files: {string.Join(", ", files.Select(f => Path.GetRelativePath(last.Directory, f)).Where(f => !f.StartsWith("trials" + Path.DirectorySeparatorChar, StringComparison.Ordinal)).Order(StringComparer.Ordinal))}; under trials/: {files.Count(f => Path.GetRelativePath(last.Directory, f).StartsWith("trials" + Path.DirectorySeparatorChar, StringComparison.Ordinal)):N0} (files a trial keeps itself: a trial shorter than a second has none, its TensorBoard points are in the root run)");
            Say($"RSS by 10%: {string.Join(" ", Enumerable.Range(1, 10).Select(i => Mb(RssAt(trials * i / 10))))}");
            Say($"trials/s by 1% over the last 10%: {string.Join(" ", Enumerable.Range(90, 10).Select(i => N(Rate(trials * i / 100, trials * (i + 1) / 100))))}");
            Say($"GC committed by 10%: {string.Join(" ", Enumerable.Range(1, 10).Select(i => Mb(samples.First(s => s.Done >= trials * i / 10).Heap)))}");
            return 0;
        }
        finally
        {
            if (Directory.Exists(root) && !Keep)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    /// <summary>
    /// Restore at scale: the same experiment run in a child process (<c>scale-child</c>), killed with SIGKILL once about
    /// <paramref name="killAt"/> of its results are on disk, then restored here from its run folder. Measures how long the
    /// restore takes to have the experiment running again (target: under 10 s at 100k trials), and checks that it completes
    /// with every trial once and every iteration recorded exactly once.
    /// </summary>
    public static async Task<int> RestoreAsync(int trials, int reports, double killAt)
    {
        var root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"tuner-restore-{Environment.ProcessId}");
        Say($"[bold]scale restore[/]: {trials:N0} noop trials x {reports} reports run in a child process, SIGKILLed at about {killAt:P0} of the results, restored here");
        try
        {
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var argument in new[] { "exec", typeof(ScaleBenchmark).Assembly.Location, "scale-child", root, trials.ToString(CultureInfo.InvariantCulture), reports.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(argument);
            }

            var folder = Path.Combine(root, "bench-scale");
            var results = Path.Combine(folder, "results.jsonl");
            var clock = Stopwatch.StartNew();
            using (var child = Process.Start(start)!)
            {
                // About 100 bytes a row: killed once the rows say the run is that far (read from the file's size, not its lines).
                var target = (long)(trials * (long)reports * killAt);
                long rowBytes = 0;
                while (true)
                {
                    if (child.HasExited)
                    {
                        throw new InvalidOperationException($"the child run ended before it was killed (exit {child.ExitCode})");
                    }

                    if (File.Exists(results) && new FileInfo(results).Length is var length and > 0)
                    {
                        if (rowBytes == 0 && length > 200_000)
                        {
                            using var reader = new StreamReader(new FileStream(results, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
                            var lines = 0;
                            var bytes = 0L;
                            while (lines < 1_000 && reader.ReadLine() is { } line)
                            {
                                lines++;
                                bytes += line.Length + 1;
                            }

                            rowBytes = bytes / lines;
                        }

                        if (rowBytes > 0 && length / rowBytes >= target)
                        {
                            break;
                        }
                    }

                    await Task.Delay(100);
                }

                child.Kill(entireProcessTree: true);
                await child.WaitForExitAsync();
            }

            var killedAfter = clock.Elapsed.TotalSeconds;
            if (Keep)
            {
                CopyFolder(folder, Path.Combine(Path.GetDirectoryName(root)!, "tuner-killed"));
            }

            var journal = new FileInfo(Path.Combine(folder, "journal.jsonl")).Length;
            var snapshots = Tuner.Core.Results.JournalSnapshot.Files(folder).Select(f => (Path.GetFileName(f), new FileInfo(f).Length)).ToList();
            await using var tuner = await EmbeddedTuner.StartAsync();
            var restore = Stopwatch.StartNew();
            var id = await tuner.Client.RestoreAsync(folder);
            var restored = await tuner.Client.GetAsync(id, 0);
            restore.Stop();
            var final = await tuner.Client.WaitAsync(id);
            if (final.Count(TrialStatus.Terminated) != trials)
            {
                // What became of the others: every state's count, and the reasons of those that did not end TERMINATED.
                var all = await tuner.Client.GetAsync(id, trials);
                AnsiConsole.MarkupLine($"[red]states after the restore[/]: {string.Join(", ", final.StateCounts.Select(c => $"{c.Value} {c.Key.ToWire()}"))}; "
                    + string.Join("; ", all.Rows.Where(r => r.Status != TrialStatus.Terminated).Take(5).Select(r => Markup.Escape($"{r.TrialId} {r.Status.ToWire()} after {r.Iteration}: {r.StatusReason}"))));
            }

            var rows = Tuner.Core.Results.RunFolderWriter.ReadAll(results);
            var once = rows.GroupBy(r => r.TrialId).All(g => g.Select(r => r.Result.TrainingIteration).SequenceEqual(Enumerable.Range(1, reports).Select(i => (long)i)));

            var table = new Table().AddColumns("measure", "value", "target", "met");
            table.AddRow("killed after", $"{killedAfter:F1} s, {restored.Count(TrialStatus.Terminated):N0} trials ended", "-", string.Empty);
            table.AddRow("journal when killed", $"{journal / 1e6:N0} MB", "-", string.Empty);
            table.AddRow("snapshots", snapshots.Count == 0 ? "none" : string.Join(", ", snapshots.Select(s => $"{s.Item1} ({s.Item2 / 1e6:N1} MB)")), "-", string.Empty);
            table.AddRow("restore until running again", $"{restore.Elapsed.TotalSeconds:F2} s ({restored.Status.ToWire()})", "< 10 s", Met(restore.Elapsed.TotalSeconds < 10 && restored.Status == ExperimentStatus.Running));
            table.AddRow("after the restore", $"{final.Status.ToWire()}: {final.Count(TrialStatus.Terminated):N0} trials, {rows.Count:N0} rows", $"{trials:N0} trials, {(long)trials * reports:N0} rows", Met(final.Count(TrialStatus.Terminated) == trials && rows.Count == (long)trials * reports));
            table.AddRow("every trial's iterations 1..n once", once ? "yes" : "no", "yes", Met(once));
            AnsiConsole.Write(table);
            return 0;
        }
        finally
        {
            if (Directory.Exists(root) && !Keep)
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>Restores a copy of a killed run's folder (kept by TUNER_BENCH_KEEP) and says how long until it runs again.</summary>
    public static async Task<int> RestoreCopyAsync(string folder)
    {
        var copy = folder + "-copy";
        if (Directory.Exists(copy))
        {
            Directory.Delete(copy, recursive: true);
        }

        CopyFolder(folder, copy);
        await using var tuner = await EmbeddedTuner.StartAsync();
        var restore = Stopwatch.StartNew();
        var id = await tuner.Client.RestoreAsync(copy);
        var restored = await tuner.Client.GetAsync(id, 0);
        Say($"restored in {restore.Elapsed.TotalSeconds:F2} s ({restored.Status.ToWire()})");
        await tuner.Client.StopAsync(id);
        return 0;
    }

    private static long CountLines(string path)
    {
        var buffer = new byte[1 << 20];
        long lines = 0;
        using var stream = File.OpenRead(path);
        for (int read; (read = stream.Read(buffer)) > 0;)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return lines;
    }

    /// <summary>The run the restore bench kills: the scale experiment, to its end unless killed.</summary>
    public static async Task<int> ChildAsync(string root, int trials, int reports)
    {
        await using var tuner = await EmbeddedTuner.StartAsync();
        await tuner.Client.RunAsync(Spec(trials, reports), root);
        return 0;
    }

    private static ExperimentSpec Spec(int trials, int reports) => new()
    {
        Name = "bench-scale",
        Trainable = "noop",
        Metric = "value",
        Samples = trials,
        MaxConcurrent = Environment.ProcessorCount,
        Params = new([new("reports", reports)]),
        Resources = new ResourceSpec { Cpu = 1 },
        Space = new() { ["x1"] = Domain.Uniform(-5, 10), ["x2"] = Domain.Uniform(0, 15) },
    };

    private sealed record ExperimentSnapshotLite(ExperimentStatus Status, int Done, long Results, string Directory);

    /// <summary>Submits <paramref name="spec"/> and polls it every 50 ms until it ends, telling <paramref name="sample"/> the trials ended so far.</summary>
    /// <summary>When each ended trial of the run in <paramref name="directory"/> reported last (its row in <c>trials.jsonl</c>), in time order.</summary>
    private static double[] EndTimes(string directory)
    {
        var times = new List<double>();
        foreach (var line in File.ReadLines(Path.Combine(directory, "trials.jsonl")))
        {
            using var row = System.Text.Json.JsonDocument.Parse(line);
            if (row.RootElement.TryGetProperty("last_result", out var last) && last.TryGetProperty("timestamp", out var at))
            {
                times.Add(at.GetDouble());
            }
        }

        times.Sort();
        return [.. times];
    }

    /// <summary>Trials ended per second between the <paramref name="from"/>-th and the <paramref name="to"/>-th end.</summary>
    private static double RateOf(double[] ends, int from, int to)
    {
        var a = ends[Math.Clamp(from, 1, ends.Length) - 1];
        var b = ends[Math.Clamp(to, 1, ends.Length) - 1];
        return (Math.Clamp(to, 1, ends.Length) - Math.Clamp(from, 1, ends.Length)) / Math.Max(1e-9, b - a);
    }

    private static async Task<ExperimentSnapshotLite> FollowAsync(Tuner.Client.ITunerClient client, ExperimentSpec spec, string root, Action<int> sample)
    {
        var id = (await client.SubmitAsync(spec, new() { OutputRoot = root })).ExperimentId;
        while (true)
        {
            var snapshot = await client.GetAsync(id, 0);
            var done = snapshot.Count(TrialStatus.Terminated) + snapshot.Count(TrialStatus.Error);
            sample(done);
            if (snapshot.Status != ExperimentStatus.Running)
            {
                return new(snapshot.Status, done, snapshot.ResultsReported, snapshot.OutputDirectory!);
            }

            await Task.Delay(50);
        }
    }

    /// <summary>TUNER_BENCH_KEEP set: the run folders stay (and the restore bench keeps a copy of the killed one), for a look or a profile.</summary>
    private static bool Keep => Environment.GetEnvironmentVariable("TUNER_BENCH_KEEP") is not null;

    private static string Met(bool met) => met ? "[green]yes[/]" : "[red]no[/]";

    private static string Mb(long bytes) => (bytes / 1e6).ToString("N0", CultureInfo.InvariantCulture) + " MB";

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void Say(FormattableString s) => AnsiConsole.MarkupLine(s.ToString(CultureInfo.InvariantCulture));
}
