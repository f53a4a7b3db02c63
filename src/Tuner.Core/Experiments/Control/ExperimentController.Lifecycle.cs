using Tuner.Core.Schedulers;
using Tuner.Core.Search;

namespace Tuner.Core.Experiments.Control;

// The experiment's end, its resume after a user's stop, and its recovery after a journal's replay.
public sealed partial class ExperimentController
{
    /// <summary>
    /// The experiment ends: no new trials; the trials that run are to be stopped (the commands). A user's
    /// stop (<see cref="ExperimentStatus.Stopped"/>) keeps the interrupted trials for a resume. Null when it is ending already.
    /// </summary>
    public IReadOnlyList<ExperimentCommand>? BeginEnd(ExperimentStatus status, string? reason)
    {
        if (IsFinishing)
        {
            return null;
        }

        IsFinishing = true;
        _ending = status;
        _endReason = reason;
        _resuming.Clear();
        if (status == ExperimentStatus.Stopped)
        {
            _interrupted = _open.Select(t => t.TrialId).ToHashSet(StringComparer.Ordinal);
            _interruptedPaused = _paused.ToHashSet(StringComparer.Ordinal);
            _listener.OnInterrupted([.. _interrupted.Order(StringComparer.Ordinal)], [.. _interruptedPaused.Order(StringComparer.Ordinal)]);
        }

        return Live == 0
            ? []
            : OpenInOrder().Where(t => t.Status != TrialStatus.Paused).Select(t => (ExperimentCommand)new StopTrial(t.TrialId, reason ?? "experiment ended")).ToList();
    }

