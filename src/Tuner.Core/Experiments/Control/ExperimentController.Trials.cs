using Tuner.Core.Schedulers;
using Tuner.Core.Space;

namespace Tuner.Core.Experiments.Control;

// What happens to trials now: filling slots, results and decisions, runs that start, pause, fail and end.
public sealed partial class ExperimentController
{
    // ---- Live: what happens now ----

    /// <summary>The experiment starts (its first event).</summary>
    public void Start() => Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: "started");

    /// <summary>
    /// Fills free slots as the scheduler chooses: paused trials it resumes, new trials from the searcher.
    /// Paused trials it will never resume are ended. Ends the experiment when nothing is left to run.
    /// </summary>
    public IReadOnlyList<ExperimentCommand> Fill()
    {
        var commands = new List<ExperimentCommand>();
        if (IsFinishing)
        {
            return commands;
        }

        var searcher = _searcher!;
        var scheduler = _scheduler!;

        // Set once nothing runs and nothing starts (a concurrency limit may hold the searcher back
        // while trials are paused): the scheduler then settles as if no more trials will come.
        var closed = false;
        while (true)
        {
            var state = new SchedulerState(_paused.ToArray(), Live, !closed && !searcher.IsExhausted);
            var ended = false;
            foreach (var stop in scheduler.PausedToStop(state))
            {
                ended |= EndPaused(stop.TrialId, stop.Reason, commands);
            }

            if (ended)
            {
                continue;
            }

            if (Live >= Spec.MaxConcurrent)
            {
                break;
            }

            if (_resuming.TryDequeue(out var interrupted))
            {
                Resume(OpenTrial(interrupted), SchedulerChoice.Resume(interrupted, "resumed with the experiment"), commands);
                continue;
            }

            var choice = scheduler.ChooseTrialToRun(state);
            if (choice.Kind == ChoiceKind.Resume && choice.TrialId is { } resumed && _paused.Contains(resumed))
            {
                Resume(OpenTrial(resumed), choice, commands);
                continue;
            }

            if (choice.Kind == ChoiceKind.StartNew && TryStartNew(commands))
            {
                continue;
            }

            if (Live == 0 && _paused.Count > 0)
            {
                if (!closed)
                {
                    closed = true;
                    continue;
                }

                // Nothing runs and the scheduler resumes nothing: the paused trials are done.
                foreach (var trialId in _paused.ToArray())
                {
                    EndPaused(trialId, $"{Spec.Scheduler.Algorithm}: paused, and nothing is left that would resume it", commands);
                }

                closed = false;
                continue;
            }

            break;
        }

        if (Live == 0 && _paused.Count == 0 && _resuming.Count == 0 && searcher.IsExhausted)
        {
            commands.Add(new EndExperiment(ExperimentStatus.Completed, null));
        }

        return commands;
    }

    /// <summary>Creates a trial with the searcher's next config, or returns false when the searcher has none now.</summary>
    private bool TryStartNew(List<ExperimentCommand> commands)
    {
        var trialId = TrialTable.IdOf(_table.Count + 1);
        if (!_searcher!.TrySuggest(trialId, out var config))
        {
            return false;
        }

        Raise(ExperimentEventKind.TrialCreated, trialId, TrialStatus.Pending, config: config);
        Live++;
        _scheduler!.OnTrialAdd(trialId, config);
        commands.Add(new StartTrial(trialId));
        return true;
    }

    /// <summary>Puts a paused trial back in the queue: from its own checkpoint, or (population-based training) from a copy of another's, which the host makes first.</summary>
    private void Resume(TrialRecord trial, SchedulerChoice choice, List<ExperimentCommand> commands)
    {
        _paused.Remove(trial.TrialId);
        Live++;
        SetStatus(trial, TrialStatus.Pending, choice.Reason);
        if (choice.CloneFrom is { } donor && _table.Contains(donor))
        {
            commands.Add(new ResumeTrial(trial.TrialId, donor, choice.Config, choice.Reason));
            return;
        }

        Decide(trial, "resume", choice.Reason ?? $"{Spec.Scheduler.Algorithm}: resumed");
        commands.Add(new ResumeTrial(trial.TrialId));
    }

    /// <summary>
    /// The host copied the donor's checkpoint for a <see cref="ResumeTrial"/> (ending at <paramref name="fromIteration"/>), or found none
    /// (null: the trial resumes from its own). Records the new config and the exploit.
    /// </summary>
    public void Exploited(string trialId, long? fromIteration, TrialConfig? config, string? reason)
    {
        var trial = OpenTrial(trialId);
        if (fromIteration is { } iteration)
        {
            if (config is not null)
            {
                Raise(ExperimentEventKind.ConfigChanged, trialId, config: config);
            }

            // The copy's iterations are the donor's: what comes next is recorded from there.
            trial.Iteration = iteration;
        }

        Decide(trial, fromIteration is null ? "resume" : "exploit", reason ?? $"{Spec.Scheduler.Algorithm}: resumed");
    }

    /// <summary>Ends a paused trial (it holds no slot, so it ends here and now).</summary>
    private bool EndPaused(string trialId, string reason, List<ExperimentCommand> commands)
    {
        if (!TryGetOpen(trialId, out var trial) || trial.Status != TrialStatus.Paused)
        {
            return false;
        }

        Decide(trial, "stop", reason);
        RecordEnd(trial, TrialStatus.Terminated, reason);
        commands.Add(new StopTrial(trialId, reason));
        return true;
    }

    /// <summary>A trial's end, whoever ended it: recorded, and told to the scheduler and the searcher.</summary>
    private void RecordEnd(TrialRecord trial, TrialStatus status, string? reason)
    {
        SetStatus(trial, status, reason);
        _paused.Remove(trial.TrialId);
        if (_interrupted?.Contains(trial.TrialId) == true && status == TrialStatus.Terminated)
        {
            // Interrupted by the user's stop: the scheduler and the searcher go on with it if the experiment is resumed.
            return;
        }

        _scheduler!.OnTrialComplete(trial.TrialId);
        _searcher!.OnTrialComplete(trial.TrialId, trial.LastResult?.Metrics, status == TrialStatus.Error);
    }

    /// <summary>The trial gets a new run (after a restore): its attempt number, journaled, so that reports of earlier runs are refused.</summary>
    public int NextAttempt(string trialId)
    {
        // Ended too (a stopped experiment's interrupted trial, restored): brought back for the change, then archived again.
        var trial = Require(trialId, "a new run");
        NewAttempt(trial, trial.Attempt + 1, trial.Failures);
        return trial.Attempt;
    }

    /// <summary>Run <paramref name="attempt"/> of the trial began on <paramref name="workerId"/>; false for a trial this experiment does not have.</summary>
    public bool OnTrialStarted(string trialId, string workerId, int attempt)
    {
        if (!TryGetOpen(trialId, out var trial))
        {
            return false;
        }

        NewAttempt(trial, attempt, trial.Failures);
        trial.Worker = workerId;
        if (trial.Status == TrialStatus.Pending)
        {
            SetStatus(trial, TrialStatus.Running, null);
        }

        return true;
    }

    /// <summary>
    /// Whether every result's answer is "continue" until the experiment ends: the FIFO scheduler and no stop rule that decides on results.
    /// Trials then report ahead, as Ray's trainables do, without waiting for each answer (a stop comes with a later one).
    /// </summary>
    public bool AnswersOnlyContinue => Spec.Scheduler.Algorithm == "fifo" && !_stop.Decides;

    /// <summary>
    /// Records a trial's result and decides, centrally: continue, pause or stop. A result of an ended trial,
    /// or of a run the trial has moved past, is not recorded (stop); one already recorded is dropped.
    /// A trial that does not report the experiment's metric fails the experiment (an <see cref="EndExperiment"/> in <paramref name="commands"/>).
    /// </summary>
    public SchedulerAction OnResult(string trialId, int attempt, TrialResult result, List<ExperimentCommand> commands)
    {
        if (!TryGetOpen(trialId, out var trial) || trial.Status.IsFinal() || attempt < trial.Attempt)
        {
            // Ended, or a run the trial has moved past (its worker lost the lease, or it ran before a restart): not recorded.
            return SchedulerAction.Stop;
        }

        if (result.TrainingIteration <= trial.Iteration)
        {
            // Replayed by a retry that restarted from an earlier checkpoint (or from scratch): already recorded.
            return IsFinishing ? SchedulerAction.Stop : SchedulerAction.Continue;
        }

        if (trial.Status == TrialStatus.Pending)
        {
            SetStatus(trial, TrialStatus.Running, null);
        }

        Raise(ExperimentEventKind.Result, trialId, result: result);
        if (trial.LastMetric is null || (Spec.IsMultiObjective && Spec.MoreObjectives.FirstOrDefault(o => result.GetMetric(o.Metric) is null) is not null))
        {
            // Ray fails fast here too: a metric that is not reported makes every decision meaningless.
            var reported = string.Join(", ", result.Metrics.Keys);
            var missing = Spec.Objectives.Where(o => result.GetMetric(o.Metric) is null).Select(o => $"'{o.Metric}'");
            var message = $"metric: trial {trialId} reported {(reported.Length == 0 ? "no metrics" : reported)} but not {string.Join(" or ", missing)}, {(Spec.IsMultiObjective ? "among the experiment's objectives" : "the experiment's metric")}";
            IsSpecError = true;
            trial.Reason = message;
            if (!IsFinishing)
            {
                commands.Add(new EndExperiment(ExperimentStatus.Failed, message));
            }

            return SchedulerAction.Stop;
        }

        _searcher!.OnTrialResult(trialId, result);
        if (IsFinishing)
        {
            return SchedulerAction.Stop;
        }

        if (_stop.ShouldEndExperiment() is { } plateau)
        {
            // Every trial stops with the experiment; this one now, with the reason.
            Decide(trial, "stop", plateau);
            commands.Add(new EndExperiment(ExperimentStatus.Completed, plateau));
            return SchedulerAction.Stop;
        }

        if (_stop.ShouldStop(trialId, result) is { } stopReason)
        {
            Decide(trial, "stop", stopReason);
            return SchedulerAction.Stop;
        }

        var decision = _scheduler!.OnResult(trialId, result);
        if (decision.Action != SchedulerAction.Continue)
        {
            Decide(trial, decision.Action == SchedulerAction.Pause ? "pause" : "stop", decision.Reason ?? Spec.Scheduler.Algorithm);
        }

        return decision.Action;
    }

    /// <summary>A trial failed (or was handed back) and runs again as <paramref name="attempt"/>, from its last checkpoint.</summary>
    public void OnTrialRetrying(string trialId, int failures, string error, int attempt)
    {
        if (TryGetOpen(trialId, out var trial) && !trial.Status.IsFinal())
        {
            NewAttempt(trial, attempt, failures);
            SetStatus(trial, TrialStatus.Pending, $"retrying after failure {failures}: {error}");
        }
    }

    /// <summary>A trial paused on the scheduler's decision (its slot is about to be free); while the experiment ends, a pause is an end.</summary>
    public IReadOnlyList<ExperimentCommand> OnTrialPaused(string trialId)
    {
        if (!TryGetOpen(trialId, out var trial) || trial.Status.IsFinal() || trial.Status == TrialStatus.Paused)
        {
            return [];
        }

        Live--;
        if (IsFinishing)
        {
            RecordEnd(trial, TrialStatus.Terminated, trial.Reason ?? _endReason ?? "experiment ended");
            return [];
        }

        SetStatus(trial, TrialStatus.Paused, null);
        _paused.Add(trialId);
        return Fill();
    }

    /// <summary>A trial reached TERMINATED or ERROR on its worker.</summary>
    public IReadOnlyList<ExperimentCommand> OnTrialEnded(string trialId, TrialStatus status, string? reason)
    {
        if (!TryGetOpen(trialId, out var trial) || trial.Status.IsFinal())
        {
            return [];
        }

        Live--;
        RecordEnd(trial, status, reason ?? trial.Reason);
        return IsFinishing ? [] : Fill();
    }

    /// <summary>The user stops one trial (a decision); an ended one, or any while the experiment ends, is left as it is.</summary>
    public IReadOnlyList<ExperimentCommand> StopTrial(string trialId, string reason)
    {
        if (!TryGetOpen(trialId, out var trial) || trial.Status.IsFinal() || IsFinishing)
        {
            // Ended (archived, or ending now), or the experiment is ending: left as it is.
            return [];
        }

        Decide(trial, "stop", reason);
        if (trial.Status != TrialStatus.Paused)
        {
            return [new StopTrial(trialId, reason)];
        }

        RecordEnd(trial, TrialStatus.Terminated, reason);
        return [new StopTrial(trialId, reason), .. Fill()];
    }
}
