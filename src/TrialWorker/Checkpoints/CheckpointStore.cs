using System.Diagnostics;
using Tuner.Abstractions.Messages;
using Tuner.Core.Checkpoints;
using Tuner.Core.Telemetry;
using Tuner.Core.Trainables;

namespace Tuner.Worker.Checkpoints;

/// <summary>
/// A worker's side of checkpointing, over the <see cref="ICheckpointStore"/> (a shared folder by
/// default, <c>TrialAssignment.CheckpointRoot</c> per trial): a checkpoint is saved complete, then
/// recorded with the trial grain, and only then are older ones beyond <c>checkpoint.keep</c> removed.
/// </summary>
public sealed class CheckpointStore(ICheckpointStore store)
{
    /// <summary>Saves an in-process trainable into its checkpoint folder and commits it.</summary>
    public Task SaveAsync(ITrainable trainable, TrialAssignment assignment, long iteration, double elapsed, CancellationToken cancellationToken) =>
        TracedAsync(assignment, iteration, async () =>
        {
            var directory = await store.SaveAsync(trainable, assignment.CheckpointRoot, iteration, cancellationToken);
            if (assignment.SyncCheckpoints)
            {
                // durability: fsync. The checkpoint is on the disk before the trial grain counts it.
                SyncToDisk(directory);
            }

            await CommitCoreAsync(assignment, directory, iteration, elapsed);
        });

    /// <summary>Records a complete checkpoint with the trial grain, then drops the oldest beyond the number to keep.</summary>
    public Task CommitAsync(TrialAssignment assignment, string directory, long iteration, double elapsed) =>
        TracedAsync(assignment, iteration, () => CommitCoreAsync(assignment, directory, iteration, elapsed));

    /// <summary>Runs a checkpoint's work in a span under the trial's (carried in the assignment), timing it.</summary>
    private static async Task TracedAsync(TrialAssignment assignment, long iteration, Func<Task> work)
    {
        var started = Stopwatch.GetTimestamp();
        var span = TunerTelemetry.StartDetached("checkpoint", ActivityKind.Internal, TunerTelemetry.Parse(assignment.TraceParent))
            ?.SetTag("tuner.experiment.id", assignment.ExperimentId)
            .SetTag("tuner.trial.id", assignment.TrialId)
            .SetTag("tuner.trial.iteration", iteration);
        try
        {
            await work();
        }
        catch (Exception ex)
        {
            span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
        finally
        {
            TunerTelemetry.CheckpointDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("experiment", assignment.ExperimentId));
            TunerTelemetry.End(span);
        }
    }

    /// <summary>Every file of the checkpoint written through to the disk (fsync).</summary>
    private static void SyncToDisk(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
    }

    private async Task CommitCoreAsync(TrialAssignment assignment, string directory, long iteration, double elapsed)
    {
        await assignment.Trial.CheckpointedAsync(new CheckpointRef(directory, iteration, elapsed));
        store.Prune(assignment.CheckpointRoot, directory, assignment.CheckpointKeep);
    }
}
