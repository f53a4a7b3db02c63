using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Schedulers;
using Tuner.Core.Search;
using Tuner.Core.Spec;
using Tuner.Core.Telemetry;
using Tuner.Core.Trainables;
using Tuner.Hosting;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// Ray's tuner for one experiment, as a grain: the Orleans plumbing around an <see cref="ExperimentController"/>,
/// which holds the logic. The grain keeps the timers, the trial grains' references and the persisted location,
/// hands every change to the journal, run folder, sinks, telemetry and watchers (<see cref="ExperimentOutputs"/>),
/// and carries out the controller's commands in order on one dispatcher. Calls into it from trials and workers
/// never wait on calls out of it (the dispatcher runs them after the call returns), so the grain call cycle
/// experiment → trial → scheduler → worker → trial → experiment never blocks. Reentrant: state changes only
/// between awaits, inside the controller.
/// </summary>
[Reentrant]
[CollectionAgeLimit(AlwaysActive = true)]
public sealed class ExperimentGrain(
    [PersistentState("experiment", TunerStorage.Name)] IPersistentState<ExperimentLocation> location,
    TrainableRegistry registry,
    Tuner.Core.Checkpoints.ICheckpointStore checkpoints,
    TimeProvider time,
    ILogger<ExperimentGrain> logger) : Grain, IExperimentGrain
{
    /// <summary>How long live trials get to report back when the experiment ends.</summary>
    private static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private readonly ExperimentEventLog _events = new();
    private ExperimentController? _controller;
    private ExperimentOutputs? _outputs;
    private ExperimentTelemetry? _telemetry;
    private string? _directory;
    private long _totalTrials;
    private long _startTimestamp;
    private IGrainTimer? _budgetTimer;
    private TrialDispatcher? _dispatcher;

    // The end is published (final status in snapshots, watchers told) once the files are written.
    private bool _published;
    private TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string Id => this.GetPrimaryKeyString();

    private ExperimentController Controller => _controller ?? throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist");

    private IExperimentRegistryGrain Registry => GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey);

    private Task Dispatch(IReadOnlyList<ExperimentCommand> commands) =>
        (_dispatcher ?? throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist")).Dispatch(commands);

    private ITrialGrain Trial(string trialId) => _dispatcher!.Trial(trialId);

    /// <summary>The experiment now held: its gauges, and the dispatcher of its commands.</summary>
    private void Hold(ExperimentController controller, string directory)
    {
        _controller = controller;
        _directory = directory;
        _events.JournalPath = Path.Combine(directory, ExperimentJournal.FileName);
        _totalTrials = VariantGenerator.CountTrials(controller.Spec);
        _telemetry!.AttachGauges(controller);
        _dispatcher = new TrialDispatcher(
            Id, GrainFactory, this.AsReference<IExperimentGrain>(), controller, _telemetry!, checkpoints, directory, e => EndAsync(e.Status, e.Reason), logger);
    }

    public async Task<ExperimentSnapshot> StartAsync(ExperimentSubmission submission)
    {
        if (_controller is { } existing)
        {
            // Submitting again (a client's retry) is harmless; another spec under the same id is not.
            return SpecWriter.ToJson(existing.Spec) == SpecWriter.ToJson(submission.Spec)
                ? Snapshot(20)
                : throw new TunerRequestException(RequestFailure.AlreadyExists, $"experiment {Id} already exists with another spec");
        }

        var spec = submission.Spec;
        if (SpecValidator.Validate(spec, registry).Concat(CustomTrainableCheck.Errors(spec)).ToList() is { Count: > 0 } errors)
        {
            throw new ExperimentRejectedException(errors);
        }

        // The folder first: if it cannot be made, the grain stays unstarted and the caller sees why.
        var writer = RunFolderWriter.Create(submission.OutputRoot, spec.Name, durability: spec.Durability);
        var outputs = NewOutputs(spec);
        outputs.Writer = writer;
        outputs.Journal = writer.OpenJournal(ExperimentJournal.FileName);
        outputs.Archive = TrialArchiveFile.Open(writer.Directory, keep: 0);
        var startedAt = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();

        // Everything that changes the experiment goes to its journal, the searcher's and the scheduler's calls too.
        ExperimentJournal.WriteStart(outputs.Journal, Id, spec.Redacted(), startedAt);
        var controller = ExperimentController.Create(spec, outputs.Journal, outputs, time, startedAt, outputs.Archive);
        Hold(controller, writer.Directory);
        _telemetry!.BeginSpan("experiment");
        OpenSinks(startedAt, resumed: false);

        await RecordLocationAsync(writer.Directory, spec);
        using (TunerTelemetry.Within(_telemetry.Span))
        {
            ExperimentLog.Started(logger, Id, spec.Name, _totalTrials, writer.Directory);
        }

        StartBudgetTimer(TimeSpan.Zero);
        await Registry.RegisterAsync(new ExperimentListing(Id, spec.Name, startedAt));
        controller.Start();
        UpdateDocument();
        await Dispatch(controller.Fill());
        return Snapshot(20);
    }

    public async Task<ExperimentSnapshot> RestoreAsync(string runDirectory, ExperimentSpec? spec)
    {
        if (_controller is null)
        {
            await RestoreFromJournalAsync(Path.GetFullPath(runDirectory), spec);
        }

        return Snapshot(20);
    }

    /// <summary>After a restart the grain's record says where its run folder is: the experiment comes back from the journal there.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (location.RecordExists && location.State.RunDirectory is { } directory && _controller is null)
        {
            try
            {
                await RestoreFromJournalAsync(directory);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The grain stays unstarted (calls answer NOT_FOUND) rather than failing every call; the operator sees why.
                ExperimentLog.RestoreFailed(logger, Id, directory, ex);
                _controller = null;
                _dispatcher = null;
            }
        }
    }

    /// <summary>
    /// Rebuilds the experiment from its journal (<see cref="ExperimentRestorer"/>). Trials that were running go back to the
    /// queue as a new run, from their latest checkpoint the journal covers; what they report again up to the iteration already
    /// recorded is dropped. A stopped experiment stays stopped (and can be resumed); an ended one is only read.
    /// </summary>
    private async Task RestoreFromJournalAsync(string directory, ExperimentSpec? supplied = null)
    {
        var (replay, outputs, extendPending) = ExperimentRestorer.Replay(Id, directory, supplied, location.RecordExists ? location.State : null, NewOutputs, time);
        var controller = replay.Controller;
        var spec = controller.Spec;
        Hold(controller, directory);
        _dispatcher!.Replay = replay;
        if (!location.RecordExists || location.State.RunDirectory != directory)
        {
            await RecordLocationAsync(directory, spec);
        }

        await Registry.RegisterAsync(new ExperimentListing(Id, spec.Name, controller.StartedAt));
        if (controller.Status != ExperimentStatus.Running && !extendPending)
        {
            _published = true;
            _ended.TrySetResult();
            _startTimestamp = time.GetTimestamp() - Ticks((controller.EndedAt ?? controller.LastEventTime) - controller.StartedAt);
            await Registry.SetRunningAsync(Id, false);
            await Dispatch(controller.RecoverEnded());
            _dispatcher.Replay = null;
            outputs.Writer?.Flush(force: true);
            ExperimentLog.Restored(logger, Id, directory, controller.Status.ToWire(), controller.Trials.Count, 0);
            return;
        }

        // Killed while it ran: the clock goes on from the journal's last event. A new span covers the rest of the run.
        var ranFor = controller.LastEventTime - controller.StartedAt;
        _telemetry!.BeginSpan("experiment (restored)");
        OpenSinks(time.GetUtcNow(), resumed: true);
        _startTimestamp = time.GetTimestamp() - Ticks(ranFor);
        StartBudgetTimer(ranFor);
        await Registry.SetRunningAsync(Id, true);
        // Extended after it completed: it goes on from its end, the searcher continuing to the new samples.
        var (commands, requeued) = extendPending ? (controller.Extend(), 0) : controller.RecoverRunning(trial => _dispatcher.LatestCheckpoint(trial)?.Iteration);
        ExperimentLog.Restored(logger, Id, directory, controller.Status.ToWire(), controller.Trials.Count, requeued);
        UpdateDocument();
        await Dispatch(commands);
        _dispatcher.Replay = null;
    }

    /// <summary>Where the run folder is, in the grain's record. A command's environment values are secrets: never in the folder, kept here for a restore.</summary>
    private Task RecordLocationAsync(string directory, ExperimentSpec spec)
    {
        location.State = new ExperimentLocation { RunDirectory = directory, Secrets = spec.Custom?.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null };
        return location.WriteStateAsync();
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * TimeProvider.System.TimestampFrequency);

    public async Task<ExperimentSnapshot> ResumeAsync()
    {
        var controller = Controller;
        if (!_published || controller.Status != ExperimentStatus.Stopped)
        {
            throw new TunerRequestException(RequestFailure.FailedPrecondition, _published
                ? $"experiment {Id} ended {controller.Status.ToWire()}; only a stopped experiment can be resumed"
                : $"experiment {Id} is still running");
        }

        _published = false;
        _ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (_telemetry!.Span is null)
        {
            _telemetry.BeginSpan("experiment (resumed)");
        }

        if (_outputs!.Sinks is null)
        {
            OpenSinks(time.GetUtcNow(), resumed: true);
        }

        StartBudgetTimer((controller.EndedAt ?? controller.StartedAt) - controller.StartedAt);
        await Registry.SetRunningAsync(Id, true);
        var commands = controller.Resume();
        ExperimentLog.Resumed(logger, Id, commands.Count(c => c is ReopenTrial));
        UpdateDocument();
        await Dispatch(commands);
        return Snapshot(20);
    }

    /// <summary>
    /// A completed experiment goes on to <paramref name="samples"/> configs: the journal gets an <c>extended</c> line, and this
    /// activation, which only reads the finished run, goes; the next call activates the grain again, which restores the
    /// experiment from its journal with the larger samples and runs the new trials (<see cref="RestoreFromJournalAsync"/>).
    /// </summary>
    public async Task ExtendAsync(int samples)
    {
        var controller = Controller;
        if (!_published || controller.Status != ExperimentStatus.Completed)
        {
            throw new TunerRequestException(RequestFailure.FailedPrecondition, _published
                ? $"experiment {Id} ended {controller.Status.ToWire()}; only a completed experiment can be extended{(controller.Status == ExperimentStatus.Stopped ? " (a stopped one is resumed)" : string.Empty)}"
                : $"experiment {Id} is still running");
        }

        if (samples <= controller.Spec.Samples)
        {
            throw new SpecException("samples", $"{samples} must be more than the {controller.Spec.Samples} the experiment already has");
        }

        var path = Path.Combine(_directory!, ExperimentJournal.FileName);
        await using (var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        await using (var log = new StreamWriter(stream, new System.Text.UTF8Encoding(false)))
        {
            ExperimentJournal.WriteExtended(log, samples);
            await log.FlushAsync();
            stream.Flush(flushToDisk: controller.Spec.Durability == Tuner.Core.Results.Durability.Fsync);
        }

        ExperimentLog.Extended(logger, Id, controller.Spec.Samples, samples);
        if (_outputs is { } outputs)
        {
            await outputs.CloseAsync(keepFolder: true);
            _outputs = null;
        }

        _controller = null;
        _dispatcher = null;
        DeactivateOnIdle();
    }

    public async Task StopTrialAsync(string trialId, string reason)
    {
        var commands = Controller.TryGetTrial(trialId, out _) ? Controller.StopTrial(trialId, reason) : throw NoSuchTrial(trialId);
        await Dispatch(commands);
        UpdateDocumentIfDue();
    }

    public Task<ExperimentSpec?> GetSpecAsync() => Task.FromResult(_controller?.Spec);

    public async Task<TrialInfo> GetTrialAsync(string trialId)
    {
        var trial = Controller.TryGetTrial(trialId, out var found) ? found : throw NoSuchTrial(trialId);
        if (trial.Status.IsFinal())
        {
            // An ended trial's grain has left memory: its record here tells all there is.
            return new TrialInfo(Id, trialId, trial.Status, trial.Config, trial.Iteration, trial.LastResult, _dispatcher!.LatestCheckpoint(trial), trial.Failures, null, trial.Reason);
        }

        // Results come here, not to the trial grain: the latest is the experiment's to tell.
        return (await Trial(trialId).GetAsync()) with { LastIteration = trial.Iteration, LastResult = trial.LastResult };
    }

    private TunerRequestException NoSuchTrial(string trialId) =>
        new(RequestFailure.NotFound, $"experiment {Id} has no trial '{trialId}' (it has {Controller.Trials.Count}: t00001 to t{Controller.Trials.Count:D5})");

    public async Task<EventPage> ReadEventsAsync(long after, int max, TimeSpan wait)
    {
        var last = Controller.NextPosition - 1;
        if (after >= last && !_published)
        {
            await Task.WhenAny(_events.Added, Task.Delay(wait, time));
        }

        // Watchers see an event only once it is in the journal on disk: one who reconnects after a
        // restart finds every position it saw holding the same event.
        return _events.Read(after, max, _outputs!.Durable(Controller.NextPosition - 1), _published);
    }

    public Task<ExperimentSnapshot> GetSnapshotAsync(int maxRows) => Task.FromResult(Snapshot(maxRows));

    /// <summary>A stopped experiment keeps its folder open for a resume; the silo's shutdown closes it.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_outputs is { } outputs)
        {
            await outputs.CloseAsync(keepFolder: !_published || _controller?.Status != ExperimentStatus.Stopped);
        }

        await base.OnDeactivateAsync(reason, cancellationToken);
    }

    public Task<bool> WaitForEndAsync(TimeSpan timeout) => _published ? Task.FromResult(true) : CompletesWithinAsync(_ended.Task, timeout);

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan timeout) => await Task.WhenAny(task, Task.Delay(timeout, time)) == task;

    public Task StopAsync(string reason) => Dispatch([new EndExperiment(ExperimentStatus.Stopped, reason)]);

    // ---- Notifications from trials and workers: decided at once, carried out after the call returns ----

    public Task OnTrialStartedAsync(string trialId, string workerId, int attempt)
    {
        if (_controller?.OnTrialStarted(trialId, workerId, attempt) == true)
        {
            _telemetry!.TrialRunning(trialId, workerId, attempt);
        }

        return Task.CompletedTask;
    }

    public Task<TrialCommand[]> OnTrialResultsAsync(IReadOnlyList<TrialReport> reports)
    {
        var controller = Controller;
        var commands = new List<ExperimentCommand>();
        var answers = new TrialCommand[reports.Count];
        for (var i = 0; i < reports.Count; i++)
        {
            var report = reports[i];
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var action = controller.OnResult(report.TrialId, report.Attempt, report.Result, commands);
            _telemetry!.Decided(controller.TryGetTrial(report.TrialId, out var trial) ? trial : null, action, started);
            answers[i] = action switch { SchedulerAction.Stop => TrialCommand.Stop, SchedulerAction.Pause => TrialCommand.Pause, _ => TrialCommand.Continue };
        }

        if (controller.WantsFill)
        {
            // A result may settle a rung that paused trials wait on (the reporter going straight on): resume them now.
            commands.AddRange(controller.Fill());
        }

        _ = Dispatch(commands);
        UpdateDocumentIfDue();
        return Task.FromResult(answers);
    }

    public Task OnTrialRetryingAsync(string trialId, int failures, string error, int attempt)
    {
        _controller?.OnTrialRetrying(trialId, failures, error, attempt);
        return Task.CompletedTask;
    }

    public Task OnTrialPausedAsync(string trialId) => Ended(Controller.OnTrialPaused(trialId));

    public Task OnTrialEndedAsync(string trialId, TrialStatus status, string? reason) => Ended(Controller.OnTrialEnded(trialId, status, reason));

    /// <summary>After a trial paused or ended: the last of those an ending experiment waits for lets it finish; otherwise its slot is filled.</summary>
    private Task Ended(IReadOnlyList<ExperimentCommand> commands)
    {
        _dispatcher!.TrialEnded();

        _ = Dispatch(commands);
        UpdateDocumentIfDue();
        return Task.CompletedTask;
    }

    private void StartBudgetTimer(TimeSpan ranFor)
    {
        if (Controller.Spec.Stop.TimeBudgetS is { } budget)
        {
            var left = TimeSpan.FromSeconds(budget) - ranFor;
            _budgetTimer = this.RegisterGrainTimer(
                static (grain, _) => grain.Dispatch([new EndExperiment(ExperimentStatus.Completed, $"time_budget_s of {grain.Controller.Spec.Stop.TimeBudgetS} s reached")]),
                this,
                new GrainTimerCreationOptions(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }
    }

    /// <summary>
    /// Ends the experiment: no new trials, live ones are stopped and given a grace period to report
    /// back, the files are written, and only then does the final status show in snapshots.
    /// </summary>
    private async Task EndAsync(ExperimentStatus status, string? reason)
    {
        var controller = Controller;
        if (controller.BeginEnd(status, reason) is not { } stops)
        {
            return;
        }

        _budgetTimer?.Dispose();
        await _dispatcher!.StopAllAsync(stops, StopGracePeriod, time);
        var end = await ExperimentFiles.WriteEndAsync(controller, _outputs!, UpdateDocument, ex => ExperimentLog.WriteFailed(logger, Id, ex));
        _published = true;
        _ended.TrySetResult();
        _events.Hold(end);
        await GrainFactory.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey).ExperimentEndedAsync(Id);
        await Registry.SetRunningAsync(Id, false);
        using (TunerTelemetry.Within(_telemetry!.Span))
        {
            ExperimentLog.Ended(logger, Id, controller.Status.ToWire(), controller.StatusReason, controller.Counts.GetValueOrDefault(TrialStatus.Terminated), controller.Counts.GetValueOrDefault(TrialStatus.Error));
        }

        _telemetry.EndSpan(controller);
    }

    private ExperimentOutputs NewOutputs(ExperimentSpec spec)
    {
        _telemetry = new ExperimentTelemetry(Id, spec);
        return _outputs = new ExperimentOutputs(Id, _events, _telemetry, time, logger);
    }

    private void OpenSinks(DateTimeOffset at, bool resumed) => _outputs!.OpenSinks(Controller.Spec, _directory!, at, resumed);

    private void UpdateDocument() => _outputs!.UpdateDocument(Controller);

    private void UpdateDocumentIfDue()
    {
        _outputs!.UpdateDocument(Controller, force: false);
        _outputs.MaybeSnapshot(Controller);
    }

    private ExperimentSnapshot Snapshot(int maxRows) =>
        ExperimentSnapshots.Of(Id, _controller ?? throw new InvalidOperationException($"experiment {Id} has not been started"), _published, _directory, _totalTrials, time.GetElapsedTime(_startTimestamp).TotalSeconds, maxRows);
}
