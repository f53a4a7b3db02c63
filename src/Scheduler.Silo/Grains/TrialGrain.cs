using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Space;

namespace Tuner.Scheduler.Grains;

/// <summary>
/// Ray's trial actor. Holds one trial's lifecycle: PENDING while it waits for slots, RUNNING on a
/// worker, then TERMINATED, or ERROR once its failures pass <c>failure.max_failures</c>. A failed
/// run that may be retried goes back to PENDING and restarts from its last checkpoint. Results go
/// from the worker to the experiment, which records them and decides (so the latest result is the
/// experiment's to tell). State lives in memory; after a restart the experiment rebuilds its trials
/// from its journal and initializes their grains again.
/// </summary>
[CollectionAgeLimit(AlwaysActive = true)]
public sealed partial class TrialGrain(ILogger<TrialGrain> logger) : Grain, ITrialGrain
{
    private TrialAssignment? _assignment;
    private int _maxFailures;
    private TrialStatus _status = TrialStatus.Pending;
    private string? _statusReason;
    private string? _workerId;
    private CheckpointRef? _checkpoint;
    private int _failures;
    private string? _stopRequested;

    // Resolved once per activation: GetGrain is not free.
    private IResourceSchedulerGrain? _scheduler;

    private IExperimentGrain Experiment => _assignment!.Experiment;

    private IResourceSchedulerGrain Scheduler => _scheduler ??= GrainReferences.Get<IResourceSchedulerGrain>(GrainFactory, IResourceSchedulerGrain.ClusterKey);

    public async Task InitializeAsync(TrialAssignment assignment, int maxFailures)
    {
        if (_assignment is not null)
        {
            throw new InvalidOperationException($"trial {assignment.TrialKey} was already initialized");
        }

        _assignment = assignment;
        _maxFailures = maxFailures;
        _status = TrialStatus.Pending;
        await Scheduler.SubmitAsync(assignment);
    }

    public async Task RestoreAsync(TrialAssignment assignment, int maxFailures, int failures, bool paused)
    {
        _assignment = assignment;
        _maxFailures = maxFailures;
        _failures = failures;
        _checkpoint = assignment.RestoreFrom;
        _stopRequested = null;
        _statusReason = null;
        _workerId = null;
        _status = paused ? TrialStatus.Paused : TrialStatus.Pending;
        if (!paused)
        {
            await Scheduler.SubmitAsync(assignment);
        }
    }

    public Task StartedAsync(string workerId, int attempt)
    {
        EnsureInitialized();
        if (_status.IsFinal() || attempt != _assignment!.Attempt)
        {
            // Ended, or a start from an attempt this trial has already moved past.
            return Task.CompletedTask;
        }

        _status = TrialStatus.Running;
        _workerId = workerId;
        return Experiment.OnTrialStartedAsync(_assignment!.TrialId, workerId, attempt);
    }

    public Task CheckpointedAsync(CheckpointRef checkpoint)
    {
        if (_checkpoint is null || checkpoint.Iteration >= _checkpoint.Iteration)
        {
            _checkpoint = checkpoint;
        }

        return Task.CompletedTask;
    }

    public async Task CompleteAsync(TrialOutcome outcome)
    {
        EnsureInitialized();
        if (_status.IsFinal() || (outcome.Attempt != 0 && outcome.Attempt != _assignment!.Attempt))
        {
            // Ended, or the end of a run this trial has moved past (a worker that lost its lease).
            return;
        }

        _workerId = null;
        if (outcome.Kind == TrialOutcomeKind.Failed && _stopRequested is null && _failures < _maxFailures)
        {
            _failures++;
            LogRetrying(logger, _assignment!.TrialKey, _failures, _maxFailures, _checkpoint?.Iteration ?? 0);
            await RequeueAsync(outcome.Error ?? "failed");
            return;
        }

        if (outcome.Kind == TrialOutcomeKind.HandedBack && _stopRequested is null)
        {
            // A draining worker gave it back after a checkpoint: queued again, from there, on another worker.
            await RequeueAsync(outcome.Error ?? "handed back by its worker");
            return;
        }

        if (outcome.Kind == TrialOutcomeKind.Paused && _stopRequested is null)
        {
            // The experiment hears first (it may resume this very trial, which queues behind this call), then the slot is freed.
            _status = TrialStatus.Paused;
            await Experiment.OnTrialPausedAsync(_assignment!.TrialId);
            await Scheduler.ReleaseAsync(_assignment.TrialKey);
            return;
        }

        _status = outcome.Kind == TrialOutcomeKind.Failed ? TrialStatus.Error : TrialStatus.Terminated;
        _statusReason = outcome.Kind == TrialOutcomeKind.Failed
            ? (_failures > 0 ? $"failed {_failures + 1} times (max_failures {_maxFailures}); last error: {outcome.Error}" : outcome.Error)
            : _stopRequested;

        // The experiment hears of the end before the slot is free, so it never counts more trials
        // running than there are slots (the next trial on this slot may report at once).
        await Experiment.OnTrialEndedAsync(_assignment!.TrialId, _status, _statusReason);
        await Scheduler.ReleaseAsync(_assignment.TrialKey);
        Finished();
    }

