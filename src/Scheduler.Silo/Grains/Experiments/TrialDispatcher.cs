using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Checkpoints;
using Tuner.Core.Experiments;
using Tuner.Core.Experiments.Control;
using Tuner.Core.Trainables;

namespace Tuner.Scheduler.Grains.Experiments;

/// <summary>
/// Carries out the controller's commands through the trial grains, one batch after another in the order they were
/// decided. The experiment grain hands a batch over and returns: a trial or worker that called it never waits on the
/// calls the batch makes, so the grain call cycle (experiment → trial → resource scheduler → worker → trial →
/// experiment) cannot block. Only the experiment's own callers (a submission, a stop, a resume) wait for a batch.
/// </summary>
internal sealed partial class TrialDispatcher(
    string experimentId,
    IGrainFactory grains,
    IExperimentGrain experiment,
    ExperimentController controller,
    ExperimentTelemetry telemetry,
    ICheckpointStore checkpoints,
    string directory,
    Func<EndExperiment, Task> end,
    ILogger logger)
{
    private Task _tail = Task.CompletedTask;
    private TaskCompletionSource? _allEnded;

    /// <summary>The replayed journal while a restore's commands run: the training time of each restored checkpoint.</summary>
    public ExperimentReplay? Replay { get; set; }

    /// <summary>Runs <paramref name="commands"/> after those dispatched before; the task completes when they have run. Failures are logged.</summary>
    public Task Dispatch(IReadOnlyList<ExperimentCommand> commands) =>
        commands.Count == 0 ? _tail : _tail = RunAfterAsync(_tail, commands);

    public ITrialGrain Trial(string trialId) => GrainReferences.Get<ITrialGrain>(grains, TrialKeys.Of(experimentId, trialId));

    /// <summary>The trial's newest checkpoint at or before the last iteration the experiment recorded; null when it has none.</summary>
    public CheckpointRef? LatestCheckpoint(TrialRecord trial) =>
        checkpoints.Latest(CheckpointRoot(trial.TrialId), trial.Iteration) is { } stored
            ? new CheckpointRef(stored.Path, stored.Iteration, Replay?.ResultAt(trial.TrialId, stored.Iteration)?.TimeTotalS ?? 0)
            : null;

    /// <summary>A trial's latest checkpoint: a live trial's grain knows it; an ended one's grain is gone, and the store has it.</summary>
    public async Task<CheckpointRef?> LatestOfAsync(string trialId)
    {
        var trial = Record(trialId);
        return trial.Status.IsFinal() ? LatestCheckpoint(trial) : (await Trial(trialId).GetAsync()).Checkpoint;
    }

    /// <summary>
    /// The experiment ends: its running trials are stopped and given <paramref name="gracePeriod"/> to report back, then the
    /// controller finishes the end (paused trials end, silent ones are recorded as stopped) and the paused trials' grains are stopped.
    /// </summary>
    public async Task StopAllAsync(IReadOnlyList<ExperimentCommand> stops, TimeSpan gracePeriod, TimeProvider time)
    {
        if (stops.Count > 0)
        {
            _allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            foreach (var stop in stops.Cast<StopTrial>())
            {
                await Trial(stop.TrialId).StopAsync(stop.Reason);
            }

            if (!controller.AllEnded)
            {
                await Task.WhenAny(_allEnded.Task, Task.Delay(gracePeriod, time));
            }
        }

        foreach (var stop in controller.FinishEnd().Cast<StopTrial>())
        {
            await Trial(stop.TrialId).StopAsync(stop.Reason);
        }
    }

    /// <summary>A trial paused or ended: the last one an ending experiment waits for lets it finish.</summary>
    public void TrialEnded()
    {
        if (controller.IsFinishing && controller.AllEnded)
        {
            _allEnded?.TrySetResult();
        }
    }

    private async Task RunAfterAsync(Task previous, IReadOnlyList<ExperimentCommand> commands)
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
                        starts.Add(Trial(start.TrialId).InitializeAsync(Assignment(Record(start.TrialId), 1, null), controller.Spec.Failure.MaxFailures));
                        break;
                    case ResumeTrial resume:
                        await ResumeAsync(resume);
                        break;
                    case StopTrial stop:
                        await Trial(stop.TrialId).StopAsync(stop.Reason);
                        break;
                    case ReopenTrial reopen:
                        var reopened = Record(reopen.TrialId);
                        await Trial(reopen.TrialId).ReopenAsync(Assignment(reopened, reopened.Attempt, LatestCheckpoint(reopened)), controller.Spec.Failure.MaxFailures, reopened.Failures);
                        break;
                    case RestoreTrial restore:
                        // The trial's grain made again as the journal left it: paused, or queued as its next run.
                        var trial = Record(restore.TrialId);
                        var assignment = Assignment(trial, controller.NextAttempt(trial.TrialId), LatestCheckpoint(trial));
                        await Trial(trial.TrialId).RestoreAsync(assignment, controller.Spec.Failure.MaxFailures, trial.Failures, restore.Paused);
                        break;
                    case EndExperiment ending:
                        await Task.WhenAll(starts);
                        await end(ending);
                        break;
                }
            }

            await Task.WhenAll(starts);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogCommandFailed(logger, experimentId, ex);
        }
    }

    private TrialRecord Record(string trialId) =>
        controller.TryGetTrial(trialId, out var trial) ? trial : throw new InvalidOperationException($"experiment {experimentId} has no trial {trialId}");

    private string CheckpointRoot(string trialId) => Path.Combine(directory, "trials", trialId, "checkpoints");

    /// <summary>What run <paramref name="attempt"/> of a trial needs on a worker.</summary>
    private TrialAssignment Assignment(TrialRecord trial, int attempt, CheckpointRef? from)
    {
        var spec = controller.Spec;
        return new TrialAssignment(
            experimentId,
            trial.TrialId,
            spec.Trainable,
            trial.Config,
            SeededNoise.DeriveSeed(spec.Search.Seed, trial.Index),
            attempt,
            new ResourceRequest(spec.Resources.Cpu, spec.Resources.Gpu),
            CheckpointRoot(trial.TrialId),
            spec.Checkpoint.Frequency,
            spec.Checkpoint.Keep,
            from,
            Trial(trial.TrialId),
            experiment,
            spec.Custom,
            TraceParent: telemetry.TrialTraceParent(trial),
            ReportsAhead: controller.AnswersOnlyContinue,
            SyncCheckpoints: spec.Durability == Tuner.Core.Results.Durability.Fsync);
    }

    /// <summary>A paused trial back in the queue; with population-based training's exploit, from a copy of another trial's latest checkpoint with a new config.</summary>
    private async Task ResumeAsync(ResumeTrial resume)
    {
        CheckpointRef? from = null;
        if (resume.CloneFrom is { } donor)
        {
            from = await CheckpointCopy.FromAsync(() => LatestOfAsync(donor), CheckpointRoot(resume.TrialId));
            if (from is null)
            {
                LogNoCheckpointToClone(logger, experimentId, resume.TrialId, donor);
            }

            controller.Exploited(resume.TrialId, from?.Iteration, resume.Config, resume.Reason);
        }

        await Trial(resume.TrialId).ResumeAsync(from is null ? null : resume.Config, from);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Experiment {ExperimentId}: a command to its trials failed")]
    private static partial void LogCommandFailed(ILogger logger, string experimentId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Experiment {ExperimentId}: trial {TrialId} resumes from its own checkpoint: {DonorId} has none to copy")]
    private static partial void LogNoCheckpointToClone(ILogger logger, string experimentId, string trialId, string donorId);
}
