using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>A restore from a journal snapshot and the tail after it is the restore from the whole journal, and a torn snapshot is never used.</summary>
public sealed class JournalSnapshotTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"tuner-snapshot-{Guid.NewGuid():N}");

    public JournalSnapshotTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string JournalPath => Path.Combine(_dir, ExperimentJournal.FileName);

    private static ExperimentSpec Spec(string search) => SpecParser.Parse(
        "name: snap\ntrainable: branin\nmetric: value\nmode: min\nsamples: 40\nmax_concurrent: 3\n"
        + $"search: {search}\nscheduler: {{ algorithm: fifo }}\nstop: {{ training_iteration: 4 }}\n"
        + "space:\n  x1: { uniform: [-5, 10] }\n  x2: { uniform: [0, 15] }\n");

    /// <summary>Runs trials through the controller as a worker would, each to its fourth report, the odd ones failing once first.</summary>
    private static void RunTrials(ExperimentController c, int count)
    {
        for (var n = 0; n < count; n++)
        {
            var running = c.Trials.Where(t => t.Status is TrialStatus.Pending or TrialStatus.Running).Take(1).ToList();
            foreach (var trial in running)
            {
                c.OnTrialStarted(trial.TrialId, "w1", trial.Attempt);
                if (trial.Index % 2 == 1 && trial.Failures == 0)
                {
                    c.OnResult(trial.TrialId, trial.Attempt, new TrialResult(1, 1, 0, new Dictionary<string, double> { ["value"] = 9, ["valid_loss"] = 1, ["lr"] = 0.1 }), []);
                    c.OnTrialRetrying(trial.TrialId, 1, "worker lost", trial.Attempt + 1);
                    continue;
                }

                for (var i = trial.Iteration + 1; i <= 4; i++)
                {
                    c.OnResult(trial.TrialId, trial.Attempt, new TrialResult(i, i, 0, new Dictionary<string, double> { ["value"] = trial.Config["x1"].AsDouble() / i, ["valid_loss"] = 1.0 / i, ["lr"] = 0.1 }), []);
                }

                c.OnTrialEnded(trial.TrialId, TrialStatus.Terminated, null);
            }

            c.Fill();
        }
    }

    private (ExperimentController Live, JournalWriter Journal) Start(ExperimentSpec spec)
    {
        var journal = new JournalWriter(JournalPath);
        ExperimentJournal.WriteStart(journal, "e1", spec, T0);

        // The ended trials in the folder's archive, as the experiment grain keeps them (left open: the test kills the run).
        var c = ExperimentController.Create(spec, journal, new JournalListener(journal), new StepClock(T0), T0, TrialArchiveFile.Open(_dir, keep: 0));
        c.Start();
        c.Fill();
        return (c, journal);
    }

    private static void Snapshot(string dir, ExperimentController c, JournalWriter journal)
    {
        journal.Flush();
        Assert.True(c.CanSnapshot);
        JournalSnapshot.Write(dir, new JournalSnapshot.Header(c.NextPosition - 1, journal.Length, new RowsMark(0)), c.SnapshotBody(), fsync: false);
    }

    [Fact]
    public void ASnapshot_HoldsTheOpenTrials_NotTheEndedOnes()
    {
        // Its size follows what runs: the ended trials are in the archive up to where the snapshot says.
        var (c, journal) = Start(Spec("{ algorithm: random, seed: 3 }"));
        RunTrials(c, 20);
        var capture = c.CaptureSnapshot();
        using var body = System.Text.Json.JsonDocument.Parse(capture.ToBytes());
        var state = body.RootElement.GetProperty("controller");

        Assert.Equal(c.Open.Select(t => t.TrialId).Order(), state.GetProperty("trials").EnumerateArray().Select(t => t.GetProperty("trial_id").GetString()!).Order());
        Assert.Equal(c.Trials.Count, state.GetProperty("trial_count").GetInt32());
        Assert.True(state.GetProperty("archived_bytes").GetInt64() == capture.ArchivedBytes && capture.ArchivedBytes > 0);
        Assert.Equal(c.Trials.Count(t => t.Status.IsFinal()), File.ReadAllLines(Path.Combine(_dir, TrialArchiveFile.FileName)).Length);
        journal.Dispose();
    }

    [Fact]
    public void ACapture_WritesTheStateItWasTakenIn_AfterTheExperimentMovedOn()
    {
        // The experiment's thread copies; the writer's thread serialises later, while trials go on changing.
        var (c, journal) = Start(Spec("{ algorithm: random, seed: 3 }"));
        RunTrials(c, 6);
        var then = c.SnapshotBody();
        var capture = c.CaptureSnapshot();
        RunTrials(c, 6);

        Assert.Equal(then, capture.ToBytes());
        Assert.NotEqual(then, c.SnapshotBody());
        journal.Dispose();
    }

    [Theory]
    [InlineData("{ algorithm: random, seed: 3 }")]
    [InlineData("{ algorithm: tpe, seed: 3, max_concurrent: 2 }")]
    public void SnapshotAndTail_RestoreTheSameExperiment_AsTheWholeJournal(string search)
    {
        var spec = Spec(search);
        var (c, journal) = Start(spec);
        RunTrials(c, 14);
        Snapshot(_dir, c, journal);
        RunTrials(c, 8);

        // Killed with trials under way.
        c.OnTrialStarted(c.Trials.First(t => t.Status == TrialStatus.Pending).TrialId, "w1", 1);
        journal.Dispose();

        var full = ExperimentReplay.Run(spec, ExperimentJournal.Read(JournalPath), new JournalListener(TextWriter.Null), new StepClock(T0.AddHours(1)), new StringWriter());
        var snapshot = JournalSnapshot.Newest(_dir, new FileInfo(JournalPath).Length, TrialArchiveFile.LengthIn(_dir))!.Value;
        var tail = ExperimentJournal.ReadFrom(JournalPath, snapshot.Header.JournalBytes);
        Assert.True(tail.Count < ExperimentJournal.Read(JournalPath).Count / 2, "the tail is a part of the journal");

        // The archive cut where the snapshot was taken: the tail's replay archives the trials that ended after it again.
        using var archive = TrialArchiveFile.Open(_dir, JournalSnapshot.ArchivedBytes(snapshot.Body));
        var fromSnapshot = ExperimentReplay.FromSnapshot(spec, snapshot.Body.RootElement, tail, new JournalListener(TextWriter.Null), new StepClock(T0.AddHours(1)), new StringWriter(), archive);

        Assert.Equal(Table(full.Controller), Table(fromSnapshot.Controller));
        Assert.Equal(full.Controller.NextPosition, fromSnapshot.Controller.NextPosition);
        Assert.Equal(full.Controller.ResultsRecorded, fromSnapshot.Controller.ResultsRecorded);

        // Both go on alike: the same trials requeued, and the searcher suggests the same next configs.
        var a = full.Controller.RecoverRunning(_ => null);
        var b = fromSnapshot.Controller.RecoverRunning(_ => null);
        Assert.Equal(a.Commands, b.Commands);
        Assert.Equal(Table(full.Controller), Table(fromSnapshot.Controller));
        Assert.True(full.Controller.Trials.Count > 12, $"{full.Controller.Trials.Count} trials");
    }

    [Fact]
    public void ATornSnapshot_IsIgnored_ForThePreviousOne_OrTheWholeJournal()
    {
        var spec = Spec("{ algorithm: random, seed: 3 }");
        var (c, journal) = Start(spec);
        RunTrials(c, 3);
        Snapshot(_dir, c, journal);
        var first = c.NextPosition - 1;
        RunTrials(c, 3);
        Snapshot(_dir, c, journal);
        journal.Dispose();
        var length = new FileInfo(JournalPath).Length;
        var files = JournalSnapshot.Files(_dir).ToList();
        Assert.Equal(2, files.Count);
        var archived = TrialArchiveFile.LengthIn(_dir);
        Assert.Equal(c.NextPosition - 1, JournalSnapshot.Newest(_dir, length, archived)!.Value.Header.Position);

        // Cut short (a crash while written, without the rename's protection after a power loss): the previous one serves.
        var newest = File.ReadAllBytes(files[0]);
        File.WriteAllBytes(files[0], newest[..^10]);
        Assert.Equal(first, JournalSnapshot.Newest(_dir, length, archived)!.Value.Header.Position);

        // One byte of its body changed: its hash tells.
        var older = File.ReadAllBytes(files[1]);
        older[^5] ^= 0x20;
        File.WriteAllBytes(files[1], older);
        Assert.Null(JournalSnapshot.TryRead(files[1]));
        Assert.Null(JournalSnapshot.Newest(_dir, length, archived));

        // A whole snapshot whose tail the journal does not hold (the journal lost lines the snapshot covers) is not used either.
        File.WriteAllBytes(files[1], newest);
        Assert.Null(JournalSnapshot.Newest(_dir, 100, archived));

        // Nor one whose ended trials the archive has lost (cut short by a crash of the machine).
        Assert.NotNull(JournalSnapshot.Newest(_dir, length, archived));
        Assert.Null(JournalSnapshot.Newest(_dir, length, JournalSnapshot.ArchivedBytes(JournalSnapshot.TryRead(files[1])!.Value.Body) - 1));
    }

    [Fact]
    public void AScheduler_WithStateOfItsOwn_IsNotSnapshotted()
    {
        var spec = Spec("{ algorithm: random, seed: 3 }") with { Scheduler = new SchedulerSpec { Algorithm = "asha", MaxT = 4, GracePeriod = 1, ReductionFactor = 2 } };
        var (c, journal) = Start(spec);
        journal.Dispose();
        Assert.False(c.CanSnapshot);
    }

    /// <summary>Everything the trial table holds, one line a trial, and the experiment's status and counts.</summary>
    private static string Table(ExperimentController c) =>
        $"{c.Status} {c.StatusReason} {c.EndedAt} {c.ResultsRecorded} {c.LastEventTime} {string.Join(',', c.Counts.Where(p => p.Value != 0).OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}\n"
        + string.Join('\n', c.Trials.Select(t =>
            $"{t.TrialId} {t.Index} {t.Status} {t.Iteration} {t.Attempt} {t.Failures} {t.LastMetric} {t.LastResult?.TrainingIteration} {t.LastResult?.TimeTotalS} {t.Reason} {t.Diagnosis} {t.Worker} "
            + $"{SpecWriter.ToJson(new ExperimentSpec { Name = "c", Trainable = "noop", Metric = "value", Params = t.Config })} [{string.Join("; ", t.Decisions ?? [])}] [{string.Join(";", t.Curve ?? [])}]"));
}