    /// <summary>
    /// The trial has ended: its grain leaves memory once idle, so a run of 100,000 trials holds the grains of the live ones
    /// only. What is left to tell of it the experiment's record tells; a resume of a stopped experiment makes it again.
    /// </summary>
    private void Finished() => DeactivateOnIdle();

    public Task RunFailedAsync(TrialOutcome outcome) => CompleteAsync(outcome);

    /// <summary>PENDING again as a new run from the last checkpoint: the experiment hears why, the slot is freed, the run is queued.</summary>
    private async Task RequeueAsync(string reason)
    {
        _status = TrialStatus.Pending;
        _statusReason = reason;
        _assignment = _assignment! with { Attempt = _assignment.Attempt + 1, RestoreFrom = _checkpoint };
        await Experiment.OnTrialRetryingAsync(_assignment.TrialId, _failures, reason, _assignment.Attempt);
        await Scheduler.ReleaseAsync(_assignment.TrialKey);
        await Scheduler.SubmitAsync(_assignment);
    }

    public async Task ResumeAsync(TrialConfig? config, CheckpointRef? restoreFrom)
    {
        EnsureInitialized();
        if (_status != TrialStatus.Paused)
        {
            throw new InvalidOperationException($"trial {_assignment!.TrialKey} is {_status.ToWire()}, not PAUSED: it cannot be resumed");
        }

        if (restoreFrom is not null)
        {
            // A copy of another trial's checkpoint (population-based training): the trial goes on from there.
            _checkpoint = restoreFrom;
        }

        _status = TrialStatus.Pending;
        _assignment = _assignment! with { Attempt = _assignment.Attempt + 1, RestoreFrom = _checkpoint, Config = config ?? _assignment.Config };
        await Scheduler.SubmitAsync(_assignment);
    }

    public async Task StopAsync(string reason)
    {
        if (_assignment is null || _status.IsFinal() || _stopRequested is not null)
        {
            if (_assignment is null)
            {
                // An ended trial's grain, made again by this call: nothing to stop, and nothing to keep.
                Finished();
            }

            return;
        }

        if (_status == TrialStatus.Paused)
        {
            // It holds no slot and runs nowhere.
            _status = TrialStatus.Terminated;
            _statusReason = reason;
            Finished();
            return;
        }

        _stopRequested = reason;
        var dequeued = await Scheduler.CancelAsync(_assignment.TrialKey, reason);
        if (dequeued && !_status.IsFinal())
        {
            // It never ran: nothing will report back, so it ends here.
            _status = TrialStatus.Terminated;
            _statusReason = reason;
            await Experiment.OnTrialEndedAsync(_assignment.TrialId, _status, reason);
            Finished();
        }
    }

    public Task ReopenAsync(TrialAssignment assignment, int maxFailures, int failures)
    {
        if (_assignment is null)
        {
            _assignment = assignment;
            _maxFailures = maxFailures;
            _failures = failures;
            _checkpoint = assignment.RestoreFrom;
            _status = TrialStatus.Terminated;
        }

        if (_status is TrialStatus.Terminated or TrialStatus.Paused)
        {
            _status = TrialStatus.Paused;
            _stopRequested = null;
            _statusReason = null;
        }

        return Task.CompletedTask;
    }

    public Task<TrialInfo> GetAsync()
    {
        EnsureInitialized();
        return Task.FromResult(new TrialInfo(
            _assignment!.ExperimentId,
            _assignment.TrialId,
            _status,
            _assignment.Config,
            0,
            null,
            _checkpoint,
            _failures,
            _workerId,
            _statusReason));
    }

    private void EnsureInitialized()
    {
        if (_assignment is null)
        {
            Finished();
            throw new InvalidOperationException($"trial {this.GetPrimaryKeyString()} does not exist");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trial {TrialKey} failed ({Failures}/{MaxFailures}); retrying from iteration {Iteration}")]
    private static partial void LogRetrying(ILogger logger, string trialKey, int failures, int maxFailures, long iteration);
}
