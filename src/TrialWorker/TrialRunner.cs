using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Telemetry;
using Tuner.Core.Trainables;
using Tuner.Worker.Checkpoints;
using Tuner.Worker.Isolation;
using Tuner.Worker.Placement;

namespace Tuner.Worker;

/// <summary>
/// Runs one trial on this worker. Trainables that hold native resources (TorchSharp) run in a child
/// process (<see cref="TrialProcessSupervisor"/>); the data-free built-ins run here: set up (restoring
/// the checkpoint on a retry), stepped, every result reported to the experiment and its answer
/// followed, checkpoints saved at the configured frequency. Either way the trial grain learns how
/// the run ended.
/// </summary>
public sealed partial class TrialRunner(
    TrainableRegistry registry,
    TrialProcessSupervisor processes,
    CheckpointStore checkpoints,
    Plugins.TrainableAssemblyCache assemblies,
    Reporting.ResultReporter reporter,
    TimeProvider time,
    ILogger<TrialRunner> logger)
{
    /// <summary>Runs the trial until it finishes, is stopped or fails, and says which; <see cref="ReportOutcomeAsync"/> tells the trial grain.</summary>
    /// <param name="draining">True when a cancellation is the worker's drain: an in-process trainable saves a checkpoint first (a trial process does on SIGTERM anyway).</param>
    public async Task<TrialOutcome> RunAsync(TrialAssignment assignment, string workerId, TrialPlacement placement, CancellationToken cancellationToken, Func<bool>? draining = null)
    {
        // This run's span: a child of the trial's span (the experiment's, carried in the assignment), linked to
        // the scheduler's dispatch that Orleans' activity propagation made the ambient span of the start call.
        var dispatch = Activity.Current;
        using var span = TunerTelemetry.Source.StartActivity(
            "trial.run",
            ActivityKind.Consumer,
            TunerTelemetry.Parse(assignment.TraceParent),
            links: dispatch is null ? null : [new ActivityLink(dispatch.Context)]);
        span?.SetTag("tuner.experiment.id", assignment.ExperimentId).SetTag("tuner.trial.id", assignment.TrialId)
            .SetTag("tuner.trial.attempt", assignment.Attempt).SetTag("tuner.worker", workerId);
        var outcome = await RunCoreAsync(assignment, workerId, placement, draining, cancellationToken);
        if (span is not null)
        {
            span.SetTag("tuner.trial.outcome", outcome.Kind.ToString().ToLowerInvariant()).SetTag("tuner.trial.iteration", outcome.LastIteration);
            if (outcome.Kind == TrialOutcomeKind.Failed)
            {
                span.SetStatus(ActivityStatusCode.Error, outcome.Error);
            }
        }

        return outcome;
    }

    private async Task<TrialOutcome> RunCoreAsync(TrialAssignment assignment, string workerId, TrialPlacement placement, Func<bool>? draining, CancellationToken cancellationToken)
    {
        var iteration = assignment.RestoreFrom?.Iteration ?? 0;
        try
        {
            await assignment.Trial.StartedAsync(workerId, assignment.Attempt);
            switch (assignment.Custom)
            {
                case { IsCommand: true }:
                    return await processes.RunAsync(assignment, placement, cancellationToken);
                case { } library:
                    var loaded = assemblies.Acquire(assignment.ExperimentId, library);
                    try
                    {
                        return await RunHereAsync(loaded, assignment, placement, draining, cancellationToken);
                    }
                    finally
                    {
                        assemblies.Release(assignment.ExperimentId);
                    }
            }

            if (!registry.TryGet(assignment.Trainable, out var descriptor))
            {
                throw new InvalidOperationException($"worker {workerId} has no trainable '{assignment.Trainable}' (it has: {string.Join(", ", registry.Names)})");
            }

            return descriptor.RunsInChildProcess
                ? await processes.RunAsync(assignment, placement, cancellationToken)
                : await RunHereAsync(descriptor, assignment, placement, draining, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
        }
        catch (TrainableLoadException ex)
        {
            return new TrialOutcome(TrialOutcomeKind.Failed, ex.Message, iteration);
        }
        catch (Exception ex)
        {
            return new TrialOutcome(TrialOutcomeKind.Failed, $"{ex.GetType().Name}: {ex.Message}", iteration);
        }
    }

    /// <summary>
    /// Tells the trial grain how the run ended. Called once the worker no longer counts the trial as
    /// running: a failed trial may be granted straight back to this worker for its retry.
    /// </summary>
    public async Task ReportOutcomeAsync(TrialAssignment assignment, TrialOutcome outcome)
    {
        try
        {
            await assignment.Trial.CompleteAsync(outcome with { Attempt = assignment.Attempt });
        }
        catch (Exception ex)
        {
            LogCompleteFailed(logger, assignment.TrialKey, ex);
        }
    }

    private async Task<TrialOutcome> RunHereAsync(TrainableDescriptor descriptor, TrialAssignment assignment, TrialPlacement placement, Func<bool>? draining, CancellationToken cancellationToken)
    {
        var iteration = assignment.RestoreFrom?.Iteration ?? 0;
        var timeBefore = assignment.RestoreFrom?.TimeTotalS ?? 0;
        var started = time.GetTimestamp();
        var sinceRestore = 0L;
        var ahead = assignment.ReportsAhead ? new AheadReports() : null;
        try
        {
            await using var trainable = descriptor.Create();
            await trainable.SetupAsync(new TrialContext(assignment.TrialId, assignment.Config, assignment.Seed, assignment.Attempt, placement.Device, Path.GetDirectoryName(Path.GetFullPath(assignment.CheckpointRoot))), cancellationToken);
            if (assignment.RestoreFrom is { } checkpoint)
            {
                await trainable.RestoreCheckpointAsync(checkpoint.Path, cancellationToken);
            }

            while (true)
            {
                if (cancellationToken.IsCancellationRequested && draining?.Invoke() == true && iteration > (assignment.RestoreFrom?.Iteration ?? 0))
                {
                    // The worker is draining: what was done since the last checkpoint goes with the trial.
                    Directory.CreateDirectory(assignment.CheckpointRoot);
                    await checkpoints.SaveAsync(trainable, assignment, iteration, timeBefore + time.GetElapsedTime(started).TotalSeconds, CancellationToken.None);
                }

                cancellationToken.ThrowIfCancellationRequested();
                StepResult step;
                try
                {
                    step = await trainable.StepAsync(cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Back to the top: a drain saves the last whole iteration there.
                    continue;
                }

                iteration++;
                sinceRestore++;
                var elapsed = timeBefore + time.GetElapsedTime(started).TotalSeconds;

                // A copy: results travel between grains uncopied, and a trainable may reuse its dictionary.
                var metrics = new Dictionary<string, double>(step.Metrics);
                var result = new TrialResult(iteration, elapsed, time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0, metrics, sinceRestore);

                // Report first, checkpoint after: a crash in between replays iterations the experiment already has and drops.
                // Reporting ahead, every answer is in before a checkpoint or the end (no result is ever behind a checkpoint).
                var checkpointDue = assignment.CheckpointFrequency > 0 && iteration % assignment.CheckpointFrequency == 0;
                var command = ahead is null
                    ? await reporter.ReportAsync(assignment, result)
                    : await ahead.ReportAsync(reporter.ReportAsync(assignment, result), drain: step.Done || checkpointDue);
                if (checkpointDue && command != TrialCommand.Stop && !step.Done)
                {
                    Directory.CreateDirectory(assignment.CheckpointRoot);
                    await checkpoints.SaveAsync(trainable, assignment, iteration, elapsed, cancellationToken);
                }

                if (command == TrialCommand.Pause && !step.Done)
                {
                    if (assignment.CheckpointFrequency <= 0 || iteration % assignment.CheckpointFrequency != 0)
                    {
                        Directory.CreateDirectory(assignment.CheckpointRoot);
                        await checkpoints.SaveAsync(trainable, assignment, iteration, elapsed, cancellationToken);
                    }

                    return new TrialOutcome(TrialOutcomeKind.Paused, null, iteration);
                }

                if (command != TrialCommand.Continue)
                {
                    return new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
                }

                if (step.Done)
                {
                    return new TrialOutcome(TrialOutcomeKind.Finished, null, iteration);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
        }
        catch (Exception ex)
        {
            return new TrialOutcome(TrialOutcomeKind.Failed, $"{ex.GetType().Name}: {ex.Message}", iteration);
        }
        finally
        {
            if (ahead is not null)
            {
                // The experiment has every result before it hears how the run ended.
                await ahead.SettleAsync();
            }
        }
    }

    /// <summary>
    /// A trial's reports not yet answered, when it reports ahead (<see cref="TrialAssignment.ReportsAhead"/>): the trainable goes on
    /// while they travel, at most <see cref="MaxAhead"/> at once; a stop among the answers stops it at its next report.
    /// </summary>
    private sealed class AheadReports
    {
        public const int MaxAhead = 64;
        private readonly Queue<Task<TrialCommand>> _pending = new();

        /// <summary>Adds a report; the answer is the first other than continue among those in (all of them when <paramref name="drain"/>).</summary>
        public async Task<TrialCommand> ReportAsync(Task<TrialCommand> answer, bool drain)
        {
            _pending.Enqueue(answer);
            var command = TrialCommand.Continue;
            while (_pending.TryPeek(out var first) && (first.IsCompleted || drain || _pending.Count > MaxAhead))
            {
                var next = await _pending.Dequeue();
                if (command == TrialCommand.Continue)
                {
                    command = next;
                }
            }

            return command;
        }

        /// <summary>Waits for every answer (failures were the run's to see; here they only must be over).</summary>
        public async Task SettleAsync()
        {
            while (_pending.TryDequeue(out var answer))
            {
                try
                {
                    await answer;
                }
                catch (Exception)
                {
                    // The run already ended; its outcome says how.
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not report the end of trial {TrialKey}")]
    private static partial void LogCompleteFailed(ILogger logger, string trialKey, Exception exception);
}
