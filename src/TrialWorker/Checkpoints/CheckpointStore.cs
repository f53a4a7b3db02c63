using Tuner.Abstractions.Messages;
using Tuner.Core.Trainables;

namespace Tuner.Worker.Checkpoints;

/// <summary>
/// Where trials' checkpoints live: a local folder per trial for now (<c>TrialAssignment.CheckpointRoot</c>),
/// one sub-folder per checkpoint, named by the iteration it ends. A checkpoint counts once the
/// trial grain has recorded it; only then are older ones beyond <c>checkpoint.keep</c> removed.
/// </summary>
public sealed class CheckpointStore
{
    /// <summary>Saves an in-process trainable into its checkpoint folder and commits it.</summary>
    public async Task SaveAsync(ITrainable trainable, TrialAssignment assignment, long iteration, double elapsed, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(assignment.CheckpointRoot, CheckpointFolder.Name(iteration));
        await CheckpointFolder.SaveAsync(trainable, directory, cancellationToken);
        await CommitAsync(assignment, directory, iteration, elapsed);
    }

    /// <summary>Records a complete checkpoint folder with the trial grain, then drops the oldest beyond the number to keep.</summary>
    public async Task CommitAsync(TrialAssignment assignment, string directory, long iteration, double elapsed)
    {
        await assignment.Trial.CheckpointedAsync(new CheckpointRef(directory, iteration, elapsed));
        // Only folders older than this one (by name: checkpoint_000012 sorts by iteration): a trial process
        // may already have written newer ones that it has not announced yet.
        var committed = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        var old = Directory.EnumerateDirectories(assignment.CheckpointRoot, "checkpoint_*")
            .Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && string.CompareOrdinal(Path.GetFileName(d), committed) < 0)
            .Order(StringComparer.Ordinal)
            .SkipLast(Math.Max(assignment.CheckpointKeep, 1) - 1);
        foreach (var stale in old)
        {
            Directory.Delete(stale, recursive: true);
        }
    }
}