    /// <summary>
    /// After <see cref="BeginEnd"/> and the grace period for the stopped trials: paused trials end (the commands), trials that did
    /// not answer are recorded as stopped, and the experiment's end is applied (an experiment whose every trial failed has failed).
    /// </summary>
    public IReadOnlyList<ExperimentCommand> FinishEnd()
    {
        var commands = new List<ExperimentCommand>();
        var reason = _endReason ?? "experiment ended";
        foreach (var trialId in _paused.ToArray())
        {
            EndPaused(trialId, reason, commands);
        }

        foreach (var trial in OpenInOrder().ToList())
        {
            // No answer within the grace period: recorded as stopped; late reports are ignored.
            SetStatus(trial, TrialStatus.Terminated, trial.Reason ?? reason);
            Live--;
        }

        var status = _ending;
        if (status == ExperimentStatus.Completed && _table.Count > 0 && _counts.GetValueOrDefault(TrialStatus.Terminated) == 0)
        {
            status = ExperimentStatus.Failed;
            _endReason ??= "every trial ended in ERROR";
        }

        Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: status, message: _endReason);
        return commands;
    }

    /// <summary>The end's files could not be written: the experiment failed (after its end was journaled, so not an event).</summary>
    public void FailedToWrite(string reason)
    {
        Status = ExperimentStatus.Failed;
        StatusReason = reason;
    }

    /// <summary>
    /// A stopped experiment goes on: the trials the stop interrupted are PAUSED again (the host reopens their grains); those the
    /// scheduler had paused wait for it, the others resume first. Then free slots are filled.
    /// </summary>
    public IReadOnlyList<ExperimentCommand> Resume()
    {
        if (Status != ExperimentStatus.Stopped)
        {
            throw new InvalidOperationException($"the experiment is {Status.ToWire()}; only a stopped experiment can be resumed");
        }

        IsFinishing = false;
        _endReason = null;
        var commands = new List<ExperimentCommand>();
        // Ended when the stop interrupted them: brought back from the archive.
        var interrupted = (_interrupted ?? []).Select(id => Require(id, "the resume")).OrderBy(t => t.Index).ToList();
        foreach (var trial in interrupted)
        {
            commands.Add(new ReopenTrial(trial.TrialId));
        }

        Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: "resumed");
        foreach (var trial in interrupted)
        {
            trial.Reason = null;
            SetStatus(trial, TrialStatus.Paused, "the experiment was stopped; resumes with it");
            if (_interruptedPaused.Contains(trial.TrialId))
            {
                // Paused by the scheduler before the stop: the scheduler resumes it when it chooses.
                _paused.Add(trial.TrialId);
            }
            else
            {
                _resuming.Enqueue(trial.TrialId);
            }
        }

        _interrupted = null;
        _interruptedPaused = new HashSet<string>(StringComparer.Ordinal);
        commands.AddRange(Fill());
        return commands;
    }

    /// <summary>
    /// A completed experiment goes on to the larger <c>samples</c> its spec now has (the journal's <c>extended</c> line, replayed
    /// with the searcher and the scheduler): running again, the searcher continuing from where it stopped, free slots filled.
    /// </summary>
    public IReadOnlyList<ExperimentCommand> Extend()
    {
        if (Status != ExperimentStatus.Completed)
        {
            throw new InvalidOperationException($"the experiment is {Status.ToWire()}; only a completed experiment can be extended");
        }

        IsFinishing = false;
        _endReason = null;
        _interrupted = null;
        Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: $"extended to {Spec.Samples} samples");
        return Fill();
    }

    // ---- Restore: after the journal's replay ----

    /// <summary>The searcher and the scheduler, restored from the same journal once its events are replayed.</summary>
    public void Attach(ISearcher searcher, ITrialScheduler scheduler)
    {
        _searcher = searcher;
        _scheduler = scheduler;
    }

    /// <summary>
    /// The replayed experiment had ended: it stays so (finishing), a stopped one with its interrupted trials
    /// paused for a resume (the commands), a completed or failed one only to be read.
    /// </summary>
    public IReadOnlyList<ExperimentCommand> RecoverEnded()
    {
        IsFinishing = true;
        if (Status != ExperimentStatus.Stopped)
        {
            _interrupted = null;
            return [];
        }

        return (_interrupted ?? []).Select(id => (ExperimentCommand)new RestoreTrial(id, Paused: true)).ToList();
    }

    /// <summary>
    /// The replayed experiment was running when its process died: trials stopped by a decision whose end the journal missed end now,
    /// paused ones stay paused, the rest go back to the queue from their latest checkpoint (<paramref name="checkpointAt"/> gives its
    /// iteration, or null for none). Then free slots are filled. Returns the commands and how many trials were requeued.
    /// </summary>
    public (IReadOnlyList<ExperimentCommand> Commands, int Requeued) RecoverRunning(Func<TrialRecord, long?> checkpointAt)
    {
        // Interrupted by a stop that a resume (or the kill, before the stop was through) has overtaken.
        _interrupted = null;
        _interruptedPaused = new HashSet<string>(StringComparer.Ordinal);
        var commands = new List<ExperimentCommand>();
        var requeued = 0;
        foreach (var trial in OpenInOrder().ToList())
        {
            var lastDecision = trial.LastDecision;
            if (lastDecision?.Action == "stop" && trial.Status != TrialStatus.Paused)
            {
                // Stopped by a decision whose end the journal did not see: it ends now.
                RecordEnd(trial, TrialStatus.Terminated, lastDecision.Reason);
                continue;
            }

            if (trial.Status == TrialStatus.Paused || lastDecision?.Action == "pause")
            {
                SetStatus(trial, TrialStatus.Paused, null);
                _paused.Add(trial.TrialId);
                commands.Add(new RestoreTrial(trial.TrialId, Paused: true));
                continue;
            }

            var from = checkpointAt(trial);
            SetStatus(trial, TrialStatus.Pending, $"requeued after a restart; resumes from {(from is { } iteration ? $"its checkpoint at iteration {iteration}" : "the start")}");
            Live++;
            requeued++;
            commands.Add(new RestoreTrial(trial.TrialId, Paused: false));
        }

        // Killed between journaling the searcher's suggestion and the trial's creation: the trial is created now, with that config
        // (the searcher has moved past it, so without this its config would never run).
        if (_searcher is SearcherJournal { LastSuggestion: { } suggested } && TrialTable.IndexOf(suggested.TrialId) == _table.Count + 1)
        {
            Raise(ExperimentEventKind.TrialCreated, suggested.TrialId, TrialStatus.Pending, config: suggested.Config);
            Live++;
            requeued++;
            _scheduler!.OnTrialAdd(suggested.TrialId, suggested.Config);
            commands.Add(new StartTrial(suggested.TrialId));
        }

        Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: $"restored from its journal: {requeued} trial(s) requeued, {_paused.Count} paused");
        commands.AddRange(Fill());
        return (commands, requeued);
    }

    /// <summary>The open trials in the order they were created.</summary>
    private IEnumerable<TrialRecord> OpenInOrder() => _open.OrderBy(t => t.Index);
}
