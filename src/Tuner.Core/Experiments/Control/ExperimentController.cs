using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;

namespace Tuner.Core.Experiments.Control;

/// <summary>
/// The experiment's logic, Ray's tune controller without the runtime: the trial table, the searcher,
/// the early-stopping scheduler, the stop rules and the experiment's lifecycle. The trial table changes
/// only by applying events (<see cref="Apply"/>), one path for what happens now and for a journal's
/// replay (<see cref="Replay"/>). Each call answers with the commands the host must carry out (start,
/// resume, stop, reopen, restore trials; end the experiment); the host (the experiment grain) owns the
/// timers, the grain references and the files, and hears every change through an
/// <see cref="IExperimentListener"/>. Not thread-safe: one call at a time, as a grain makes them.
/// </summary>
public sealed class ExperimentController
{
    private readonly Dictionary<string, TrialRecord> _trials = new(StringComparer.Ordinal);
    private readonly List<TrialRecord> _ordered = [];
    private readonly Dictionary<TrialStatus, int> _counts = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private readonly Queue<string> _resuming = new();
    private readonly StopCriteria _stop;
    private readonly IExperimentListener _listener;
    private readonly TimeProvider _time;
    private ISearcher? _searcher;
    private ITrialScheduler? _scheduler;

    // Set while the user's stop ends the experiment: the trials it interrupts, to resume if the experiment is.
    private HashSet<string>? _interrupted;
    private HashSet<string> _interruptedPaused = new(StringComparer.Ordinal);

    // While the experiment ends: the status and reason it ends with.
    private ExperimentStatus _ending;
    private string? _endReason;

    public ExperimentController(ExperimentSpec spec, ISearcher? searcher, ITrialScheduler? scheduler, IExperimentListener listener, TimeProvider time, DateTimeOffset startedAt)
    {
        Spec = spec;
        _searcher = searcher;
        _scheduler = scheduler;
        _stop = new StopCriteria(spec);
        _listener = listener;
        _time = time;
        StartedAt = startedAt;
        LastEventTime = startedAt;
    }

