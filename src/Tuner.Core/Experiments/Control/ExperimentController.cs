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
    private readonly Dictionary<string, TrialRecord> _trials = new(StringComparer.Ordinal);
    private readonly List<TrialRecord> _ordered = [];

    // The metric name sets finished trials' compact metrics share (CompactMetrics).
    private readonly List<string[]> _metricNames = [];
    private readonly Dictionary<TrialStatus, int> _counts = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private readonly Queue<string> _resuming = new();
    private readonly StopCriteria _stop;
    private readonly IExperimentListener _listener;
    private readonly TimeProvider _time;
    private readonly HashSet<TrialRecord> _open = [];
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

    /// <summary>A controller of a new experiment with the searcher and the scheduler its spec names, their calls journaled to <paramref name="journal"/>.</summary>
    public static ExperimentController Create(ExperimentSpec spec, TextWriter journal, IExperimentListener listener, TimeProvider time, DateTimeOffset startedAt) =>
        new(spec, new SearcherJournal(SearcherFactory.Create(spec), journal), new SchedulerJournal(SchedulerFactory.Create(spec), journal), listener, time, startedAt);

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

    /// <summary>The trial with the best last metric, or null while none has one (kept as results come: no pass over every trial).</summary>
    public TrialRecord? Best()
    {
        if (_bestStale)
        {
            _best = null;
            foreach (var trial in _ordered)
            {
                OfferBest(trial);
            }

            _bestStale = false;
        }

        return _best;
    }

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

    /// <summary>
    /// What an ended trial keeps: the curve has served the diagnosis (the advice stays, not a pair per iteration), and its last
    /// metrics go into a compact copy; what is kept of each finished trial is what memory grows by.
    /// </summary>
    private void KeepEnded(TrialRecord trial)
    {
        trial.Curve = null;
        if (trial.LastResult is { } last)
        {
            trial.LastResult = last with { Metrics = CompactMetrics.Of(last.Metrics, _metricNames) };
        }
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
                    trial.Diagnosis = trial.Curve is { } curve ? LearningCurveDiagnosis.Diagnose(curve) : null;
                    KeepEnded(trial);
                }

                break;
            case ExperimentEventKind.Result:
                var result = e.Result!;
                ResultsRecorded++;
                trial!.Iteration = result.TrainingIteration;
                trial.LastResult = result;
                var previous = trial.LastMetric;
                trial.LastMetric = result.GetMetric(Spec.Metric);
                if (_best == trial)
                {
                    // The best trial's last value got worse (or is gone): the best is found again when next asked.
                    _bestStale |= trial.LastMetric is not { } now || double.IsNaN(now) || Spec.IsBetter(previous!.Value, now);
                }
                else if (!_bestStale)
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
}
