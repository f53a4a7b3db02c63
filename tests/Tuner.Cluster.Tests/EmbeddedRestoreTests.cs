using System.Diagnostics;
using System.Text.Json;

namespace Tuner.Cluster.Tests;

/// <summary>
/// An embedded <c>tuner run</c> killed with SIGKILL goes on when the same command runs again, from the
/// journal in its run folder (Ray's <c>Tuner.restore</c>): finished trials are not repeated, nothing
/// is recorded twice, and the experiment completes.
/// </summary>
public sealed class EmbeddedRestoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Spec = """
        name: killed
        trainable: sleep
        params: { reports: 16, seconds: 0.05 }
        metric: value
        mode: max
        samples: 24
        max_concurrent: 4
        search: { algorithm: tpe, seed: 5 }
        scheduler: { algorithm: asha, max_t: 16, grace_period: 2, reduction_factor: 2 }
        checkpoint: { frequency: 3, keep: 2 }
        resources: { cpu: 1 }
        space:
          x: { uniform: [0, 1] }
        """;

    [Fact]
    public async Task AKilledRun_TheSameCommandResumesIt_WithoutRepeatingFinishedTrials()
    {
        var root = Directory.CreateTempSubdirectory("tuner-restore-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "spec.yaml"), Spec, Ct);
            var folder = Path.Combine(root, "runs", "killed");
            var journal = Path.Combine(folder, "journal.jsonl");

            // First run: killed once at least 6 trials have ended and others are under way.
            using (var first = Run(root))
            {
                var deadline = DateTime.UtcNow.AddMinutes(2);
                while (Ended(journal).Count < 6)
                {
                    Assert.True(DateTime.UtcNow < deadline && !first.HasExited, "the first run did not get 6 trials done");
                    await Task.Delay(20, Ct);
                }

                first.Kill(entireProcessTree: true);
                await first.WaitForExitAsync(Ct);
            }

            var endedBefore = Ended(journal);
            var filesBefore = endedBefore.ToDictionary(t => t, t => string.Join("\n", RunRows.Lines(folder, t)));

            // The same command again.
            using var second = Run(root);
            var output = await second.StandardOutput.ReadToEndAsync(Ct);
            await second.WaitForExitAsync(Ct);

            Assert.True(second.ExitCode == 0, output);
            Assert.Contains("Resuming the unfinished run in", output, StringComparison.Ordinal);
            Assert.Equal(["killed"], Directory.GetDirectories(Path.Combine(root, "runs")).Select(Path.GetFileName));
            using var experiment = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "experiment.json")));
            Assert.Equal("completed", experiment.RootElement.GetProperty("status").GetString());
            var states = experiment.RootElement.GetProperty("state_counts");
            var errors = experiment.RootElement.GetProperty("trials").EnumerateArray().Where(t => t.GetProperty("status").GetString() == "ERROR").Select(t => t.GetProperty("status_reason").GetString());
            Assert.True(states.TryGetProperty("TERMINATED", out var terminated) && terminated.GetInt32() == 24, $"states {states}; errors: {string.Join(" | ", errors)}");

            // Finished trials were not run again: their results are as they were.
            foreach (var (trial, text) in filesBefore)
            {
                Assert.Equal(text, string.Join("\n", RunRows.Lines(folder, trial)));
            }

            // Every trial's iterations are 1, 2, ... once each; trials were created once each.
            var trials = RunRows.ByTrial(folder).Keys.ToList();
            foreach (var trial in trials)
            {
                var iterations = RunRows.Iterations(folder, trial);
                Assert.Equal(Enumerable.Range(1, iterations.Count).Select(i => (long)i), iterations);
            }

            Assert.Equal(24, trials.Count);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Trials whose TERMINATED status the journal records (complete lines only).</summary>
    private static List<string> Ended(string journal)
    {
        if (!File.Exists(journal))
        {
            return [];
        }

        using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return [.. text[..(text.LastIndexOf('\n') + 1)].Split('\n')
            .Where(l => l.Contains("\"kind\":\"TrialStatus\"", StringComparison.Ordinal) && l.Contains("\"status\":\"TERMINATED\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("trial").GetString()!)];
    }

    private static Process Run(string root)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var cli = Path.Combine(RepoRoot.Path, "src", "Tuner.Cli", "bin", configuration, "net10.0", "tuner.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = root,
        };
        foreach (var argument in new[] { "exec", cli, "run", "spec.yaml", "--quiet", "--cpus", "4" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["COLUMNS"] = "200";
        return Process.Start(start)!;
    }
}