    public ExperimentSpec Spec { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Running until the experiment's end event is applied; then how it ended.</summary>
    public ExperimentStatus Status { get; private set; } = ExperimentStatus.Running;

    public string? StatusReason { get; private set; }

    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>The time of the last event applied.</summary>
    public DateTimeOffset LastEventTime { get; private set; }

    /// <summary>The position the next event gets.</summary>
    public long NextPosition { get; private set; } = 1;

    /// <summary>Results recorded, over every trial.</summary>
    public long ResultsRecorded { get; private set; }

    /// <summary>Trials holding (or queued for) a slot: started or resumed, not yet ended or paused.</summary>
    public int Live { get; private set; }

    /// <summary>Set once the experiment ends (or has ended): no trial starts, every report is answered stop.</summary>
    public bool IsFinishing { get; private set; }

    /// <summary>The experiment failed because a trial did not report its metric: invalid input, not a runtime failure.</summary>
    public bool IsSpecError { get; private set; }

    /// <summary>Every trial, in the order they were created.</summary>
    public IReadOnlyList<TrialRecord> Trials => _ordered;

    public IReadOnlyDictionary<TrialStatus, int> Counts => _counts;

    /// <summary>Trials the scheduler paused that wait for it to resume them.</summary>
    public IReadOnlyCollection<string> Paused => _paused;

    /// <summary>A result may settle a rung paused trials wait on: a slot is free for one of them.</summary>
    public bool WantsFill => _paused.Count > 0 && Live < Spec.MaxConcurrent && !IsFinishing;

    /// <summary>Ended and nothing is left to finish: every trial has ended.</summary>
    public bool AllEnded => Live == 0;

    public bool TryGetTrial(string trialId, out TrialRecord trial) => _trials.TryGetValue(trialId, out trial!);

    /// <summary>The trial with the best last metric, or null while none has one.</summary>
    public TrialRecord? Best()
    {
        TrialRecord? best = null;
        foreach (var trial in _ordered)
        {
            if (trial.LastMetric is { } value && !double.IsNaN(value) && (best is null || Spec.IsBetter(value, best.LastMetric!.Value)))
            {
                best = trial;
            }
        }

        return best;
    }

    /// <summary>What <c>experiment.json</c> shows of the experiment now.</summary>
    public ExperimentDocument Document(string experimentId)
    {
        var best = Best();
        return new ExperimentDocument(
            experimentId,
            Spec,
            Status,
            StatusReason,
            StartedAt,
            EndedAt,
            new Dictionary<TrialStatus, int>(_counts),
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            _ordered.Select(t => new TrialSummary(t.TrialId, t.Status, t.Config, t.Iteration, t.Failures, t.LastMetric, t.Reason, t.Diagnosis, t.Decisions)).ToList());
    }

    // ---- Events: the one way the trial table changes ----

    /// <summary>Applies an event read back from the journal: the listener hears it as replayed.</summary>
    public void Replay(ExperimentEvent e)
    {
        _listener.OnEvent(e, Find(e), replayed: true);
        Apply(e);
    }

    /// <summary>Applies a journal's attempt line: run <paramref name="attempt"/> of the trial, after <paramref name="failures"/> failures.</summary>
    public void ReplayAttempt(string trialId, int attempt, int failures)
    {
        var trial = Require(trialId, "attempt");
        trial.Attempt = Math.Max(trial.Attempt, attempt);
        trial.Failures = failures;
    }

    /// <summary>Applies a journal's interrupted line: the trials a user's stop interrupted.</summary>
    public void ReplayInterrupted(IEnumerable<string> trials, IEnumerable<string> paused)
    {
        _interrupted = trials.ToHashSet(StringComparer.Ordinal);
        _interruptedPaused = paused.ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The effect of one event on the trial table and the experiment's status; the same for live events and replayed ones.</summary>
    private void Apply(ExperimentEvent e)
    {
        var trial = e.Kind == ExperimentEventKind.TrialCreated || e.TrialId is null ? null : Require(e.TrialId, $"journal event {e.Position}");
        NextPosition = Math.Max(NextPosition, e.Position + 1);
        LastEventTime = e.Time;
        switch (e.Kind)
        {
            case ExperimentEventKind.TrialCreated:
                var created = new TrialRecord(e.TrialId!, e.Config!, _ordered.Count + 1);
                _trials.Add(created.TrialId, created);
                _ordered.Add(created);
                Count(TrialStatus.Pending, +1);
                break;
            case ExperimentEventKind.TrialStatus:
                var status = e.TrialStatus!.Value;
                Count(trial!.Status, -1);
                Count(status, +1);
                trial.Status = status;
                trial.Reason = e.Message ?? trial.Reason;
                if (status.IsFinal())
                {
                    trial.Diagnosis = trial.Curve is { } curve ? LearningCurveDiagnosis.Diagnose(curve) : null;
                }

                break;
            case ExperimentEventKind.Result:
                var result = e.Result!;
                ResultsRecorded++;
                trial!.Iteration = result.TrainingIteration;
                trial.LastResult = result;
                trial.LastMetric = result.GetMetric(Spec.Metric);
                if (result.GetMetric(LearningCurveDiagnosis.LossMetric) is { } loss && result.GetMetric(LearningCurveDiagnosis.RateMetric) is { } rate)
                {
                    (trial.Curve ??= []).Add((loss, rate));
                }

                break;
            case ExperimentEventKind.Decision:
                (trial!.Decisions ??= []).Add(new TrialDecision(trial.Iteration, e.Action!, e.Message ?? ""));
                if (e.Action is "stop" or "pause")
                {
                    trial.Reason = e.Message;
                }

                break;
            case ExperimentEventKind.ConfigChanged:
                trial!.Config = e.Config!;
                break;
            case ExperimentEventKind.ExperimentStatus:
                Status = e.ExperimentStatus!.Value;
                StatusReason = Status == ExperimentStatus.Running ? null : e.Message;
                EndedAt = Status == ExperimentStatus.Running ? null : e.Time;
                break;
        }
    }

    /// <summary>A new event, heard by the listener and applied.</summary>
    private ExperimentEvent Raise(
        ExperimentEventKind kind,
        string? trialId = null,
        TrialStatus? trialStatus = null,
        TrialResult? result = null,
        TrialConfig? config = null,
        string? action = null,
        string? message = null,
        ExperimentStatus? experimentStatus = null)
    {
        var e = new ExperimentEvent(NextPosition, _time.GetUtcNow(), kind, trialId, trialStatus, result, config, action, message, experimentStatus);
        _listener.OnEvent(e, Find(e), replayed: false);
        Apply(e);
        return e;
    }

    private TrialRecord? Find(ExperimentEvent e) =>
        e.TrialId is { } id && e.Kind != ExperimentEventKind.TrialCreated && _trials.TryGetValue(id, out var trial) ? trial : null;

    private TrialRecord Require(string trialId, string what) =>
        _trials.TryGetValue(trialId, out var trial) ? trial : throw new InvalidDataException($"{what} names trial {trialId}, which was never created");

    private void Count(TrialStatus status, int delta) => _counts[status] = _counts.GetValueOrDefault(status) + delta;

    /// <summary>A trial's state changes, or its reason for the state it has (an event either way, so that a replay sees it too).</summary>
    private void SetStatus(TrialRecord trial, TrialStatus status, string? reason)
    {
        if (trial.Status == status && (reason is null || reason == trial.Reason))
        {
            return;
        }

        Raise(ExperimentEventKind.TrialStatus, trial.TrialId, status, message: reason ?? (status.IsFinal() ? trial.Reason : null));
    }

    private void Decide(TrialRecord trial, string action, string reason) =>
        Raise(ExperimentEventKind.Decision, trial.TrialId, action: action, message: reason);

    /// <summary>The trial's latest run is <paramref name="attempt"/>: reports of earlier runs are refused from now on (journaled, so that a restart goes on past it).</summary>
    private void NewAttempt(TrialRecord trial, int attempt, int failures)
    {
        if (attempt > trial.Attempt)
        {
            _listener.OnAttempt(trial.TrialId, attempt, failures);
        }

        trial.Attempt = Math.Max(trial.Attempt, attempt);
        trial.Failures = failures;
    }

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
                Resume(_trials[interrupted], SchedulerChoice.Resume(interrupted, "resumed with the experiment"), commands);
                continue;
            }

            var choice = scheduler.ChooseTrialToRun(state);
            if (choice.Kind == ChoiceKind.Resume && choice.TrialId is { } resumed && _paused.Contains(resumed))
            {
                Resume(_trials[resumed], choice, commands);
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
        var trialId = $"t{_ordered.Count + 1:D5}";
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
        if (choice.CloneFrom is { } donor && _trials.ContainsKey(donor))
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
        var trial = _trials[trialId];
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
        if (!_trials.TryGetValue(trialId, out var trial) || trial.Status != TrialStatus.Paused)
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
        var trial = _trials[trialId];
        NewAttempt(trial, trial.Attempt + 1, trial.Failures);
        return trial.Attempt;
    }

    /// <summary>Run <paramref name="attempt"/> of the trial began on <paramref name="workerId"/>; false for a trial this experiment does not have.</summary>
    public bool OnTrialStarted(string trialId, string workerId, int attempt)
    {
        if (!_trials.TryGetValue(trialId, out var trial))
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
    /// Records a trial's result and decides, centrally: continue, pause or stop. A result of an ended trial,
    /// or of a run the trial has moved past, is not recorded (stop); one already recorded is dropped.
    /// A trial that does not report the experiment's metric fails the experiment (an <see cref="EndExperiment"/> in <paramref name="commands"/>).
    /// </summary>
    public SchedulerAction OnResult(string trialId, int attempt, TrialResult result, List<ExperimentCommand> commands)
    {
        if (!_trials.TryGetValue(trialId, out var trial) || trial.Status.IsFinal() || attempt < trial.Attempt)
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
        if (trial.LastMetric is null)
        {
            // Ray fails fast here too: a metric that is not reported makes every decision meaningless.
            var reported = string.Join(", ", result.Metrics.Keys);
            var message = $"metric: trial {trialId} reported {(reported.Length == 0 ? "no metrics" : reported)} but not '{Spec.Metric}', the experiment's metric";
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

        if (_stop.ShouldStop(result) is { } stopReason)
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
        if (_trials.TryGetValue(trialId, out var trial))
        {
            NewAttempt(trial, attempt, failures);
            SetStatus(trial, TrialStatus.Pending, $"retrying after failure {failures}: {error}");
        }
    }

    /// <summary>A trial paused on the scheduler's decision (its slot is about to be free); while the experiment ends, a pause is an end.</summary>
    public IReadOnlyList<ExperimentCommand> OnTrialPaused(string trialId)
    {
        if (!_trials.TryGetValue(trialId, out var trial) || trial.Status.IsFinal() || trial.Status == TrialStatus.Paused)
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
        if (!_trials.TryGetValue(trialId, out var trial) || trial.Status.IsFinal())
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
        var trial = _trials[trialId];
        if (trial.Status.IsFinal() || IsFinishing)
        {
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
            _interrupted = _ordered.Where(t => !t.Status.IsFinal()).Select(t => t.TrialId).ToHashSet(StringComparer.Ordinal);
            _interruptedPaused = _paused.ToHashSet(StringComparer.Ordinal);
            _listener.OnInterrupted([.. _interrupted.Order(StringComparer.Ordinal)], [.. _interruptedPaused.Order(StringComparer.Ordinal)]);
        }

        return Live == 0
            ? []
            : _ordered.Where(t => !t.Status.IsFinal() && t.Status != TrialStatus.Paused).Select(t => (ExperimentCommand)new StopTrial(t.TrialId, reason ?? "experiment ended")).ToList();
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

        foreach (var trial in _ordered.Where(t => !t.Status.IsFinal()).ToList())
        {
            // No answer within the grace period: recorded as stopped; late reports are ignored.
            SetStatus(trial, TrialStatus.Terminated, trial.Reason ?? reason);
            Live--;
        }

        var status = _ending;
        if (status == ExperimentStatus.Completed && _ordered.Count > 0 && _counts.GetValueOrDefault(TrialStatus.Terminated) == 0)
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
        var interrupted = (_interrupted ?? []).Select(id => _trials[id]).OrderBy(t => t.Index).ToList();
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
        foreach (var trial in _ordered.Where(t => !t.Status.IsFinal()).ToList())
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

        Raise(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: $"restored from its journal: {requeued} trial(s) requeued, {_paused.Count} paused");
        commands.AddRange(Fill());
        return (commands, requeued);
    }
}
