using Microsoft.Extensions.Logging;
using Tuner.Abstractions.Grains;
using Tuner.Abstractions.Messages;
using Tuner.Core.Experiments;
using Tuner.Core.Trainables;

namespace Tuner.Worker;

/// <summary>
/// Runs one trial on this worker: sets the trainable up (restoring its checkpoint on a retry),
/// steps it, reports every result to the experiment and follows its answer, saves checkpoints
/// at the configured frequency, and tells the trial grain how the run ended.
/// </summary>
public sealed partial class TrialRunner(TrainableRegistry registry, TimeProvider time, ILogger<TrialRunner> logger)
{
    /// <summary>Runs the trial until it finishes, is stopped or fails, and says which; <see cref="ReportOutcomeAsync"/> tells the trial grain.</summary>
    public async Task<TrialOutcome> RunAsync(TrialAssignment assignment, string workerId, CancellationToken cancellationToken)
    {
        var iteration = assignment.RestoreFrom?.Iteration ?? 0;
        var timeBefore = assignment.RestoreFrom?.TimeTotalS ?? 0;
        var started = time.GetTimestamp();
        var outcome = new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
        try
        {
            await assignment.Trial.StartedAsync(workerId, assignment.Attempt);
            if (!registry.TryGet(assignment.Trainable, out var descriptor))
            {
                throw new InvalidOperationException($"worker {workerId} has no trainable '{assignment.Trainable}' (it has: {string.Join(", ", registry.Names)})");
            }

            await using var trainable = descriptor.Create();
            await trainable.SetupAsync(new TrialContext(assignment.TrialId, assignment.Config, assignment.Seed, assignment.Attempt), cancellationToken);
            if (assignment.RestoreFrom is { } checkpoint)
            {
                await trainable.RestoreCheckpointAsync(checkpoint.Path, cancellationToken);
            }

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var step = await trainable.StepAsync(cancellationToken);
                iteration++;
                var elapsed = timeBefore + time.GetElapsedTime(started).TotalSeconds;
                // A copy: results travel between grains uncopied, and a trainable may reuse its dictionary.
                var metrics = new Dictionary<string, double>(step.Metrics);
                var result = new TrialResult(iteration, elapsed, time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0, metrics);

                // Report first, checkpoint after: a crash in between replays iterations the experiment already has and drops.
                var command = await assignment.Experiment.OnTrialResultAsync(assignment.TrialId, result);
                if (assignment.CheckpointFrequency > 0 && iteration % assignment.CheckpointFrequency == 0 && command == TrialCommand.Continue && !step.Done)
                {
                    await SaveCheckpointAsync(trainable, assignment, iteration, elapsed, cancellationToken);
                }

                if (command != TrialCommand.Continue)
                {
                    outcome = new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
                    break;
                }

                if (step.Done)
                {
                    outcome = new TrialOutcome(TrialOutcomeKind.Finished, null, iteration);
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = new TrialOutcome(TrialOutcomeKind.Stopped, null, iteration);
        }
        catch (Exception ex)
        {
            outcome = new TrialOutcome(TrialOutcomeKind.Failed, $"{ex.GetType().Name}: {ex.Message}", iteration);
        }

        return outcome;
    }

    /// <summary>
    /// Tells the trial grain how the run ended. Called once the worker no longer counts the trial as
    /// running: a failed trial may be granted straight back to this worker for its retry.
    /// </summary>
    public async Task ReportOutcomeAsync(TrialAssignment assignment, TrialOutcome outcome)
    {
        try
        {
            await assignment.Trial.CompleteAsync(outcome);
        }
        catch (Exception ex)
        {
            LogCompleteFailed(logger, assignment.TrialKey, ex);
        }
    }

    private static async Task SaveCheckpointAsync(ITrainable trainable, TrialAssignment assignment, long iteration, double elapsed, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(assignment.CheckpointRoot, $"checkpoint_{iteration:D6}");
        var temp = directory + ".tmp";
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        // Written aside and renamed, so a checkpoint folder is always complete; recorded only after.
        await trainable.SaveCheckpointAsync(temp, cancellationToken);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.Move(temp, directory);
        await assignment.Trial.CheckpointedAsync(new CheckpointRef(directory, iteration, elapsed));

        // Older checkpoints go only after the new one is recorded.
        var old = Directory.EnumerateDirectories(assignment.CheckpointRoot, "checkpoint_*")
            .Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .SkipLast(Math.Max(assignment.CheckpointKeep, 1));
        foreach (var stale in old)
        {
            Directory.Delete(stale, recursive: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not report the end of trial {TrialKey}")]
    private static partial void LogCompleteFailed(ILogger logger, string trialKey, Exception exception);
}
