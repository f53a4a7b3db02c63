using Tuner.Core.Experiments.Stoppers;
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
public sealed partial class ExperimentController
{
    private readonly TrialTable _table;
    private readonly Dictionary<TrialStatus, int> _counts = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private readonly Queue<string> _resuming = new();
    private readonly StopCriteria _stop;
    private readonly IExperimentListener _listener;
    private readonly TimeProvider _time;
    private readonly HashSet<TrialRecord> _open = [];
    private readonly ObjectiveTable _objectives;
    private TrialRecord? _best;
    private bool _bestStale;
    private ISearcher? _searcher;
    private ITrialScheduler? _scheduler;

    // Set while the user's stop ends the experiment: the trials it interrupts, to resume if the experiment is.
    private HashSet<string>? _interrupted;
    private HashSet<string> _interruptedPaused = new(StringComparer.Ordinal);

    // While the experiment ends: the status and reason it ends with.
    private ExperimentStatus _ending;
    private string? _endReason;

    /// <param name="archive">Where ended trials go (the run folder's <c>trials.jsonl</c>); in memory when null.</param>
    public ExperimentController(ExperimentSpec spec, ISearcher? searcher, ITrialScheduler? scheduler, IExperimentListener listener, TimeProvider time, DateTimeOffset startedAt, TrialArchive? archive = null)
    {
        Spec = spec;
        _table = new TrialTable(archive ?? new MemoryTrialArchive(), spec.Metric);
        _searcher = searcher;
        _scheduler = scheduler;
        _stop = new StopCriteria(spec);
        _objectives = new ObjectiveTable(spec);
        _listener = listener;
        _time = time;
        StartedAt = startedAt;
        LastEventTime = startedAt;
    }

    /// <summary>A controller of a new experiment with the searcher and the scheduler its spec names, their calls journaled to <paramref name="journal"/>.</summary>
    public static ExperimentController Create(ExperimentSpec spec, TextWriter journal, IExperimentListener listener, TimeProvider time, DateTimeOffset startedAt, TrialArchive? archive = null) =>
        new(spec, new SearcherJournal(SearcherFactory.Create(spec), journal), new SchedulerJournal(SchedulerFactory.Create(spec), journal), listener, time, startedAt, archive);

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

    /// <summary>Every trial, in the order they were created: the open ones in memory, the ended ones read back from the archive one by one (see <see cref="TrialTable"/>).</summary>
    public IReadOnlyList<TrialRecord> Trials => _table;

    /// <summary>Trials held in memory as records: the open ones (an ended one is archived as it ends).</summary>
    public int TrialsInMemory => _table.LiveCount;

    /// <summary>The last values of the metric the ended trials have (no trial read back).</summary>
    public IEnumerable<double> EndedMetrics => _table.EndedMetrics();

    /// <summary>The ended trials, newest first, read back one at a time.</summary>
    public IEnumerable<TrialRecord> NewestEnded => _table.NewestEnded();

    public IReadOnlyDictionary<TrialStatus, int> Counts => _counts;

    /// <summary>Trials the scheduler paused that wait for it to resume them.</summary>
    public IReadOnlyCollection<string> Paused => _paused;

    /// <summary>A result may settle a rung paused trials wait on: a slot is free for one of them.</summary>
    public bool WantsFill => _paused.Count > 0 && Live < Spec.MaxConcurrent && !IsFinishing;

    /// <summary>Ended and nothing is left to finish: every trial has ended.</summary>
    public bool AllEnded => Live == 0;

    /// <summary>The trial: an open one as it is, an ended one a copy read back from the archive.</summary>
    public bool TryGetTrial(string trialId, out TrialRecord trial) => _table.TryGet(trialId, out trial);

    /// <summary>The trial with the best last metric, or null while none has one (kept as results come: no pass over every trial).</summary>
    public TrialRecord? Best()
    {
        if (_bestStale)
        {
            var index = _table.BestIndex(Spec, _objectives.Infeasible);
            _best = index > 0 && _table.TryGet(TrialTable.IdOf(index), out var best) ? best : null;
            _bestStale = false;
        }

        return _best;
    }

    /// <summary>
    /// With several objectives, the Pareto front: the feasible trials whose last results no other feasible trial's dominate,
    /// in order (ended ones read back from the archive); empty with one objective.
    /// </summary>
    public IReadOnlyList<TrialRecord> ParetoFront() =>
        [.. _objectives.Front().Select(index => _table.TryGet(TrialTable.IdOf(index), out var trial) ? trial : null).OfType<TrialRecord>()];

