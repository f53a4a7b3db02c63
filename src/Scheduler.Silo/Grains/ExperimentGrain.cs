using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Results;
using Tuner.Core.Results.Sinks;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Space;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;
using Tuner.Core.Trainables;
using Tuner.Hosting;
using Tuner.Scheduler.Persistence;

namespace Tuner.Scheduler.Grains;

/// <summary>
/// Ray's tuner for one experiment. Reentrant: trials call in while it waits on others; every
/// handler changes state only between awaits, so interleaving is safe.
/// </summary>
[Reentrant]
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class ExperimentGrain(
    [PersistentState("experiment", TunerStorage.Name)] IPersistentState<ExperimentLocation> location,
    TrainableRegistry registry,
    Tuner.Core.Checkpoints.ICheckpointStore checkpoints,
    TimeProvider time,
    ILogger<ExperimentGrain> logger) : Grain, IExperimentGrain
{
    private readonly Dictionary<string, TrialEntry> _trials = new(StringComparer.Ordinal);
    private readonly Dictionary<TrialStatus, int> _counts = [];
    private readonly HashSet<string> _paused = new(StringComparer.Ordinal);
    private ExperimentSpec? _spec;
    private SearcherJournal? _searcher;
    private ITrialScheduler? _scheduler;
    private StopCriteria? _stop;
    private RunFolderWriter? _writer;
    private Activity? _span;
    private ResultSinks? _sinks;
    private ExperimentGauges? _gauges;

    private string? _directory;

    // The write-ahead log in the run folder (journal.jsonl): what a restart rebuilds the experiment from.
    private TextWriter? _journal;
    private ExperimentStatus _status = ExperimentStatus.Running;
    private string? _statusReason;
    private bool _isSpecError;
    private long _totalTrials;
    private long _results;
    private int _live;
    private bool _filling;
    private bool _finishing;
    private DateTimeOffset _startedAt;
    private DateTimeOffset? _endedAt;
    private long _startTimestamp;
    private IGrainTimer? _budgetTimer;
    private TaskCompletionSource? _allEnded;
    private bool _published;
    private TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastDocumentUpdate;

    // What happened, in order, for watchers (ReadEventsAsync); the oldest go when too many are held.
    private readonly List<ExperimentEvent> _events = [];
    private long _firstHeld = 1;
    private long _nextPosition = 1;
    private TaskCompletionSource _eventAdded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private const int EventsHeld = 200_000;

    // Set while the user's stop ends the experiment: the trials it interrupts, to resume if the experiment is.
    private HashSet<string>? _interrupted;
    private HashSet<string> _interruptedPaused = new(StringComparer.Ordinal);
    private readonly Queue<string> _resuming = new();

    /// <summary>How long live trials get to report back when the experiment ends.</summary>
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private string Id => this.GetPrimaryKeyString();

    public async Task<ExperimentSnapshot> StartAsync(ExperimentSubmission submission)
    {
        if (_spec is not null)
        {
            // Submitting again (a client's retry) is harmless; another spec under the same id is not.
            return SpecWriter.ToJson(_spec) == SpecWriter.ToJson(submission.Spec)
                ? Snapshot(20)
                : throw new TunerRequestException(RequestFailure.AlreadyExists, $"experiment {Id} already exists with another spec");
        }

        var errors = SpecValidator.Validate(submission.Spec, registry).Concat(CheckCustomTrainable(submission.Spec)).ToList();
        if (errors.Count > 0)
        {
            throw new ExperimentRejectedException(errors);
        }

        // The folder first: if it cannot be made, the grain stays unstarted and the caller sees why.
        _writer = RunFolderWriter.Create(submission.OutputRoot, submission.Spec.Name);
        _directory = _writer.Directory;
        _spec = submission.Spec;
        _startedAt = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();

        // Everything that changes the experiment goes to its journal, the searcher's and the scheduler's calls too.
        _journal = _writer.OpenJournal(ExperimentJournal.FileName);
        ExperimentJournal.WriteStart(_journal, Id, _spec.Redacted(), _startedAt);
        _searcher = new SearcherJournal(SearcherFactory.Create(_spec), _journal);
        _scheduler = new SchedulerJournal(SchedulerFactory.Create(_spec), _journal);
        _stop = new StopCriteria(_spec);
        _totalTrials = VariantGenerator.CountTrials(_spec);
        AttachGauges();
        BeginSpan("experiment");
        OpenSinks(_writer.Directory, _startedAt, resumed: false);
        // A command's environment values are secrets: never in the run folder, kept with the grain's record for a restore.
        location.State = new ExperimentLocation { RunDirectory = _writer.Directory, Secrets = _spec.Custom?.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null };
        await location.WriteStateAsync();
        using (TunerTelemetry.Within(_span))
        {
            LogStarted(logger, Id, _spec.Name, _totalTrials, _writer.Directory);
        }

        if (_spec.Stop.TimeBudgetS is { } budget)
        {
            _budgetTimer = this.RegisterGrainTimer(
                static (grain, _) => grain.OnTimeBudgetAsync(),
                this,
                new GrainTimerCreationOptions(TimeSpan.FromSeconds(budget), Timeout.InfiniteTimeSpan) { Interleave = true });
        }

        await GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).RegisterAsync(new ExperimentListing(Id, _spec.Name, _startedAt));
        Emit(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: "started");
        UpdateDocument();
        await FillAsync();
        return Snapshot(20);
    }

    public async Task<ExperimentSnapshot> RestoreAsync(string runDirectory, ExperimentSpec? spec)
    {
        if (_spec is null)
        {
            await RestoreFromJournalAsync(Path.GetFullPath(runDirectory), spec);
        }

        return Snapshot(20);
    }

    /// <summary>After a restart the grain's record says where its run folder is: the experiment comes back from the journal there.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (location.RecordExists && location.State.RunDirectory is { } directory && _spec is null)
        {
            try
            {
                await RestoreFromJournalAsync(directory);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The grain stays unstarted (calls answer NOT_FOUND) rather than failing every call; the operator sees why.
                LogRestoreFailed(logger, Id, directory, ex);
                _spec = null;
                _trials.Clear();
            }
        }
    }

    /// <summary>
    /// Rebuilds the experiment from its journal: the events (so watchers resume at their positions),
    /// every trial's state, results and decisions (the trial files are written again from them), the
    /// searcher and the scheduler (their calls replayed). Trials that were running go back to the
    /// queue as a new run, from their latest checkpoint the journal covers; what they report again up
    /// to the iteration already recorded is dropped. A stopped experiment stays stopped (and can be
    /// resumed); an ended one is only read.
    /// </summary>
    private async Task RestoreFromJournalAsync(string directory, ExperimentSpec? supplied = null)
    {
        var lines = ExperimentJournal.Read(Path.Combine(directory, ExperimentJournal.FileName));
        var start = lines[0];
        if (start.GetProperty("id").GetString() is var journalId && journalId != Id)
        {
            throw new TunerRequestException(RequestFailure.FailedPrecondition, $"the journal in {directory} is experiment {journalId}'s, not {Id}'s");
        }

        var spec = SpecParser.ParseStructure(start.GetProperty("spec").GetRawText());
        if (spec.Custom is { Env.Count: > 0 } custom && location.RecordExists && location.State.Secrets is { } secrets)
        {
            // The journal holds the command's environment redacted; its values come from the grain's record.
            spec = spec with { Custom = custom with { Env = secrets } };
        }
        else if (spec.Custom is { Env.Count: > 0 } && supplied is not null && SpecWriter.ToJson(supplied.Redacted()) == SpecWriter.ToJson(spec))
        {
            // Or from the spec the caller supplies (the command line reads it again from its file).
            spec = supplied;
        }

        _spec = spec;
        _directory = directory;
        _startedAt = DateTimeOffset.Parse(start.GetProperty("started_at").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        _stop = new StopCriteria(spec);
        _totalTrials = VariantGenerator.CountTrials(spec);

        // An experiment that completed or failed is only read: its files are final. Otherwise the trial
        // files are written again from the journal, which is what counts.
        var final = lines.LastOrDefault(l => l.GetProperty("event").GetString() == "experiment" && l.TryGetProperty("experiment_status", out _)) is { ValueKind: System.Text.Json.JsonValueKind.Object } last
            && last.GetProperty("experiment_status").GetString() is "completed" or "failed";
        _writer = final ? null : RunFolderWriter.Open(directory);

        var results = new Dictionary<(string, long), TrialResult>();
        var schedulerCalls = new List<System.Text.Json.JsonElement>();
        var attempts = new Dictionary<string, int>(StringComparer.Ordinal);
        var lastTime = _startedAt;
        foreach (var line in lines.Skip(1))
        {
            switch (line.GetProperty("event").GetString())
            {
                case "experiment":
                    var e = ExperimentJournal.ReadEvent(line);
                    Replay(e, results);
                    lastTime = e.Time;
                    break;
                case SchedulerJournal.EventName:
                    schedulerCalls.Add(line);
                    break;
                case "attempt":
                    var trialId = line.GetProperty("trial").GetString()!;
                    attempts[trialId] = line.GetProperty("attempt").GetInt32();
                    _trials[trialId].Failures = line.GetProperty("failures").GetInt32();
                    break;
                case "interrupted":
                    _interrupted = line.GetProperty("trials").EnumerateArray().Select(t => t.GetString()!).ToHashSet(StringComparer.Ordinal);
                    _interruptedPaused = line.GetProperty("paused").EnumerateArray().Select(t => t.GetString()!).ToHashSet(StringComparer.Ordinal);
                    break;
            }
        }

        if (_status != ExperimentStatus.Stopped)
        {
            // Interrupted by a stop that a resume (or the kill, before the stop was through) has overtaken.
            _interrupted = null;
            _interruptedPaused = new HashSet<string>(StringComparer.Ordinal);
        }

        foreach (var entry in _trials.Values)
        {
            entry.Attempt = attempts.GetValueOrDefault(entry.TrialId, 1);
            entry.Diagnosis = entry.Status.IsFinal() && entry.Curve is { } curve ? LearningCurveDiagnosis.Diagnose(curve) : null;
        }

        var ended = _status != ExperimentStatus.Running;
        if (_writer is not null)
        {
            _journal = _writer.OpenJournal(ExperimentJournal.FileName);
            _searcher = SearcherJournal.Restore(spec, lines.Select(l => l.GetRawText()), _journal);
            _scheduler = SchedulerJournal.Restore(spec, schedulerCalls, (trialId, iteration) => results[(trialId, iteration)], _journal);
        }

        if (!location.RecordExists || location.State.RunDirectory != directory)
        {
            location.State = new ExperimentLocation { RunDirectory = directory, Secrets = spec.Custom?.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null };
            await location.WriteStateAsync();
        }

        var registry = GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey);
        await registry.RegisterAsync(new ExperimentListing(Id, spec.Name, _startedAt));
        AttachGauges();
        if (ended)
        {
            _published = true;
            _finishing = true;
            _ended.TrySetResult();
            _startTimestamp = time.GetTimestamp() - (long)(((_endedAt ?? lastTime) - _startedAt).TotalSeconds * TimeProvider.System.TimestampFrequency);
            await registry.SetRunningAsync(Id, false);
            if (_status == ExperimentStatus.Stopped)
            {
                // Resumable: the trials the stop interrupted wait, paused, with their checkpoints.
                foreach (var entry in (_interrupted ?? []).Select(id => _trials[id]))
                {
                    await RestoreTrialGrainAsync(entry, LatestCheckpoint(entry, results), paused: true);
                }

                _writer!.Flush(force: true);
            }
            else
            {
                foreach (var entry in _trials.Values)
                {
                    entry.Grain = GrainFactory.GetGrain<ITrialGrain>(TrialKeys.Of(Id, entry.TrialId));
                }
            }

            LogRestored(logger, Id, directory, _status.ToWire(), _trials.Count, 0);
            return;
        }

        // Killed while it ran: the clock goes on from the journal's last event. A new span covers the rest of the run.
        BeginSpan("experiment (restored)");
        OpenSinks(directory, time.GetUtcNow(), resumed: true);
        _startTimestamp = time.GetTimestamp() - (long)((lastTime - _startedAt).TotalSeconds * TimeProvider.System.TimestampFrequency);
        var requeued = 0;
        foreach (var entry in _trials.Values.Where(t => !t.Status.IsFinal()).OrderBy(t => t.Index).ToList())
        {
            var lastDecision = entry.Decisions is { Count: > 0 } decisions ? decisions[^1] : null;
            if (lastDecision?.Action == "stop" && entry.Status != TrialStatus.Paused)
            {
                // Stopped by a decision whose end the journal did not see: it ends now.
                RecordEnd(entry, TrialStatus.Terminated, lastDecision.Reason);
                entry.Grain = GrainFactory.GetGrain<ITrialGrain>(TrialKeys.Of(Id, entry.TrialId));
                continue;
            }

            if (entry.Status == TrialStatus.Paused || lastDecision?.Action == "pause")
            {
                SetStatus(entry, TrialStatus.Paused, null);
                _paused.Add(entry.TrialId);
                await RestoreTrialGrainAsync(entry, LatestCheckpoint(entry, results), paused: true);
                continue;
            }

            var from = LatestCheckpoint(entry, results);
            SetStatus(entry, TrialStatus.Pending, $"requeued after a restart; resumes from {(from is null ? "the start" : $"its checkpoint at iteration {from.Iteration}")}");
            _live++;
            requeued++;
            await RestoreTrialGrainAsync(entry, from, paused: false);
        }

        if (spec.Stop.TimeBudgetS is { } budget)
        {
            var left = TimeSpan.FromSeconds(budget) - (lastTime - _startedAt);
            _budgetTimer = this.RegisterGrainTimer(
                static (grain, _) => grain.OnTimeBudgetAsync(),
                this,
                new GrainTimerCreationOptions(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }

        await registry.SetRunningAsync(Id, true);
        Emit(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: $"restored from its journal: {requeued} trial(s) requeued, {_paused.Count} paused");
        LogRestored(logger, Id, directory, _status.ToWire(), _trials.Count, requeued);
        UpdateDocument();
        await FillAsync();
    }

    /// <summary>Applies one journaled event: held for watchers, and its effect on the trial and the run folder's files.</summary>
    private void Replay(ExperimentEvent e, Dictionary<(string, long), TrialResult> results)
    {
        Hold(e);
        _nextPosition = e.Position + 1;
        TrialEntry? entry = null;
        if (e.TrialId is { } trialId && e.Kind != ExperimentEventKind.TrialCreated && !_trials.TryGetValue(trialId, out entry))
        {
            throw new InvalidDataException($"journal event {e.Position} names trial {trialId}, which was never created");
        }

        switch (e.Kind)
        {
            case ExperimentEventKind.TrialCreated:
                var created = new TrialEntry(e.TrialId!, e.Config!, _trials.Count + 1);
                _trials.Add(created.TrialId, created);
                Count(TrialStatus.Pending, +1);
                _writer?.TrialCreated(created.TrialId, created.Config);
                break;
            case ExperimentEventKind.TrialStatus:
                var status = e.TrialStatus!.Value;
                Count(entry!.Status, -1);
                Count(status, +1);
                entry.Status = status;
                entry.Reason = e.Message ?? entry.Reason;

                if (status.IsFinal())
                {
                    _writer?.TrialEnded(entry.TrialId, status == TrialStatus.Error ? entry.Reason : null);
                }

                break;
            case ExperimentEventKind.Result:
                var result = e.Result!;
                _results++;
                entry!.Iteration = result.TrainingIteration;
                entry.LastResult = result;
                entry.LastMetric = result.GetMetric(_spec!.Metric);
                if (result.GetMetric(LearningCurveDiagnosis.LossMetric) is { } loss && result.GetMetric(LearningCurveDiagnosis.RateMetric) is { } rate)
                {
                    (entry.Curve ??= []).Add((loss, rate));
                }

                results[(entry.TrialId, result.TrainingIteration)] = result;
                _writer?.Append(entry.TrialId, result);
                break;
            case ExperimentEventKind.Decision:
                var decision = new TrialDecision(entry!.Iteration, e.Action!, e.Message ?? "");
                (entry.Decisions ??= []).Add(decision);
                _writer?.Decision(entry.TrialId, decision);
                break;
            case ExperimentEventKind.ConfigChanged:
                entry!.Config = e.Config!;
                _writer?.ConfigChanged(entry.TrialId, e.Config!);
                break;
            case ExperimentEventKind.ExperimentStatus:
                _status = e.ExperimentStatus!.Value;
                _statusReason = _status == ExperimentStatus.Running ? null : e.Message;
                _endedAt = _status == ExperimentStatus.Running ? null : e.Time;
                break;
        }
    }

    /// <summary>The trial's newest checkpoint at or before the last iteration the journal recorded; null when it has none.</summary>
    private CheckpointRef? LatestCheckpoint(TrialEntry entry, Dictionary<(string, long), TrialResult> results) =>
        checkpoints.Latest(Path.Combine(_writer!.TrialDirectory(entry.TrialId), "checkpoints"), entry.Iteration) is { } stored
            ? new CheckpointRef(stored.Path, stored.Iteration, results.TryGetValue((entry.TrialId, stored.Iteration), out var r) ? r.TimeTotalS : 0)
            : null;

    /// <summary>The trial's grain, made again as the journal left the trial: paused, or queued as its next run.</summary>
    private async Task RestoreTrialGrainAsync(TrialEntry entry, CheckpointRef? from, bool paused)
    {
        var spec = _spec!;
        entry.Grain = GrainFactory.GetGrain<ITrialGrain>(TrialKeys.Of(Id, entry.TrialId));
        var attempt = entry.Attempt + 1;
        NewAttempt(entry, attempt);
        var assignment = new TrialAssignment(
            Id,
            entry.TrialId,
            spec.Trainable,
            entry.Config,
            SeededNoise.DeriveSeed(spec.Search.Seed, entry.Index),
            attempt,
            new ResourceRequest(spec.Resources.Cpu, spec.Resources.Gpu),
            Path.Combine(_writer!.TrialDirectory(entry.TrialId), "checkpoints"),
            spec.Checkpoint.Frequency,
            spec.Checkpoint.Keep,
            from,
            entry.Grain,
            this.AsReference<IExperimentGrain>(),
            spec.Custom,
            TraceParent: TunerTelemetry.TraceParent(BeginTrialSpan(entry)));
        await entry.Grain.RestoreAsync(assignment, spec.Failure.MaxFailures, entry.Failures, paused);
    }

    /// <summary>
    /// A custom trainable's paths must be absolute (they are read on the workers); an assembly this
    /// host can see is loaded once now, so that a missing type or version conflict fails the
    /// submission rather than every trial.
    /// </summary>
    private static IEnumerable<SpecError> CheckCustomTrainable(ExperimentSpec spec)
    {
        switch (spec.Custom)
        {
            case { IsCommand: true, WorkingDir: { } dir } when !Path.IsPathFullyQualified(dir):
                yield return new SpecError("trainable.working_dir", $"'{dir}' is relative; the client resolves it against the spec's folder, a request must give it absolute");
                break;
            case { IsCommand: false, Assembly: { } assembly } custom when SpecValidator.Validate(spec with { Custom = custom }).All(e => !e.Path.StartsWith("trainable", StringComparison.Ordinal)):
                SpecError? error = null;
                try
                {
                    if (!Path.IsPathFullyQualified(assembly) || File.Exists(assembly))
                    {
                        TrainableAssembly.Probe(custom);
                    }
                }
                catch (TrainableLoadException ex)
                {
                    error = new SpecError(ex.Field, ex.Reason);
                }

                if (error is not null)
                {
                    yield return error;
                }

                break;
        }
    }

    public async Task<ExperimentSnapshot> ResumeAsync()
    {
        var spec = _spec ?? throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist");
        if (!_published || _status != ExperimentStatus.Stopped)
        {
            throw new TunerRequestException(RequestFailure.FailedPrecondition, _published
                ? $"experiment {Id} ended {_status.ToWire()}; only a stopped experiment can be resumed"
                : $"experiment {Id} is still running");
        }

        _finishing = false;
        _published = false;
        _ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _status = ExperimentStatus.Running;
        _statusReason = null;
        if (_span is null)
        {
            BeginSpan("experiment (resumed)");
        }

        if (_sinks is null)
        {
            OpenSinks(_directory!, time.GetUtcNow(), resumed: true);
        }

        var ranFor = (_endedAt ?? _startedAt) - _startedAt;
        _endedAt = null;
        foreach (var entry in (_interrupted ?? []).Select(id => _trials[id]).OrderBy(t => t.Index))
        {
            await entry.Grain!.ReopenAsync();
            entry.Reason = null;
            SetStatus(entry, TrialStatus.Paused, "the experiment was stopped; resumes with it");
            if (_interruptedPaused.Contains(entry.TrialId))
            {
                // Paused by the scheduler before the stop: the scheduler resumes it when it chooses.
                _paused.Add(entry.TrialId);
            }
            else
            {
                _resuming.Enqueue(entry.TrialId);
            }
        }

        _interrupted = null;
        _interruptedPaused = new HashSet<string>(StringComparer.Ordinal);
        if (spec.Stop.TimeBudgetS is { } budget)
        {
            var left = TimeSpan.FromSeconds(budget) - ranFor;
            _budgetTimer = this.RegisterGrainTimer(
                static (grain, _) => grain.OnTimeBudgetAsync(),
                this,
                new GrainTimerCreationOptions(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }

        await GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).SetRunningAsync(Id, true);
        LogResumed(logger, Id, _resuming.Count + _paused.Count);
        Emit(ExperimentEventKind.ExperimentStatus, experimentStatus: ExperimentStatus.Running, message: "resumed");
        UpdateDocument();
        await FillAsync();
        return Snapshot(20);
    }

    public async Task StopTrialAsync(string trialId, string reason)
    {
        var entry = Entry(trialId);
        if (entry.Status.IsFinal() || _finishing)
        {
            return;
        }

        entry.Reason = reason;
        Decide(entry, "stop", reason);
        if (entry.Status == TrialStatus.Paused)
        {
            RecordEnd(entry, TrialStatus.Terminated, reason);
            await entry.Grain!.StopAsync(reason);
            UpdateDocument();
            await FillAsync();
            return;
        }

        await entry.Grain!.StopAsync(reason);
    }

    public Task<ExperimentSpec?> GetSpecAsync() => Task.FromResult(_spec);

    public async Task<TrialInfo> GetTrialAsync(string trialId)
    {
        var entry = Entry(trialId);

        // Results come here, not to the trial grain: the latest is the experiment's to tell.
        return (await entry.Grain!.GetAsync()) with { LastIteration = entry.Iteration, LastResult = entry.LastResult };
    }

    private TrialEntry Entry(string trialId) =>
        _spec is null ? throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist")
        : _trials.TryGetValue(trialId, out var entry) ? entry
        : throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} has no trial '{trialId}' (it has {_trials.Count}: t00001 to t{_trials.Count:D5})");

    public async Task<EventPage> ReadEventsAsync(long after, int max, TimeSpan wait)
    {
        if (_spec is null)
        {
            throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist");
        }

        if (after >= _nextPosition - 1 && !_published)
        {
            var added = _eventAdded.Task;
            await Task.WhenAny(added, Task.Delay(wait, time));
        }

        // Watchers see an event only once it is in the journal on disk: one who reconnects after a
        // restart finds every position it saw holding the same event.
        var last = Durable();
        var start = (int)Math.Clamp(after + 1 - _firstHeld, 0, _events.Count);
        var available = (int)Math.Clamp(last + 1 - _firstHeld - start, 0, _events.Count - start);
        var events = _events.GetRange(start, Math.Min(Math.Clamp(max, 1, 10_000), available));
        var ended = _published && (events.Count == 0 ? after >= last : events[^1].Position == last);
        return new EventPage(events, ended, _firstHeld, last);
    }

    /// <summary>The last position written out to the journal (every one when the journal is closed).</summary>
    private long Durable()
    {
        var last = _nextPosition - 1;
        if (_journal is null || _writer is null || _writer.DurableMark >= last)
        {
            return last;
        }

        try
        {
            return Math.Min(last, _writer.FlushJournal());
        }
        catch (IOException)
        {
            return Math.Min(last, _writer.DurableMark);
        }
    }

    /// <summary>The next event, in the journal; watchers see it once it is held (at once, unless <paramref name="hold"/> is false: <see cref="Hold"/> then).</summary>
    private ExperimentEvent Emit(
        ExperimentEventKind kind,
        string? trialId = null,
        TrialStatus? trialStatus = null,
        TrialResult? result = null,
        TrialConfig? config = null,
        string? action = null,
        string? message = null,
        ExperimentStatus? experimentStatus = null,
        bool hold = true)
    {
        var e = new ExperimentEvent(_nextPosition++, time.GetUtcNow(), kind, trialId, trialStatus, result, config, action, message, experimentStatus);
        if (_journal is not null)
        {
            ExperimentJournal.WriteEvent(_journal, e);
            _writer!.MarkJournal(e.Position);
        }

        if (hold)
        {
            Hold(e);
        }

        return e;
    }

    private void Hold(ExperimentEvent e)
    {
        _events.Add(e);
        if (_events.Count > EventsHeld)
        {
            var drop = _events.Count - (EventsHeld * 3 / 4);
            _events.RemoveRange(0, drop);
            _firstHeld += drop;
        }

        var added = _eventAdded;
        _eventAdded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        added.TrySetResult();
    }

    public Task<ExperimentSnapshot> GetSnapshotAsync(int maxRows) => Task.FromResult(Snapshot(maxRows));

    /// <summary>A stopped experiment keeps its folder open for a resume; the silo's shutdown closes it.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_published && _status == ExperimentStatus.Stopped && _writer is not null)
        {
            try
            {
                await _writer.DisposeAsync();
            }
            catch (IOException ex)
            {
                LogWriteFailed(logger, Id, ex);
            }
        }

        if (_sinks is not null)
        {
            await _sinks.DisposeAsync();
            _sinks = null;
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task<bool> WaitForEndAsync(TimeSpan timeout)
    {
        if (_published)
        {
            return true;
        }

        var ended = _ended.Task;
        return await Task.WhenAny(ended, Task.Delay(timeout, time)) == ended;
    }

    public async Task StopAsync(string reason)
    {
        if (!_finishing)
        {
            await EndAsync(ExperimentStatus.Stopped, reason);
        }
    }

    public Task OnTrialStartedAsync(string trialId, string workerId, int attempt)
    {
        if (_trials.TryGetValue(trialId, out var entry))
        {
            NewAttempt(entry, attempt);
            entry.Worker = workerId;
            entry.Span?.SetTag("tuner.worker", workerId).AddEvent(new ActivityEvent("running", tags: new ActivityTagsCollection { ["tuner.worker"] = workerId, ["tuner.trial.attempt"] = attempt }));
            if (entry.Status == TrialStatus.Pending)
            {
                SetStatus(entry, TrialStatus.Running, null);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The trial's latest run is <paramref name="attempt"/>: reports of earlier runs are refused from now on (journaled, so that a restart goes on past it).</summary>
    private void NewAttempt(TrialEntry entry, int attempt)
    {
        if (attempt > entry.Attempt)
        {
            entry.Attempt = attempt;
            if (_journal is not null)
            {
                ExperimentJournal.WriteAttempt(_journal, entry.TrialId, attempt, entry.Failures);
            }
        }
    }

    public Task<TrialCommand[]> OnTrialResultsAsync(IReadOnlyList<TrialReport> reports)
    {
        var answers = new TrialCommand[reports.Count];
        for (var i = 0; i < reports.Count; i++)
        {
            answers[i] = OnTrialResult(reports[i]);
        }

        if (_paused.Count > 0 && _live < _spec!.MaxConcurrent && !_filling && !_finishing)
        {
            // A result may settle a rung that paused trials wait on (the reporter going straight on): resume them now.
            FillAsync().Ignore();
        }

        UpdateDocumentIfDue();
        return Task.FromResult(answers);
    }

    private TrialCommand OnTrialResult(TrialReport report)
    {
        var spec = _spec!;
        var (trialId, result) = (report.TrialId, report.Result);
        if (!_trials.TryGetValue(trialId, out var entry) || entry.Status.IsFinal() || report.Attempt < entry.Attempt)
        {
            // Ended, or a run the trial has moved past (its worker lost the lease, or it ran before a restart): not recorded.
            return TrialCommand.Stop;
        }

        if (result.TrainingIteration <= entry.Iteration)
        {
            // Replayed by a retry that restarted from an earlier checkpoint (or from scratch): already recorded.
            return _finishing ? TrialCommand.Stop : TrialCommand.Continue;
        }

        if (entry.Status == TrialStatus.Pending)
        {
            SetStatus(entry, TrialStatus.Running, null);
        }

        _results++;
        _writer!.Append(trialId, result);
        _sinks?.Result(trialId, result);
        Emit(ExperimentEventKind.Result, trialId, result: result);
        TunerTelemetry.Results.Add(1, new KeyValuePair<string, object?>("experiment", Id));
        if (entry.LastResult is { } previous && previous.TrainingIteration == result.TrainingIteration - 1 && result.TimeTotalS >= previous.TimeTotalS)
        {
            TunerTelemetry.IterationDuration.Record(
                result.TimeTotalS - previous.TimeTotalS,
                new KeyValuePair<string, object?>("experiment", Id),
                new KeyValuePair<string, object?>("worker", entry.Worker ?? "unknown"));
        }

        entry.Iteration = result.TrainingIteration;
        if (result.GetMetric(spec.Metric) is not { } value)
        {
            // Ray fails fast here too: a metric that is not reported makes every decision meaningless.
            var reported = string.Join(", ", result.Metrics.Keys);
            var message = $"metric: trial {trialId} reported {(reported.Length == 0 ? "no metrics" : reported)} but not '{spec.Metric}', the experiment's metric";
            _isSpecError = true;
            entry.Reason = message;
            if (!_finishing)
            {
                // Not awaited: EndAsync waits for this very trial to end, which needs this call to return.
                EndAsync(ExperimentStatus.Failed, message).Ignore();
            }

            return TrialCommand.Stop;
        }

        entry.LastResult = result;
        entry.LastMetric = value;
        _gauges?.SetLatest(trialId, value, result.TrainingIteration);

        _searcher!.OnTrialResult(trialId, result);
        if (result.GetMetric(LearningCurveDiagnosis.LossMetric) is { } loss && result.GetMetric(LearningCurveDiagnosis.RateMetric) is { } rate)
        {
            (entry.Curve ??= []).Add((loss, rate));
        }

        if (_finishing)
        {
            return TrialCommand.Stop;
        }

        if (_stop!.ShouldStop(result) is { } stopReason)
        {
            entry.Reason = stopReason;
            Decide(entry, "stop", stopReason);
            return TrialCommand.Stop;
        }

        var decided = Stopwatch.GetTimestamp();
        var span = TunerTelemetry.StartDetached("scheduler.decide", ActivityKind.Internal, entry.Span?.Context ?? default);
        var decision = _scheduler!.OnResult(trialId, result);
        var action = decision.Action switch { SchedulerAction.Stop => "stop", SchedulerAction.Pause => "pause", _ => "continue" };
        TunerTelemetry.DecisionDuration.Record(
            Stopwatch.GetElapsedTime(decided).TotalSeconds,
            new KeyValuePair<string, object?>("experiment", Id),
            new KeyValuePair<string, object?>("scheduler", spec.Scheduler.Algorithm),
            new KeyValuePair<string, object?>("action", action));
        if (span is not null)
        {
            span.SetTag("tuner.experiment.id", Id).SetTag("tuner.trial.id", trialId).SetTag("tuner.trial.iteration", result.TrainingIteration)
                .SetTag("tuner.scheduler", spec.Scheduler.Algorithm).SetTag("tuner.decision", action).SetTag("tuner.metric.value", value);
            if (decision.Reason is { } why)
            {
                span.SetTag("tuner.decision.reason", why);
            }

            TunerTelemetry.End(span);
        }

        if (decision.Action != SchedulerAction.Continue)
        {
            entry.Reason = decision.Reason;
            Decide(entry, decision.Action == SchedulerAction.Pause ? "pause" : "stop", decision.Reason ?? spec.Scheduler.Algorithm);
        }

        return decision.Action switch
        {
            SchedulerAction.Stop => TrialCommand.Stop,
            SchedulerAction.Pause => TrialCommand.Pause,
            _ => TrialCommand.Continue,
        };
    }

    public Task OnTrialRetryingAsync(string trialId, int failures, string error, int attempt)
    {
        if (_trials.TryGetValue(trialId, out var entry))
        {
            entry.Failures = failures;
            NewAttempt(entry, attempt);
            SetStatus(entry, TrialStatus.Pending, $"retrying after failure {failures}: {error}");
        }

        return Task.CompletedTask;
    }

    public Task OnTrialPausedAsync(string trialId)
    {
        if (!_trials.TryGetValue(trialId, out var entry) || entry.Status.IsFinal() || entry.Status == TrialStatus.Paused)
        {
            return Task.CompletedTask;
        }

        _live--;
        if (_finishing)
        {
            // The experiment is ending: a pause is an end.
            RecordEnd(entry, TrialStatus.Terminated, entry.Reason ?? _statusReason ?? "experiment ended");
            if (_live == 0)
            {
                _allEnded?.TrySetResult();
            }

            return Task.CompletedTask;
        }

        SetStatus(entry, TrialStatus.Paused, null);
        _paused.Add(trialId);

        // Not awaited: the scheduler may resume this very trial, whose grain waits on this call.
        FillAsync().Ignore();
        return Task.CompletedTask;
    }

    public async Task OnTrialEndedAsync(string trialId, TrialStatus status, string? reason)
    {
        if (!_trials.TryGetValue(trialId, out var entry) || entry.Status.IsFinal())
        {
            return;
        }

        _live--;
        RecordEnd(entry, status, reason ?? entry.Reason);
        if (_finishing)
        {
            if (_live == 0)
            {
                _allEnded?.TrySetResult();
            }

            return;
        }

        UpdateDocumentIfDue();
        await FillAsync();
    }

    /// <summary>Records a decision about a trial: in its entry (experiment.json, snapshots) and its decisions.jsonl.</summary>
    private void Decide(TrialEntry entry, string action, string reason)
    {
        var decision = new TrialDecision(entry.Iteration, action, reason);
        (entry.Decisions ??= []).Add(decision);
        TunerTelemetry.Decisions.Add(
            1,
            new KeyValuePair<string, object?>("experiment", Id),
            new KeyValuePair<string, object?>("scheduler", _spec!.Scheduler.Algorithm),
            new KeyValuePair<string, object?>("action", action));
        entry.Span?.AddEvent(new ActivityEvent(action, tags: new ActivityTagsCollection { ["tuner.trial.iteration"] = entry.Iteration, ["tuner.decision.reason"] = reason }));
        _writer!.Decision(entry.TrialId, decision);
        Emit(ExperimentEventKind.Decision, entry.TrialId, action: action, message: reason);
    }

    /// <summary>A trial's end, whoever ended it: counted, written, and told to the scheduler and the searcher.</summary>
    private void RecordEnd(TrialEntry entry, TrialStatus status, string? reason)
    {
        SetStatus(entry, status, reason);
        _paused.Remove(entry.TrialId);
        entry.Diagnosis = entry.Curve is { } curve ? LearningCurveDiagnosis.Diagnose(curve) : null;
        _writer!.TrialEnded(entry.TrialId, status == TrialStatus.Error ? entry.Reason : null);
        _sinks?.TrialEnded(entry.TrialId, status, time.GetUtcNow());
        if (_interrupted?.Contains(entry.TrialId) == true && status == TrialStatus.Terminated)
        {
            // Interrupted by the user's stop: the scheduler and the searcher go on with it if the experiment is resumed.
            return;
        }

        _scheduler!.OnTrialComplete(entry.TrialId);
        _searcher!.OnTrialComplete(entry.TrialId, entry.LastResult?.Metrics, status == TrialStatus.Error);
        if (status == TrialStatus.Error)
        {
            using (TunerTelemetry.Within(entry.Span))
            {
                LogTrialError(logger, Id, entry.TrialId, entry.Reason);
            }
        }

        EndTrialSpan(entry);
    }

    /// <summary>
    /// Fills free slots as the scheduler chooses: paused trials it resumes, new trials from the searcher.
    /// Paused trials it will never resume are ended. Ends the experiment when nothing is left to run.
    /// </summary>
    private async Task FillAsync()
    {
        if (_filling)
        {
            return;
        }

        _filling = true;

        // New trials are queued together: each asks for its slots without waiting for the one before.
        var starts = new List<Task>();
        try
        {
            var spec = _spec!;

            // Set once nothing runs and nothing starts (a concurrency limit may hold the searcher back
            // while trials are paused): the scheduler then settles as if no more trials will come.
            var closed = false;
            while (!_finishing)
            {
                var state = new SchedulerState(_paused.ToArray(), _live, !closed && !_searcher!.IsExhausted);
                var ended = false;
                foreach (var stop in _scheduler!.PausedToStop(state))
                {
                    ended |= await EndPausedAsync(stop.TrialId, stop.Reason);
                }

                if (ended)
                {
                    continue;
                }

                if (_live >= spec.MaxConcurrent)
                {
                    break;
                }

                if (_resuming.TryDequeue(out var interrupted))
                {
                    await ResumeAsync(_trials[interrupted], SchedulerChoice.Resume(interrupted, "resumed with the experiment"));
                    continue;
                }

                var choice = _scheduler.ChooseTrialToRun(state);
                if (choice.Kind == ChoiceKind.Resume && choice.TrialId is { } resumed && _paused.Contains(resumed))
                {
                    await ResumeAsync(_trials[resumed], choice);
                    continue;
                }

                if (choice.Kind == ChoiceKind.StartNew && TryStartNew(starts))
                {
                    continue;
                }

                if (_live == 0 && _paused.Count > 0)
                {
                    if (!closed)
                    {
                        closed = true;
                        continue;
                    }

                    // Nothing runs and the scheduler resumes nothing: the paused trials are done.
                    foreach (var trialId in _paused.ToArray())
                    {
                        await EndPausedAsync(trialId, $"{spec.Scheduler.Algorithm}: paused, and nothing is left that would resume it");
                    }

                    closed = false;
                    continue;
                }

                break;
            }
        }
        finally
        {
            _filling = false;
            await Task.WhenAll(starts);
        }

        if (!_finishing && _live == 0 && _paused.Count == 0 && _resuming.Count == 0 && _searcher!.IsExhausted)
        {
            await EndAsync(ExperimentStatus.Completed, null);
        }
    }

    /// <summary>Creates a trial with the searcher's next config (its grain's start added to <paramref name="starts"/>), or returns false when the searcher has none now.</summary>
    private bool TryStartNew(List<Task> starts)
    {
        var spec = _spec!;
        var trialId = $"t{_trials.Count + 1:D5}";
        if (!_searcher!.TrySuggest(trialId, out var config))
        {
            return false;
        }

        var entry = new TrialEntry(trialId, config, _trials.Count + 1);
        _trials.Add(trialId, entry);
        Count(TrialStatus.Pending, +1);
        _live++;
        _writer!.TrialCreated(trialId, config);
        _sinks?.TrialCreated(trialId, config, time.GetUtcNow());
        Emit(ExperimentEventKind.TrialCreated, trialId, TrialStatus.Pending, config: config);
        _scheduler!.OnTrialAdd(trialId, config);
        var assignment = new TrialAssignment(
            Id,
            trialId,
            spec.Trainable,
            config,
            SeededNoise.DeriveSeed(spec.Search.Seed, entry.Index),
            1,
            new ResourceRequest(spec.Resources.Cpu, spec.Resources.Gpu),
            Path.Combine(_writer.TrialDirectory(trialId), "checkpoints"),
            spec.Checkpoint.Frequency,
            spec.Checkpoint.Keep,
            null,
            entry.Grain = GrainFactory.GetGrain<ITrialGrain>(TrialKeys.Of(Id, trialId)),
            this.AsReference<IExperimentGrain>(),
            spec.Custom,
            TraceParent: TunerTelemetry.TraceParent(BeginTrialSpan(entry)));
        starts.Add(entry.Grain.InitializeAsync(assignment, spec.Failure.MaxFailures));
        return true;
    }

    /// <summary>Puts a paused trial back in the queue: from its own checkpoint, or with population-based training's exploit from a copy of another trial's latest one with a new config.</summary>
    private async Task ResumeAsync(TrialEntry entry, SchedulerChoice choice)
    {
        _paused.Remove(entry.TrialId);
        _live++;
        SetStatus(entry, TrialStatus.Pending, choice.Reason);
        CheckpointRef? restoreFrom = null;
        if (choice.CloneFrom is { } donorId && _trials.TryGetValue(donorId, out var donor))
        {
            restoreFrom = await CloneCheckpointAsync(donor, entry);
            if (restoreFrom is null)
            {
                LogNoCheckpointToClone(logger, Id, entry.TrialId, donorId);
            }
        }

        if (restoreFrom is not null && choice.Config is { } config)
        {
            entry.Config = config;
            _writer!.ConfigChanged(entry.TrialId, config);
            Emit(ExperimentEventKind.ConfigChanged, entry.TrialId, config: config);
        }

        if (restoreFrom is not null)
        {
            // The copy's iterations are the donor's: what comes next is recorded from there.
            entry.Iteration = restoreFrom.Iteration;
        }

        Decide(entry, restoreFrom is null ? "resume" : "exploit", choice.Reason ?? $"{_spec!.Scheduler.Algorithm}: resumed");

        await entry.Grain!.ResumeAsync(restoreFrom is null ? null : choice.Config, restoreFrom);
    }

    /// <summary>
    /// Copies the donor's latest checkpoint into the trial's own (emptied) checkpoint folder, so that
    /// the donor's pruning never removes it. Null when the donor has no checkpoint.
    /// </summary>
    private async Task<CheckpointRef?> CloneCheckpointAsync(TrialEntry donor, TrialEntry entry)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if ((await donor.Grain!.GetAsync()).Checkpoint is not { } latest)
            {
                return null;
            }

            var root = Path.Combine(_writer!.TrialDirectory(entry.TrialId), "checkpoints");
            try
            {
                if (Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }

                var target = Path.Combine(root, Path.GetFileName(Path.TrimEndingDirectorySeparator(latest.Path)));
                CopyDirectory(latest.Path, target);
                return latest with { Path = target };
            }
            catch (DirectoryNotFoundException)
            {
                // The donor pruned it meanwhile: take its newer one.
            }
        }

        return null;
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(directory, Path.Combine(target, Path.GetFileName(directory)));
        }
    }

    /// <summary>Ends a paused trial (it holds no slot, so it ends here and now).</summary>
    private async Task<bool> EndPausedAsync(string trialId, string reason)
    {
        if (!_trials.TryGetValue(trialId, out var entry) || entry.Status != TrialStatus.Paused)
        {
            return false;
        }

        Decide(entry, "stop", reason);
        RecordEnd(entry, TrialStatus.Terminated, reason);
        await entry.Grain!.StopAsync(reason);
        return true;
    }

    private async Task OnTimeBudgetAsync()
    {
        if (!_finishing)
        {
            await EndAsync(ExperimentStatus.Completed, $"time_budget_s of {_spec!.Stop.TimeBudgetS} s reached");
        }
    }

    /// <summary>
    /// Ends the experiment: no new trials, live ones are stopped and given a grace period to report
    /// back, the files are written, and only then does the final status show in snapshots.
    /// </summary>
    private async Task EndAsync(ExperimentStatus status, string? reason)
    {
        if (_finishing)
        {
            return;
        }

        _finishing = true;
        _budgetTimer?.Dispose();
        _statusReason = reason;
        _resuming.Clear();
        if (status == ExperimentStatus.Stopped)
        {
            _interrupted = _trials.Values.Where(t => !t.Status.IsFinal()).Select(t => t.TrialId).ToHashSet(StringComparer.Ordinal);
            _interruptedPaused = _paused.ToHashSet(StringComparer.Ordinal);
            ExperimentJournal.WriteInterrupted(_journal!, _interrupted.Order(StringComparer.Ordinal), _interruptedPaused.Order(StringComparer.Ordinal));
        }

        if (_live > 0)
        {
            _allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var entry in _trials.Values.Where(t => !t.Status.IsFinal() && t.Status != TrialStatus.Paused).ToList())
            {
                await entry.Grain!.StopAsync(reason ?? "experiment ended");
            }

            await Task.WhenAny(_allEnded.Task, Task.Delay(StopGracePeriod, time));
        }

        foreach (var entry in _paused.Select(id => _trials[id]).ToList())
        {
            await EndPausedAsync(entry.TrialId, reason ?? "experiment ended");
        }

        foreach (var entry in _trials.Values.Where(t => !t.Status.IsFinal()).ToList())
        {
            // No answer within the grace period: recorded as stopped; late reports are ignored.
            SetStatus(entry, TrialStatus.Terminated, entry.Reason ?? reason ?? "experiment ended");
            _writer!.TrialEnded(entry.TrialId, null);
            _sinks?.TrialEnded(entry.TrialId, TrialStatus.Terminated, time.GetUtcNow());
            EndTrialSpan(entry);
            _live--;
        }

        if (status == ExperimentStatus.Completed && _trials.Count > 0 && _counts.GetValueOrDefault(TrialStatus.Terminated) == 0)
        {
            status = ExperimentStatus.Failed;
            _statusReason ??= "every trial ended in ERROR";
        }

        _status = status;
        _endedAt = time.GetUtcNow();
        UpdateDocument();
        if (_sinks is { } sinks)
        {
            // TensorBoard's files written out, MLflow's queue sent (or given up on): a failing sink never fails the experiment.
            await sinks.ExperimentEndedAsync(status, _endedAt.Value);
            if (status != ExperimentStatus.Stopped)
            {
                await sinks.DisposeAsync();
                _sinks = null;
            }
        }

        // The end goes into the journal before the folder is closed; watchers see it once the files are written.
        var end = Emit(ExperimentEventKind.ExperimentStatus, experimentStatus: _status, message: _statusReason, hold: false);
        try
        {
            if (status == ExperimentStatus.Stopped)
            {
                // Everything written, the folder kept open: a stopped experiment may be resumed.
                _writer!.Flush(force: true);
            }
            else
            {
                await _writer!.DisposeAsync();
            }
        }
        catch (IOException ex)
        {
            // The results could not all be written: say so rather than leave the experiment running forever.
            _status = ExperimentStatus.Failed;
            _statusReason = $"could not write the results: {ex.InnerException?.Message ?? ex.Message}";
            LogWriteFailed(logger, Id, ex);
            end = end with { ExperimentStatus = _status, Message = _statusReason };
        }

        if (status != ExperimentStatus.Stopped)
        {
            // Closed with the folder.
            _journal = null;
        }

        _published = true;
        _ended.TrySetResult();
        Hold(end);
        GrainFactory.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey).ExperimentEndedAsync(Id).Ignore();
        GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey).SetRunningAsync(Id, false).Ignore();
        using (TunerTelemetry.Within(_span))
        {
            LogEnded(logger, Id, _status.ToWire(), _statusReason, _counts.GetValueOrDefault(TrialStatus.Terminated), _counts.GetValueOrDefault(TrialStatus.Error));
        }

        if (_span is not null)
        {
            _span.SetTag("tuner.experiment.status", _status.ToWire()).SetTag("tuner.trials", _trials.Count);
            if (Best() is { } bestTrial)
            {
                _span.SetTag("tuner.best.trial", bestTrial.TrialId).SetTag("tuner.best.value", bestTrial.LastMetric);
            }

            if (_status == ExperimentStatus.Failed)
            {
                _span.SetStatus(ActivityStatusCode.Error, _statusReason);
            }

            TunerTelemetry.End(_span);
            _span = null;
        }
    }

    /// <summary>The experiment's span (a child of the caller's, e.g. the client's submit).</summary>
    private void BeginSpan(string name)
    {
        var spec = _spec!;
        _span = TunerTelemetry.StartDetached($"{name} {spec.Name}", ActivityKind.Internal)
            ?.SetTag("tuner.experiment.id", Id)
            .SetTag("tuner.experiment.name", spec.Name)
            .SetTag("tuner.searcher", spec.Search.Algorithm)
            .SetTag("tuner.scheduler", spec.Scheduler.Algorithm)
            .SetTag("tuner.metric", spec.Metric)
            .SetTag("tuner.mode", spec.Mode.ToString().ToLowerInvariant());
    }

    /// <summary>The span of a trial's life in this experiment (every run of it, on whichever worker); its context goes to the worker in the assignment.</summary>
    private Activity? BeginTrialSpan(TrialEntry entry)
    {
        if (entry.Span is null)
        {
            entry.Span = TunerTelemetry.StartDetached($"trial {entry.TrialId}", ActivityKind.Internal, _span?.Context ?? default);
            if (entry.Span is { } span)
            {
                span.SetTag("tuner.experiment.id", Id).SetTag("tuner.trial.id", entry.TrialId);
                foreach (var (name, value) in entry.Config)
                {
                    span.SetTag("tuner.param." + name, value.ToDisplayString());
                }
            }
        }

        return entry.Span;
    }

    private void EndTrialSpan(TrialEntry entry)
    {
        if (entry.Span is not { } span)
        {
            return;
        }

        span.SetTag("tuner.trial.status", entry.Status.ToWire()).SetTag("tuner.trial.iterations", entry.Iteration);
        if (entry.LastMetric is { } last)
        {
            span.SetTag("tuner.metric.value", last);
        }

        if (entry.Status == TrialStatus.Error)
        {
            span.SetStatus(ActivityStatusCode.Error, entry.Reason);
        }

        TunerTelemetry.End(span);
        entry.Span = null;
    }

    /// <summary>The experiment's gauges, filled with what it has so far (a restored experiment has trials already).</summary>
    private void AttachGauges()
    {
        var gauges = _gauges = TunerTelemetry.Experiment(Id, _spec!.Metric, _spec.Mode == OptimizationMode.Min);
        foreach (var (status, count) in _counts)
        {
            gauges.SetCount(status.ToWire(), count);
        }

        foreach (var entry in _trials.Values)
        {
            if (entry.LastMetric is { } value)
            {
                gauges.SetLatest(entry.TrialId, value, entry.Iteration);
            }
        }
    }

    /// <summary>The spec's result sinks (TensorBoard, MLflow), told the experiment (re)started.</summary>
    private void OpenSinks(string directory, DateTimeOffset at, bool resumed)
    {
        _sinks = ResultSinks.For(_spec!, Id, logger);
        _sinks.ExperimentStarted(_spec!, directory, at, resumed);
    }

    private void SetStatus(TrialEntry entry, TrialStatus status, string? reason)
    {
        Count(entry.Status, -1);
        Count(status, +1);
        var changed = entry.Status != status;
        entry.Status = status;
        if (reason is not null)
        {
            entry.Reason = reason;
        }

        if (changed)
        {
            Emit(ExperimentEventKind.TrialStatus, entry.TrialId, status, message: reason ?? (status.IsFinal() ? entry.Reason : null));
        }
    }

    private void Count(TrialStatus status, int delta)
    {
        var count = _counts[status] = _counts.GetValueOrDefault(status) + delta;
        _gauges?.SetCount(status.ToWire(), count);
    }

    private TrialEntry? Best()
    {
        TrialEntry? best = null;
        foreach (var entry in _trials.Values)
        {
            if (entry.LastMetric is { } value && !double.IsNaN(value) && (best is null || _spec!.IsBetter(value, best.LastMetric!.Value)))
            {
                best = entry;
            }
        }

        return best;
    }

    private void UpdateDocumentIfDue()
    {
        if (time.GetElapsedTime(_lastDocumentUpdate) >= TimeSpan.FromSeconds(1))
        {
            UpdateDocument();
        }
    }

    private void UpdateDocument()
    {
        _lastDocumentUpdate = time.GetTimestamp();
        _searcher?.Flush();
        var best = Best();
        _writer!.UpdateExperiment(new ExperimentDocument(
            Id,
            _spec!,
            _status,
            _statusReason,
            _startedAt,
            _endedAt,
            new Dictionary<TrialStatus, int>(_counts),
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            _trials.Values.Select(t => new TrialSummary(t.TrialId, t.Status, t.Config, t.Iteration, t.Failures, t.LastMetric, t.Reason, t.Diagnosis, t.Decisions)).ToList()));
    }

    private ExperimentSnapshot Snapshot(int maxRows)
    {
        var spec = _spec ?? throw new InvalidOperationException($"experiment {Id} has not been started");
        var best = Best();
        var rows = _trials.Values
            .OrderBy(t => t.Status switch { TrialStatus.Running => 0, TrialStatus.Paused => 1, TrialStatus.Pending => 2, _ => 3 })
            .ThenByDescending(t => t.Status.IsFinal() ? t.Index : -t.Index)
            .Take(Math.Max(maxRows, 0))
            .Select(t => new TrialRow(t.TrialId, t.Status, t.Config, t.Iteration, t.LastMetric, t.Failures, t.Reason, t.Diagnosis, t.Decisions?.Select(d => d.ToString()).ToList(), t.Worker))
            .ToList();
        return new ExperimentSnapshot(
            Id,
            spec.Name,
            _published ? _status : ExperimentStatus.Running,
            _published ? _statusReason : null,
            _directory,
            spec.Metric,
            spec.Mode,
            _totalTrials,
            new Dictionary<TrialStatus, int>(_counts),
            rows,
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            _results,
            time.GetElapsedTime(_startTimestamp).TotalSeconds,
            _isSpecError);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} ({Name}) started: {Trials} trials, results in {Directory}")]
    private static partial void LogStarted(ILogger logger, string experimentId, string name, long trials, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} ended {Status} ({Reason}): {Terminated} terminated, {Errors} errors")]
    private static partial void LogEnded(ILogger logger, string experimentId, string status, string? reason, int terminated, int errors);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} resumed with {Trials} interrupted trial(s)")]
    private static partial void LogResumed(ILogger logger, string experimentId, int trials);

    [LoggerMessage(Level = LogLevel.Information, Message = "Experiment {ExperimentId} restored from the journal in {Directory}: {Status}, {Trials} trials, {Requeued} requeued")]
    private static partial void LogRestored(ILogger logger, string experimentId, string directory, string status, int trials, int requeued);

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId} could not be restored from the journal in {Directory}")]
    private static partial void LogRestoreFailed(ILogger logger, string experimentId, string directory, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId} could not write its results")]
    private static partial void LogWriteFailed(ILogger logger, string experimentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: trial {TrialId} resumes from its own checkpoint: {DonorId} has none to copy")]
    private static partial void LogNoCheckpointToClone(ILogger logger, string experimentId, string trialId, string donorId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: trial {TrialId} ended in ERROR: {Error}")]
    private static partial void LogTrialError(ILogger logger, string experimentId, string trialId, string? error);

    private sealed class TrialEntry(string trialId, TrialConfig config, int index)
    {
        public string TrialId { get; } = trialId;

        public TrialConfig Config { get; set; } = config;

        public int Index { get; } = index;

        public TrialStatus Status { get; set; } = TrialStatus.Pending;

        public long Iteration { get; set; }

        /// <summary>The latest run (assignment attempt) the trial has started or queued; reports of earlier runs are refused.</summary>
        public int Attempt { get; set; } = 1;

        public double? LastMetric { get; set; }

        public TrialResult? LastResult { get; set; }

        public int Failures { get; set; }

        public string? Reason { get; set; }

        public ITrialGrain? Grain { get; set; }

        /// <summary>The worker of its latest run (a label of its iteration times).</summary>
        public string? Worker { get; set; }

        /// <summary>The trial's span while it lives; null once ended or when nothing listens.</summary>
        public Activity? Span { get; set; }

        /// <summary>(valid_loss, lr) per iteration, for trials that report both.</summary>
        public List<(double Loss, double Rate)>? Curve { get; set; }

        /// <summary>Every decision other than "continue", in order; null until there is one.</summary>
        public List<TrialDecision>? Decisions { get; set; }

        /// <summary>Learning-rate advice from the curve, once the trial has ended.</summary>
        public string? Diagnosis { get; set; }
    }
}

/// <summary>What the experiment grain keeps in grain storage: where its run folder (and journal) is.</summary>
[GenerateSerializer, Alias("Tuner.ExperimentLocation")]
public sealed class ExperimentLocation
{
    [Id(0)]
    public string? RunDirectory { get; set; }

    /// <summary>A command trainable's environment values (secrets), which the journal holds redacted.</summary>
    [Id(1)]
    public Dictionary<string, string>? Secrets { get; set; }
}
