using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>The trial table keeps open trials in memory and ended ones in the archive, read back whole when asked.</summary>
public sealed class TrialTableTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tuner-table-{Guid.NewGuid():N}");

    public TrialTableTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ExperimentSpec Spec(int samples) => SpecParser.Parse(
        $"name: table\ntrainable: branin\nmetric: value\nmode: min\nsamples: {samples}\nmax_concurrent: 3\n"
        + "search: { algorithm: random, seed: 5 }\nscheduler: { algorithm: fifo }\nstop: { training_iteration: 10 }\n"
        + "space:\n  x1: { uniform: [-5, 10] }\n  x2: { uniform: [0, 15] }\n");

    private static ExperimentController Start(ExperimentSpec spec, TrialArchive archive)
    {
        var journal = new StringWriter();
        var c = ExperimentController.Create(spec, journal, new JournalListener(journal), new StepClock(T0), T0, archive);
        c.Start();
        c.Fill();
        return c;
    }

    /// <summary>Runs the first open trial to its end (ten reports, a flat learning curve), as a worker would.</summary>
    private static void RunOne(ExperimentController c)
    {
        var trial = c.Open.Where(t => t.Status == TrialStatus.Pending).MinBy(t => t.Index)!;
        c.OnTrialStarted(trial.TrialId, "w1", trial.Attempt);
        for (var i = 1; i <= 10; i++)
        {
            var value = trial.Config["x1"].AsDouble() + trial.Config["x2"].AsDouble() / i;
            c.OnResult(trial.TrialId, trial.Attempt, new TrialResult(i, i, 0, new Dictionary<string, double> { ["value"] = value, ["valid_loss"] = 1, ["lr"] = 0.1 }), []);
        }

        c.OnTrialEnded(trial.TrialId, TrialStatus.Terminated, null);
        c.Fill();
    }

    [Fact]
    public void FinishedTrials_LeaveMemory_AndAreReadBackWhole()
    {
        // What memory holds of trials is what runs (three at a time), however many have finished: each of the 200 ended
        // trials is a row in the archive, and a slot.
        using var archive = TrialArchiveFile.Open(_dir, keep: 0);
        var c = Start(Spec(200), archive);
        var held = 0;
        while (c.Open.Any(t => t.Status == TrialStatus.Pending))
        {
            RunOne(c);
            held = Math.Max(held, c.TrialsInMemory);
        }

        Assert.Equal(200, c.Counts[TrialStatus.Terminated]);
        Assert.Equal((200, 0), (c.Trials.Count, c.TrialsInMemory));
        Assert.InRange(held, 1, 3);
        archive.Seal(toDisk: false);
        Assert.Equal(200, File.ReadAllLines(Path.Combine(_dir, TrialArchiveFile.FileName)).Length);

        // Read back: its state, config, last result and the decision that stopped it, its curve's advice but not the curve.
        Assert.True(c.TryGetTrial("t00042", out var t));
        Assert.Equal((TrialStatus.Terminated, 10L, 1, 42), (t.Status, t.Iteration, t.Attempt, t.Index));
        Assert.Equal(t.Config["x1"].AsDouble() + (t.Config["x2"].AsDouble() / 10), t.LastMetric);
        Assert.Equal((10L, 1.0, 0.1), (t.LastResult!.TrainingIteration, t.LastResult.Metrics["valid_loss"], t.LastResult.Metrics["lr"]));
        Assert.Equal("stop", t.LastDecision!.Action);
        Assert.Null(t.Curve);
        Assert.Contains("has not improved", t.Diagnosis, StringComparison.Ordinal);
        Assert.False(c.TryGetTrial("t00201", out _));
        Assert.False(c.TryGetTrial("x", out _));

        // The best, found again from the slots, is the trial with the smallest last value.
        var best = c.Trials.MinBy(x => x.LastMetric)!;
        Assert.Equal(best.TrialId, c.Best()!.TrialId);
        Assert.Equal(c.Trials.Select(x => x.LastMetric!.Value).Order(), c.EndedMetrics.Order());
    }

    [Fact]
    public void AView_WritesTheTableAsItWasTaken_WhileTrialsEndAndAreReopened()
    {
        // experiment.json and snapshots are written on another thread from a view: what happens after it is not in it.
        var c = Start(Spec(20), new MemoryTrialArchive());
        RunOne(c);
        RunOne(c);
        foreach (var stop in c.BeginEnd(ExperimentStatus.Stopped, "stopped by the user")!.OfType<StopTrial>())
        {
            c.OnTrialEnded(stop.TrialId, TrialStatus.Terminated, "stopped");
        }

        c.FinishEnd();
        var before = Rows(c.Document("e1").Trials);
        var view = c.Document("e1").Trials;

        // The resume brings the interrupted trials back from the archive; they run on and end again.
        c.Resume();
        RunOne(c);
        RunOne(c);

        Assert.Equal(before, Rows(view));
        Assert.Equal(Enumerable.Repeat("TERMINATED", 5), before.Select(r => r.Status));
        var now = Rows(c.Document("e1").Trials);
        Assert.NotEqual(before, now.Take(before.Count));
        Assert.Equal(now.Select(r => r.Id), c.Trials.Select(t => t.TrialId));
        Assert.Equal(now.Select(r => r.Status), c.Trials.Select(t => t.Status.ToWire()));
    }

    [Fact]
    public void ReadingTheArchive_StopsBeforeARowCutShort()
    {
        using (var archive = TrialArchiveFile.Open(_dir, keep: 0))
        {
            var c = Start(Spec(4), archive);
            RunOne(c);
            RunOne(c);
        }

        var path = Path.Combine(_dir, TrialArchiveFile.FileName);
        File.AppendAllText(path, "{\"trial_id\":\"t00003\",\"sta");
        using var reopened = TrialArchiveFile.Open(_dir, keep: long.MaxValue);
        var rows = TrialTable.ReadArchive(reopened, reopened.Length, "value").ToList();

        Assert.Equal(["t00001", "t00002"], rows.Select(r => r.Trial.TrialId));
        Assert.Equal(0, rows[0].Offset);
        Assert.Equal(File.ReadAllLines(path)[0].Length, rows[0].Length);
    }

    private static List<(string Id, string Status)> Rows(TrialTable.View view)
    {
        using var buffer = new MemoryStream();
        view.WriteRows(buffer);
        using var doc = JsonDocument.Parse(buffer.ToArray());
        return [.. doc.RootElement.EnumerateArray().Select(r => (r.GetProperty("trial_id").GetString()!, r.GetProperty("status").GetString()!))];
    }
}