    /// <summary>Trials whose last result breaks a constraint (reports a <c>constraint_*</c> metric above 0).</summary>
    public int InfeasibleTrials => _objectives.Infeasible.Count;

    /// <summary>The trials not ended (pending, running, paused), in no order: the few a snapshot's rows start with.</summary>
    public IReadOnlyCollection<TrialRecord> Open => _open;

    private void OfferBest(TrialRecord trial)
    {
        if (trial.LastMetric is { } value && !double.IsNaN(value) && (_best is null || Spec.IsBetter(value, _best.LastMetric!.Value)))
        {
            _best = trial;
        }
    }

    /// <summary>What <c>experiment.json</c> shows of the experiment now.</summary>
    public ExperimentDocument Document(string experimentId)
    {
        // With several objectives there is no one best: the front stands for it.
        var best = Spec.IsMultiObjective ? null : Best();
        return new ExperimentDocument(
            experimentId,
            Spec,
            Status,
            StatusReason,
            StartedAt,
            EndedAt,
            new Dictionary<TrialStatus, int>(_counts),
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            _table.Capture(withCurves: false))
        {
            ParetoFront = Spec.IsMultiObjective ? [.. ParetoFront().Select(t => new BestTrial(t.TrialId, t.Config, t.LastResult!))] : null,
            InfeasibleTrials = InfeasibleTrials,
        };
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
        _table.Settle(trial);
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
        ApplyTo(trial, e);

        // An ended trial leaves memory for the archive (an event on one already there brought it back for the change).
        if (trial is not null)
        {
            _table.Settle(trial);
        }
    }

    private void ApplyTo(TrialRecord? trial, ExperimentEvent e)
    {
        NextPosition = Math.Max(NextPosition, e.Position + 1);
        LastEventTime = e.Time;
        switch (e.Kind)
        {
            case ExperimentEventKind.TrialCreated:
                var created = new TrialRecord(e.TrialId!, e.Config!, _table.Count + 1);
                _table.Add(created);
                _open.Add(created);
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
                    _open.Remove(trial);
                }
                else
                {
                    _open.Add(trial);
                }

                if (status.IsFinal())
                {
                    _stop.Ended(trial.TrialId);

                    // The curve has served its advice: the advice stays, not a pair per iteration.
                    trial.Diagnosis = trial.Curve is { } curve ? LearningCurveDiagnosis.Diagnose(curve) : null;
                    trial.Curve = null;
                }

                break;
            case ExperimentEventKind.Result:
                var result = e.Result!;
                ResultsRecorded++;
                trial!.Iteration = result.TrainingIteration;
                trial.LastResult = result;
                _stop.Observe(trial.TrialId, result);
                _objectives.Record(trial.Index, result);
                var infeasible = _objectives.Infeasible.Contains(trial.Index);
                var previous = trial.LastMetric;
                trial.LastMetric = result.GetMetric(Spec.Metric);
                if (_best?.TrialId == trial.TrialId)
                {
                    // The same trial (a copy of it read back, if it had ended and was reopened since).
                    _best = trial;
                    // The best trial's last value got worse (or is gone, or breaks a constraint): the best is found again when next asked.
                    _bestStale |= infeasible || trial.LastMetric is not { } now || double.IsNaN(now) || Spec.IsBetter(previous!.Value, now);
                }
                else if (!_bestStale && !infeasible)
                {
                    OfferBest(trial);
                }

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
        e.TrialId is { } id && e.Kind != ExperimentEventKind.TrialCreated && _table.TryGetLive(id, out var trial) ? trial : null;

    /// <summary>The trial in memory to be changed (an ended one brought back from the archive; <see cref="TrialTable.Settle"/> puts it back).</summary>
    private TrialRecord Require(string trialId, string what) =>
        _table.Reopen(trialId) ?? throw new InvalidDataException($"{what} names trial {trialId}, which was never created");

    /// <summary>An open trial (or one ending, not yet archived); false for an ended or unknown one.</summary>
    private bool TryGetOpen(string trialId, out TrialRecord trial) => _table.TryGetLive(trialId, out trial);

    /// <summary>An open trial, which the caller knows it is.</summary>
    private TrialRecord OpenTrial(string trialId) =>
        _table.TryGetLive(trialId, out var trial) ? trial : throw new InvalidOperationException($"trial {trialId} is not open");

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
        _table.Settle(trial);
    }
}
