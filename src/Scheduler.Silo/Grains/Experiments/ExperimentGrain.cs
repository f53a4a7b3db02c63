using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Results;
using Tuner.Core.Results.Sinks;
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
public sealed partial class ExperimentGrain(
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
    private long _lastDocumentUpdate;
    private IGrainTimer? _budgetTimer;
    private Task _dispatch = Task.CompletedTask;

    // The end is published (final status in snapshots, watchers told) once the files are written.
    private bool _published;
    private TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _allEnded;

    private string Id => this.GetPrimaryKeyString();

    private ExperimentController Controller => _controller ?? throw new TunerRequestException(RequestFailure.NotFound, $"experiment {Id} does not exist");

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
        var errors = SpecValidator.Validate(spec, registry).Concat(CustomTrainableCheck.Errors(spec)).ToList();
        if (errors.Count > 0)
        {
            throw new ExperimentRejectedException(errors);
        }

        // The folder first: if it cannot be made, the grain stays unstarted and the caller sees why.
        var writer = RunFolderWriter.Create(submission.OutputRoot, spec.Name);
        var outputs = NewOutputs(spec);
        outputs.Writer = writer;
        outputs.Journal = writer.OpenJournal(ExperimentJournal.FileName);
        _directory = writer.Directory;
        var startedAt = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();

        // Everything that changes the experiment goes to its journal, the searcher's and the scheduler's calls too.
        ExperimentJournal.WriteStart(outputs.Journal, Id, spec.Redacted(), startedAt);
        var controller = _controller = new ExperimentController(
            spec, new SearcherJournal(SearcherFactory.Create(spec), outputs.Journal), new SchedulerJournal(SchedulerFactory.Create(spec), outputs.Journal), outputs, time, startedAt);
        _totalTrials = VariantGenerator.CountTrials(spec);
        _telemetry!.AttachGauges(controller);
        _telemetry.BeginSpan("experiment");
        OpenSinks(startedAt, resumed: false);

        // A command's environment values are secrets: never in the run folder, kept with the grain's record for a restore.
        location.State = new ExperimentLocation { RunDirectory = writer.Directory, Secrets = spec.Custom?.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null };
        await location.WriteStateAsync();
        using (TunerTelemetry.Within(_telemetry.Span))
        {
            LogStarted(logger, Id, spec.Name, _totalTrials, writer.Directory);
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
                LogRestoreFailed(logger, Id, directory, ex);
                _controller = null;
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
        var (replay, outputs) = ExperimentRestorer.Replay(Id, directory, supplied, location.RecordExists ? location.State : null, NewOutputs, time);
        var controller = _controller = replay.Controller;
        var spec = controller.Spec;
        _directory = directory;
        _totalTrials = VariantGenerator.CountTrials(spec);
        if (!location.RecordExists || location.State.RunDirectory != directory)
        {
            location.State = new ExperimentLocation { RunDirectory = directory, Secrets = spec.Custom?.Env is { Count: > 0 } env ? new Dictionary<string, string>(env) : null };
            await location.WriteStateAsync();
        }

        await Registry.RegisterAsync(new ExperimentListing(Id, spec.Name, controller.StartedAt));
        _telemetry!.AttachGauges(controller);
        if (controller.Status != ExperimentStatus.Running)
        {
            _published = true;
            _ended.TrySetResult();
            _startTimestamp = time.GetTimestamp() - Ticks((controller.EndedAt ?? controller.LastEventTime) - controller.StartedAt);
            await Registry.SetRunningAsync(Id, false);
            await Dispatch(controller.RecoverEnded(), replay);
            outputs.Writer?.Flush(force: true);
            LogRestored(logger, Id, directory, controller.Status.ToWire(), controller.Trials.Count, 0);
            return;
        }

        // Killed while it ran: the clock goes on from the journal's last event. A new span covers the rest of the run.
        var ranFor = controller.LastEventTime - controller.StartedAt;
        _telemetry.BeginSpan("experiment (restored)");
        OpenSinks(time.GetUtcNow(), resumed: true);
        _startTimestamp = time.GetTimestamp() - Ticks(ranFor);
        StartBudgetTimer(ranFor);
        await Registry.SetRunningAsync(Id, true);
        var (commands, requeued) = controller.RecoverRunning(trial => LatestCheckpoint(trial, replay)?.Iteration);
        LogRestored(logger, Id, directory, controller.Status.ToWire(), controller.Trials.Count, requeued);
        UpdateDocument();
        await Dispatch(commands, replay);
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
        LogResumed(logger, Id, commands.Count(c => c is ReopenTrial));
        UpdateDocument();
        await Dispatch(commands);
        return Snapshot(20);
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

        // Results come here, not to the trial grain: the latest is the experiment's to tell.
        return (await Trial(trialId).GetAsync()) with { LastIteration = trial.Iteration, LastResult = trial.LastResult };
    }

    private TunerRequestException NoSuchTrial(string trialId) =>
        new(RequestFailure.NotFound, $"experiment {Id} has no trial '{trialId}' (it has {Controller.Trials.Count}: t00001 to t{Controller.Trials.Count:D5})");

    public async Task<EventPage> ReadEventsAsync(long after, int max, TimeSpan wait)
    {
        var controller = Controller;
        if (after >= controller.NextPosition - 1 && !_published)
        {
            await Task.WhenAny(_events.Added, Task.Delay(wait, time));
        }

        // Watchers see an event only once it is in the journal on disk: one who reconnects after a
        // restart finds every position it saw holding the same event.
        return _events.Read(after, max, Durable(), _published);
    }

    /// <summary>The last position written out to the journal (every one when the journal is closed).</summary>
    private long Durable()
    {
        var last = Controller.NextPosition - 1;
        if (_outputs?.Journal is null || _outputs.Writer is not { } writer || writer.DurableMark >= last)
        {
            return last;
        }

        try
        {
            return Math.Min(last, writer.FlushJournal());
        }
        catch (IOException)
        {
            return Math.Min(last, writer.DurableMark);
        }
    }

    public Task<ExperimentSnapshot> GetSnapshotAsync(int maxRows) => Task.FromResult(Snapshot(maxRows));

    /// <summary>A stopped experiment keeps its folder open for a resume; the silo's shutdown closes it.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_published && _controller?.Status == ExperimentStatus.Stopped && _outputs?.Writer is { } writer)
        {
            try
            {
                await writer.DisposeAsync();
            }
            catch (IOException ex)
            {
                LogWriteFailed(logger, Id, ex);
            }
        }

        if (_outputs?.Sinks is { } sinks)
        {
            await sinks.DisposeAsync();
            _outputs.Sinks = null;
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
            controller.TryGetTrial(report.TrialId, out var trial);
            var action = _telemetry!.Decide(trial, () => controller.OnResult(report.TrialId, report.Attempt, report.Result, commands));
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
        if (Controller.IsFinishing && Controller.AllEnded)
        {
            _allEnded?.TrySetResult();
        }

        _ = Dispatch(commands);
        UpdateDocumentIfDue();
        return Task.CompletedTask;
    }

    // ---- Carrying out commands ----

    /// <summary>Runs <paramref name="commands"/> after those dispatched before; the task completes when they have run. Failures are logged.</summary>
    private Task Dispatch(IReadOnlyList<ExperimentCommand> commands, ExperimentReplay? replay = null)
    {
        if (commands.Count == 0)
        {
            return _dispatch;
        }

        return _dispatch = RunAfterAsync(_dispatch, commands, replay);
    }

    private async Task RunAfterAsync(Task previous, IReadOnlyList<ExperimentCommand> commands, ExperimentReplay? replay)
    {
        await previous;

        // New trials are queued together: each asks for its slots without waiting for the one before.
        var starts = new List<Task>();
        try
        {
            foreach (var command in commands)
            {
                switch (command)
                {
                    case StartTrial start:
                        starts.Add(Trial(start.TrialId).InitializeAsync(Assignment(start.TrialId, 1, null), Controller.Spec.Failure.MaxFailures));
                        break;
                    case ResumeTrial resume:
                        await ResumeTrialAsync(resume);
                        break;
                    case StopTrial stop:
                        await Trial(stop.TrialId).StopAsync(stop.Reason);
                        break;
                    case ReopenTrial reopen:
                        await Trial(reopen.TrialId).ReopenAsync();
                        break;
                    case RestoreTrial restore:
                        var trial = Controller.TryGetTrial(restore.TrialId, out var found) ? found : throw NoSuchTrial(restore.TrialId);
                        var from = LatestCheckpoint(trial, replay);
                        var assignment = Assignment(trial.TrialId, Controller.NextAttempt(trial.TrialId), from);
                        await Trial(trial.TrialId).RestoreAsync(assignment, Controller.Spec.Failure.MaxFailures, trial.Failures, restore.Paused);
                        break;
                    case EndExperiment end:
                        await Task.WhenAll(starts);
                        await EndAsync(end.Status, end.Reason);
                        break;
                }
            }

            await Task.WhenAll(starts);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCommandFailed(logger, Id, ex);
        }
    }

    private ITrialGrain Trial(string trialId) => GrainFactory.GetGrain<ITrialGrain>(TrialKeys.Of(Id, trialId));

    private IExperimentRegistryGrain Registry => GrainFactory.GetGrain<IExperimentRegistryGrain>(IExperimentRegistryGrain.ClusterKey);

    /// <summary>What run <paramref name="attempt"/> of a trial needs on a worker.</summary>
    private TrialAssignment Assignment(string trialId, int attempt, CheckpointRef? from)
    {
        var spec = Controller.Spec;
        Controller.TryGetTrial(trialId, out var trial);
        return new TrialAssignment(
            Id, trialId, spec.Trainable, trial.Config, SeededNoise.DeriveSeed(spec.Search.Seed, trial.Index), attempt,
            new ResourceRequest(spec.Resources.Cpu, spec.Resources.Gpu), CheckpointRoot(trialId), spec.Checkpoint.Frequency, spec.Checkpoint.Keep,
            from, Trial(trialId), this.AsReference<IExperimentGrain>(), spec.Custom, TraceParent: _telemetry!.TrialTraceParent(trial));
    }

    private string CheckpointRoot(string trialId) => Path.Combine(_directory!, "trials", trialId, "checkpoints");

    /// <summary>The trial's newest checkpoint at or before the last iteration the journal recorded; null when it has none.</summary>
    private CheckpointRef? LatestCheckpoint(TrialRecord trial, ExperimentReplay? replay) =>
        checkpoints.Latest(CheckpointRoot(trial.TrialId), trial.Iteration) is { } stored
            ? new CheckpointRef(stored.Path, stored.Iteration, replay?.ResultAt(trial.TrialId, stored.Iteration)?.TimeTotalS ?? 0)
            : null;

    /// <summary>A paused trial back in the queue; with population-based training's exploit, from a copy of another trial's latest checkpoint with a new config.</summary>
    private async Task ResumeTrialAsync(ResumeTrial resume)
    {
        CheckpointRef? from = null;
        if (resume.CloneFrom is { } donor)
        {
            from = await CheckpointCopy.FromAsync(Trial(donor), CheckpointRoot(resume.TrialId));
            if (from is null)
            {
                LogNoCheckpointToClone(logger, Id, resume.TrialId, donor);
            }

            Controller.Exploited(resume.TrialId, from?.Iteration, resume.Config, resume.Reason);
        }

        await Trial(resume.TrialId).ResumeAsync(from is null ? null : resume.Config, from);
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
        if (stops.Count > 0)
        {
            _allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var stop in stops.Cast<StopTrial>())
            {
                await Trial(stop.TrialId).StopAsync(stop.Reason);
            }

            if (!controller.AllEnded)
            {
                await Task.WhenAny(_allEnded.Task, Task.Delay(StopGracePeriod, time));
            }
        }

        var paused = controller.FinishEnd();
        foreach (var stop in paused.Cast<StopTrial>())
        {
            await Trial(stop.TrialId).StopAsync(stop.Reason);
        }

        var end = await ExperimentFiles.WriteEndAsync(controller, _outputs!, UpdateDocument, ex => LogWriteFailed(logger, Id, ex));
        _published = true;
        _ended.TrySetResult();
        _events.Hold(end);
        await GrainFactory.GetGrain<IResourceSchedulerGrain>(IResourceSchedulerGrain.ClusterKey).ExperimentEndedAsync(Id);
        await Registry.SetRunningAsync(Id, false);
        using (TunerTelemetry.Within(_telemetry!.Span))
        {
            LogEnded(logger, Id, controller.Status.ToWire(), controller.StatusReason, controller.Counts.GetValueOrDefault(TrialStatus.Terminated), controller.Counts.GetValueOrDefault(TrialStatus.Error));
        }

        _telemetry.EndSpan(controller);
    }

    private ExperimentOutputs NewOutputs(ExperimentSpec spec)
    {
        _telemetry = new ExperimentTelemetry(Id, spec);
        return _outputs = new ExperimentOutputs(Id, _events, _telemetry, logger);
    }

    /// <summary>The spec's result sinks (TensorBoard, MLflow), told the experiment (re)started.</summary>
    private void OpenSinks(DateTimeOffset at, bool resumed)
    {
        _outputs!.Sinks = ResultSinks.For(Controller.Spec, Id, logger);
        _outputs.Sinks.ExperimentStarted(Controller.Spec, _directory!, at, resumed);
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
        if (_outputs?.Writer is { } writer)
        {
            _outputs.Journal?.Flush();
            writer.UpdateExperiment(Controller.Document(Id));
        }
    }

    private ExperimentSnapshot Snapshot(int maxRows)
    {
        var controller = _controller ?? throw new InvalidOperationException($"experiment {Id} has not been started");
        var spec = controller.Spec;
        var best = controller.Best();
        var rows = controller.Trials
            .OrderBy(t => t.Status switch { TrialStatus.Running => 0, TrialStatus.Paused => 1, TrialStatus.Pending => 2, _ => 3 })
            .ThenByDescending(t => t.Status.IsFinal() ? t.Index : -t.Index)
            .Take(Math.Max(maxRows, 0))
            .Select(t => new TrialRow(t.TrialId, t.Status, t.Config, t.Iteration, t.LastMetric, t.Failures, t.Reason, t.Diagnosis, t.Decisions?.Select(d => d.ToString()).ToList(), t.Worker))
            .ToList();
        return new ExperimentSnapshot(
            Id,
            spec.Name,
            _published ? controller.Status : ExperimentStatus.Running,
            _published ? controller.StatusReason : null,
            _directory,
            spec.Metric,
            spec.Mode,
            _totalTrials,
            new Dictionary<TrialStatus, int>(controller.Counts),
            rows,
            best is null ? null : new BestTrial(best.TrialId, best.Config, best.LastResult!),
            controller.ResultsRecorded,
            time.GetElapsedTime(_startTimestamp).TotalSeconds,
            controller.IsSpecError);
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId}: a command to its trials failed")]
    private static partial void LogCommandFailed(ILogger logger, string experimentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: trial {TrialId} resumes from its own checkpoint: {DonorId} has none to copy")]
    private static partial void LogNoCheckpointToClone(ILogger logger, string experimentId, string trialId, string donorId);
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
