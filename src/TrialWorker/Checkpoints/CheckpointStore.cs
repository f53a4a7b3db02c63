using Tuner.Abstractions.Messages;
using Tuner.Core.Checkpoints;
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
    public async Task SaveAsync(ITrainable trainable, TrialAssignment assignment, long iteration, double elapsed, CancellationToken cancellationToken)
    {
        var directory = await store.SaveAsync(trainable, assignment.CheckpointRoot, iteration, cancellationToken);
        await CommitAsync(assignment, directory, iteration, elapsed);
    }

    /// <summary>Records a complete checkpoint with the trial grain, then drops the oldest beyond the number to keep.</summary>
    public async Task CommitAsync(TrialAssignment assignment, string directory, long iteration, double elapsed)
    {
        await assignment.Trial.CheckpointedAsync(new CheckpointRef(directory, iteration, elapsed));
        store.Prune(assignment.CheckpointRoot, directory, assignment.CheckpointKeep);
    }
}
