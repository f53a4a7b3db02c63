using System.Text;
using System.Text.Json;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Spec;

namespace Tuner.Core.Tests;

/// <summary>
/// The experiment's logic without a silo: what used to need a running cluster (ASHA pausing and promoting, failures and
/// retries, a user's stop and resume, a restore from the journal) driven call by call, the commands checked one by one.
/// </summary>
public sealed class ExperimentControllerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 5, 10, 0, 0, TimeSpan.Zero);

    private static ExperimentSpec Spec(string scheduler, int samples, int concurrent, string extra = "") => SpecParser.Parse(
        $"name: ctl\ntrainable: branin\nmetric: value\nmode: min\nsamples: {samples}\nmax_concurrent: {concurrent}\n"
        + $"search: {{ algorithm: random, seed: 3 }}\nscheduler: {scheduler}\n{extra}\n"
        + "space:\n  x1: { uniform: [-5, 10] }\n  x2: { uniform: [0, 15] }\n");

    private static TrialResult At(long iteration, double value) => new(iteration, iteration, 0, new Dictionary<string, double> { ["value"] = value });

    /// <summary>The controller with its searcher and scheduler journaled into one text, as the grain's journal holds them.</summary>
    private sealed class Harness
    {
        public Harness(ExperimentSpec spec)
        {
            Spec = spec;
            Listener = new JournalListener(Journal);
            ExperimentJournal.WriteStart(Journal, "e1", spec, T0);
            Controller = ExperimentController.Create(spec, Journal, Listener, new StepClock(T0), T0);
        }

        public ExperimentSpec Spec { get; }

        public StringWriter Journal { get; } = new();

        public JournalListener Listener { get; }

        public ExperimentController Controller { get; }

        /// <summary>The journal's lines as the restore reads them.</summary>
        public IReadOnlyList<JsonElement> Lines()
        {
            var path = Path.GetTempFileName();
            try
            {
                File.WriteAllText(path, Journal.ToString(), new UTF8Encoding(false));
                return ExperimentJournal.Read(path);
            }
            finally
            {
                File.Delete(path);
            }
        }

        /// <summary>Reports a result of the trial's current run; returns the decision.</summary>
        public SchedulerAction Report(string trialId, long iteration, double value, List<ExperimentCommand>? commands = null)
        {
            Controller.TryGetTrial(trialId, out var trial);
            return Controller.OnResult(trialId, trial.Attempt, At(iteration, value), commands ?? []);
        }
    }

    private static string[] Ids<T>(IEnumerable<ExperimentCommand> commands)
        where T : ExperimentCommand =>
        [.. commands.OfType<T>().Select(c => c switch { StartTrial s => s.TrialId, ResumeTrial r => r.TrialId, StopTrial s => s.TrialId, ReopenTrial o => o.TrialId, RestoreTrial r => r.TrialId, _ => "" })];

    [Fact]
    public void Fill_StartsUpToMaxConcurrent_AndEndsTheExperimentWhenTheSearcherIsExhausted()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 3, concurrent: 2));
        h.Controller.Start();

        Assert.Equal(["t00001", "t00002"], Ids<StartTrial>(h.Controller.Fill()));
        Assert.Equal(2, h.Controller.Live);
        Assert.Empty(h.Controller.Fill());

        Assert.True(h.Controller.OnTrialStarted("t00001", "w1", 1));
        Assert.Equal(TrialStatus.Running, h.Controller.Trials[0].Status);
        Assert.Equal(SchedulerAction.Continue, h.Report("t00001", 1, 5.0));
        Assert.Equal(["t00003"], Ids<StartTrial>(h.Controller.OnTrialEnded("t00001", TrialStatus.Terminated, null)));
        Assert.Empty(h.Controller.OnTrialEnded("t00002", TrialStatus.Terminated, null));
        var last = h.Controller.OnTrialEnded("t00003", TrialStatus.Error, "boom");

        Assert.Equal(new EndExperiment(ExperimentStatus.Completed, null), Assert.Single(last));
        Assert.Equal("t00001", h.Controller.Best()!.TrialId);
        Assert.Equal(2, h.Controller.Counts[TrialStatus.Terminated]);
        Assert.Equal(1, h.Controller.Counts[TrialStatus.Error]);
    }

    [Fact]
    public void AshaPromotion_PausesAtTheRung_ResumesTheBest_AndEndsTheRestWhenNothingIsLeft()
    {
        var h = new Harness(Spec("{ algorithm: asha_promotion, max_t: 3, grace_period: 1, reduction_factor: 3 }", samples: 3, concurrent: 1));
        var c = h.Controller;
        c.Start();
        Assert.Equal(["t00001"], Ids<StartTrial>(c.Fill()));

        // Each arrives at rung 1 and pauses (the top third of fewer than three is nobody); its slot takes the next new trial.
        Assert.Equal(SchedulerAction.Pause, h.Report("t00001", 1, 5.0));
        Assert.Equal("pause", c.Trials[0].LastDecision!.Action);
        Assert.Equal(["t00002"], Ids<StartTrial>(c.OnTrialPaused("t00001")));
        Assert.Equal(SchedulerAction.Pause, h.Report("t00002", 1, 1.0));
        Assert.Equal(["t00003"], Ids<StartTrial>(c.OnTrialPaused("t00002")));
        Assert.Equal(SchedulerAction.Pause, h.Report("t00003", 1, 3.0));

        // Three at rung 1: the best (t00002) is promoted into the free slot, from its own checkpoint.
        var resumed = c.OnTrialPaused("t00003");
        Assert.Equal([new ResumeTrial("t00002")], resumed);
        Assert.Equal(TrialStatus.Pending, c.Trials[1].Status);
        Assert.Equal("resume", c.Trials[1].LastDecision!.Action);
        Assert.Equal(["t00001", "t00003"], c.Paused.Order(StringComparer.Ordinal));

        // It reaches max_t and ends; nothing is left that would resume the others: they end too, and so does the experiment.
        Assert.Equal(SchedulerAction.Continue, h.Report("t00002", 2, 0.8));
        Assert.Equal(SchedulerAction.Stop, h.Report("t00002", 3, 0.5));
        var end = c.OnTrialEnded("t00002", TrialStatus.Terminated, null);

        Assert.Equal(["t00001", "t00003"], Ids<StopTrial>(end).Order(StringComparer.Ordinal));
        Assert.Equal(new EndExperiment(ExperimentStatus.Completed, null), end[^1]);
        Assert.All(c.Trials, t => Assert.Equal(TrialStatus.Terminated, t.Status));
        Assert.Equal(0, c.Live);
        Assert.Equal("t00002", c.Best()!.TrialId);
    }

    [Fact]
    public void AFailedRun_IsRetriedAsANewAttempt_AndReportsOfTheOldRunAreRefused()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 1, concurrent: 1, "failure: { max_failures: 2 }"));
        var c = h.Controller;
        c.Start();
        c.Fill();
        c.OnTrialStarted("t00001", "w1", 1);
        h.Report("t00001", 1, 4.0);
        h.Report("t00001", 2, 3.0);

        c.OnTrialRetrying("t00001", failures: 1, "worker lost", attempt: 2);
        var trial = c.Trials[0];
        Assert.Equal((TrialStatus.Pending, 2, 1), (trial.Status, trial.Attempt, trial.Failures));
        Assert.Equal("retrying after failure 1: worker lost", trial.Reason);
        Assert.Contains("\"event\":\"attempt\",\"trial\":\"t00001\",\"attempt\":2,\"failures\":1", h.Journal.ToString(), StringComparison.Ordinal);

        // The lost run reports late: refused, not recorded. The new run replays iteration 2 (dropped) and goes on.
        Assert.Equal(SchedulerAction.Stop, c.OnResult("t00001", 1, At(3, 0.1), []));
        Assert.Equal(2, trial.Iteration);
        Assert.Equal(SchedulerAction.Continue, c.OnResult("t00001", 2, At(2, 9.9), []));
        Assert.Equal(3.0, trial.LastMetric);
        Assert.Equal(SchedulerAction.Continue, c.OnResult("t00001", 2, At(3, 2.0), []));
        Assert.Equal((3L, 2.0, 3L), (trial.Iteration, trial.LastMetric!.Value, c.ResultsRecorded));
    }

    [Fact]
    public void AMissingMetric_FailsTheExperimentAsASpecError()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 2, concurrent: 2));
        h.Controller.Start();
        h.Controller.Fill();
        var commands = new List<ExperimentCommand>();

        var action = h.Controller.OnResult("t00001", 1, new TrialResult(1, 1, 0, new Dictionary<string, double> { ["loss"] = 1 }), commands);

        Assert.Equal(SchedulerAction.Stop, action);
        Assert.True(h.Controller.IsSpecError);
        var end = Assert.IsType<EndExperiment>(Assert.Single(commands));
        Assert.Equal(ExperimentStatus.Failed, end.Status);
        Assert.Equal("metric: trial t00001 reported loss but not 'value', the experiment's metric", end.Reason);
    }

    [Fact]
    public void AUsersStop_InterruptsTheTrials_AndAResumeContinuesThemBeforeNewOnes()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 4, concurrent: 2));
        var c = h.Controller;
        c.Start();
        c.Fill();
        c.OnTrialStarted("t00001", "w1", 1);
        h.Report("t00001", 1, 4.0);

        var stops = c.BeginEnd(ExperimentStatus.Stopped, "stopped by the user")!;
        Assert.Equal(["t00001", "t00002"], Ids<StopTrial>(stops));
        Assert.Null(c.BeginEnd(ExperimentStatus.Completed, null));
        Assert.Equal(SchedulerAction.Stop, h.Report("t00001", 2, 3.0));
        Assert.Empty(c.OnTrialEnded("t00001", TrialStatus.Terminated, "stopped by the user"));
        Assert.False(c.AllEnded);
        c.OnTrialEnded("t00002", TrialStatus.Terminated, "stopped by the user");
        Assert.True(c.AllEnded);
        Assert.Empty(c.FinishEnd());
        Assert.Equal((ExperimentStatus.Stopped, "stopped by the user"), (c.Status, c.StatusReason));
        Assert.Contains("\"event\":\"interrupted\",\"trials\":[\"t00001\",\"t00002\"],\"paused\":[]", h.Journal.ToString(), StringComparison.Ordinal);

        var resumed = c.Resume();

        Assert.Equal(["t00001", "t00002"], Ids<ReopenTrial>(resumed));
        Assert.Equal(["t00001", "t00002"], Ids<ResumeTrial>(resumed));
        Assert.Empty(Ids<StartTrial>(resumed));
        Assert.Equal((ExperimentStatus.Running, 2), (c.Status, c.Live));
        Assert.All(c.Trials, t => Assert.Equal(TrialStatus.Pending, t.Status));

        // The searcher went on where it was: the next new trial is the third.
        Assert.Equal(["t00003"], Ids<StartTrial>(c.OnTrialEnded("t00001", TrialStatus.Terminated, null)));
    }

    [Fact]
    public void TheEnd_StopsWhatRuns_EndsThePaused_RecordsTheSilentAsStopped_AndAllErrorsFail()
    {
        var h = new Harness(Spec("{ algorithm: asha_promotion, max_t: 9, grace_period: 1, reduction_factor: 3 }", samples: 3, concurrent: 1));
        var c = h.Controller;
        c.Start();
        c.Fill();
        h.Report("t00001", 1, 5.0);
        c.OnTrialPaused("t00001");

        Assert.Equal(["t00002"], Ids<StopTrial>(c.BeginEnd(ExperimentStatus.Completed, "time_budget_s of 5 s reached")!));

        // t00002 never answers within the grace period; t00001 is paused and ends here.
        Assert.Equal(["t00001"], Ids<StopTrial>(c.FinishEnd()));
        Assert.Equal(TrialStatus.Terminated, c.Trials[1].Status);
        Assert.Equal((ExperimentStatus.Completed, 0), (c.Status, c.Live));

        var failing = new Harness(Spec("{ algorithm: fifo }", samples: 1, concurrent: 1));
        failing.Controller.Fill();
        failing.Controller.OnTrialEnded("t00001", TrialStatus.Error, "boom");
        failing.Controller.BeginEnd(ExperimentStatus.Completed, null);
        failing.Controller.FinishEnd();
        Assert.Equal((ExperimentStatus.Failed, "every trial ended in ERROR"), (failing.Controller.Status, failing.Controller.StatusReason));
    }

    [Fact]
    public void TheUsersStopOfOneTrial_IsADecision_AndAPausedTrialEndsAtOnce()
    {
        var h = new Harness(Spec("{ algorithm: asha_promotion, max_t: 9, grace_period: 1, reduction_factor: 3 }", samples: 3, concurrent: 1));
        var c = h.Controller;
        c.Fill();
        h.Report("t00001", 1, 5.0);
        c.OnTrialPaused("t00001");

        Assert.Equal([new StopTrial("t00002", "not needed")], c.StopTrial("t00002", "not needed"));
        Assert.Equal((TrialStatus.Pending, "not needed"), (c.Trials[1].Status, c.Trials[1].Reason));

        var paused = c.StopTrial("t00001", "enough");
        Assert.Equal(new StopTrial("t00001", "enough"), paused[0]);
        Assert.Equal((TrialStatus.Terminated, "enough"), (c.Trials[0].Status, c.Trials[0].Reason));
        Assert.Empty(c.StopTrial("t00001", "again"));
    }

    [Fact]
    public void ARestore_ReplaysTheJournal_IntoTheSameTable_AndRequeuesWhatRan()
    {
        var h = new Harness(Spec("{ algorithm: asha_promotion, max_t: 9, grace_period: 1, reduction_factor: 3 }", samples: 6, concurrent: 2));
        var c = h.Controller;
        c.Start();
        c.Fill();
        c.OnTrialStarted("t00001", "w1", 1);
        c.OnTrialStarted("t00002", "w2", 1);
        h.Report("t00001", 1, 5.0);
        c.OnTrialPaused("t00001");
        h.Report("t00002", 1, 1.0);
        c.OnTrialPaused("t00002");
        c.OnTrialStarted("t00003", "w1", 1);
        Assert.Equal(SchedulerAction.Continue, h.Report("t00003", 1, 0.5));
        c.OnTrialRetrying("t00004", 1, "worker lost", 2);

        // The process dies here: the journal is all that is left.
        var listener = new JournalListener(new StringWriter());
        var replay = ExperimentReplay.Run(h.Spec, h.Lines(), listener, new StepClock(T0.AddHours(1)), new StringWriter());
        var r = replay.Controller;

        Assert.Equal(h.Listener.Events.Select(Line), listener.Replayed.Select(Line));
        Assert.Equal(Table(c), Table(r));
        Assert.Equal(c.NextPosition, r.NextPosition);
        Assert.Equal(5.0, replay.ResultAt("t00001", 1)!.Metrics["value"]);
        Assert.Equal((2, 1), (r.Trials[3].Attempt, r.Trials[3].Failures));

        // The paused stay paused; the rest go back to the queue from their checkpoints; the searcher and scheduler go on.
        var (commands, requeued) = r.RecoverRunning(t => t.TrialId == "t00003" ? 1 : null);
        Assert.Equal(2, requeued);
        Assert.Equal([new RestoreTrial("t00001", true), new RestoreTrial("t00002", true), new RestoreTrial("t00003", false), new RestoreTrial("t00004", false)], commands.OfType<RestoreTrial>());
        Assert.Equal("requeued after a restart; resumes from its checkpoint at iteration 1", r.Trials[2].Reason);
        Assert.Equal(2, r.Live);
        Assert.Equal(2, r.NextAttempt("t00003"));
        Assert.Equal(SchedulerAction.Stop, r.OnResult("t00003", 1, At(2, 0.4), []));
        Assert.Equal(SchedulerAction.Continue, r.OnResult("t00003", 2, At(2, 0.4), []));
        Assert.Equal(2, r.Trials[2].Iteration);
    }

    [Fact]
    public void ARestore_CreatesTheTrialWhoseSuggestionWasJournaledButNotItsCreation()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 4, concurrent: 2));
        var c = h.Controller;
        c.Start();
        Assert.Equal(["t00001", "t00002"], Ids<StartTrial>(c.Fill()));
        var config = c.Trials[1].Config;

        // Killed between the searcher's suggest line for t00002 and the line creating it: the journal ends after the suggestion.
        var lines = h.Journal.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var created = lines.FindLastIndex(l => l.Contains("\"TrialCreated\"", StringComparison.Ordinal) && l.Contains("t00002", StringComparison.Ordinal));
        Assert.Contains("\"suggest\"", lines[created - 1], StringComparison.Ordinal);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, string.Join('\n', lines.Take(created)) + "\n", new UTF8Encoding(false));
            var replay = ExperimentReplay.Run(h.Spec, ExperimentJournal.Read(path), new JournalListener(new StringWriter()), new StepClock(T0.AddHours(1)), new StringWriter());
            var r = replay.Controller;
            Assert.Single(r.Trials);

            // t00002 is created with the config the searcher gave it; the searcher goes on with t00003.
            var (commands, _) = r.RecoverRunning(_ => null);
            Assert.Equal([new RestoreTrial("t00001", false)], commands.OfType<RestoreTrial>());
            Assert.Equal(["t00002"], Ids<StartTrial>(commands));
            Assert.Equal(config.ToString(), r.Trials[1].Config.ToString());
            r.OnTrialEnded("t00001", TrialStatus.Terminated, null);
            r.OnTrialEnded("t00002", TrialStatus.Terminated, null);
            r.OnTrialEnded("t00003", TrialStatus.Terminated, null);
            Assert.Single(r.OnTrialEnded("t00004", TrialStatus.Terminated, null).OfType<EndExperiment>());
            Assert.Equal(4, r.Trials.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void PlateauStoppers_StopATrialAndEndTheExperiment_WithTheirReasons_AndARestoreRebuildsThem()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 4, concurrent: 2, "stop:\n  trial_plateau: { num_results: 2, grace_period: 2, std: 0.01 }\n  experiment_plateau: { top: 3, std: 0.05 }"));
        var c = h.Controller;
        c.Start();
        c.Fill();
        Assert.False(c.AnswersOnlyContinue);
        Assert.False(c.CanSnapshot);

        // t00001 flattens: stopped by trial_plateau, the reason recorded as its decision.
        Assert.Equal(SchedulerAction.Continue, h.Report("t00001", 1, 5.0));
        Assert.Equal(SchedulerAction.Stop, h.Report("t00001", 2, 5.001));
        Assert.StartsWith("trial_plateau: value's last 2 results", c.Trials[0].LastDecision!.Reason, StringComparison.Ordinal);
        Assert.Equal(["t00003"], Ids<StartTrial>(c.OnTrialEnded("t00001", TrialStatus.Terminated, null)));
        Assert.StartsWith("trial_plateau", c.Trials[0].Reason, StringComparison.Ordinal);

        // The top three of every result so far are 5.001, 5.0 and 4.0: std 0.47. Two more near 1 and the top three agree.
        Assert.Equal(SchedulerAction.Continue, h.Report("t00002", 1, 4.0));
        Assert.Equal(SchedulerAction.Continue, h.Report("t00003", 1, 1.0));
        Assert.Equal(SchedulerAction.Continue, h.Report("t00002", 2, 1.05));
        var commands = new List<ExperimentCommand>();
        Assert.Equal(SchedulerAction.Stop, h.Report("t00003", 2, 0.98, commands));
        var end = Assert.IsType<EndExperiment>(Assert.Single(commands));
        Assert.Equal(ExperimentStatus.Completed, end.Status);
        Assert.StartsWith("experiment_plateau: the top 3 values of value have std ", end.Reason, StringComparison.Ordinal);
        Assert.Equal(end.Reason, c.Trials[2].LastDecision!.Reason);

        // A restore replays the results into the rules: the next result ends the experiment again, for the same reason.
        var r = ExperimentReplay.Run(h.Spec, h.Lines(), new JournalListener(new StringWriter()), new StepClock(T0.AddHours(1)), new StringWriter()).Controller;
        var again = new List<ExperimentCommand>();
        r.RecoverRunning(_ => null);
        Assert.Equal(2, r.NextAttempt("t00002"));
        Assert.Equal(SchedulerAction.Stop, r.OnResult("t00002", 2, At(3, 1.02), again));
        Assert.StartsWith("experiment_plateau: the top 3 values of value have std ", Assert.IsType<EndExperiment>(Assert.Single(again)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ARestoredStoppedExperiment_StaysStopped_WithItsInterruptedTrialsPaused()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 3, concurrent: 2));
        var c = h.Controller;
        c.Start();
        c.Fill();
        c.BeginEnd(ExperimentStatus.Stopped, "stopped by the user");
        c.OnTrialEnded("t00001", TrialStatus.Terminated, null);
        c.OnTrialEnded("t00002", TrialStatus.Terminated, null);
        c.FinishEnd();

        var r = ExperimentReplay.Run(h.Spec, h.Lines(), new JournalListener(new StringWriter()), TimeProvider.System, new StringWriter()).Controller;

        Assert.Equal(ExperimentStatus.Stopped, r.Status);
        Assert.Equal([new RestoreTrial("t00001", true), new RestoreTrial("t00002", true)], r.RecoverEnded());
        Assert.True(r.IsFinishing);
        Assert.Equal(["t00001", "t00002"], Ids<ResumeTrial>(r.Resume()));
    }

    [Fact]
    public void AnEventForATrialNeverCreated_IsRefusedByTheReplay()
    {
        var h = new Harness(Spec("{ algorithm: fifo }", samples: 1, concurrent: 1));
        var c = new ExperimentController(h.Spec, null, null, new JournalListener(new StringWriter()), TimeProvider.System, T0);

        var ex = Assert.Throws<InvalidDataException>(() => c.Replay(new ExperimentEvent(7, T0, ExperimentEventKind.Result, "t00009", Result: At(1, 1))));

        Assert.Equal("journal event 7 names trial t00009, which was never created", ex.Message);
    }

    private static string Line(ExperimentEvent e)
    {
        var text = new StringWriter();
        ExperimentJournal.WriteEvent(text, e);
        return text.ToString();
    }

    /// <summary>Everything the trial table holds, one line a trial, and the experiment's status and counts.</summary>
    private static string Table(ExperimentController c) =>
        $"{c.Status} {c.StatusReason} {c.EndedAt} {c.ResultsRecorded} {string.Join(',', c.Counts.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))}\n"
        + string.Join('\n', c.Trials.Select(t =>
            $"{t.TrialId} {t.Index} {t.Status} {t.Iteration} {t.Attempt} {t.Failures} {t.LastMetric} {t.LastResult?.TrainingIteration} {t.Reason} {t.Diagnosis} "
            + $"{SpecWriter.ToJson(new ExperimentSpec { Name = "c", Trainable = "noop", Metric = "value", Params = t.Config })} [{string.Join("; ", t.Decisions ?? [])}]"));
}
