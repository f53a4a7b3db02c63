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
    public static string FolderName(long iteration) => $"checkpoint_{iteration:D6}";

    /// <summary>Saves an in-process trainable into a temporary folder, renames it into place and commits it.</summary>
    public async Task SaveAsync(ITrainable trainable, TrialAssignment assignment, long iteration, double elapsed, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(assignment.CheckpointRoot, FolderName(iteration));
        var temp = directory + ".tmp";
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        await trainable.SaveCheckpointAsync(temp, cancellationToken);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.Move(temp, directory);
        await CommitAsync(assignment, directory, iteration, elapsed);
    }

    /// <summary>Records a complete checkpoint folder with the trial grain, then drops the oldest beyond the number to keep.</summary>
    public async Task CommitAsync(TrialAssignment assignment, string directory, long iteration, double elapsed)
    {
        await assignment.Trial.CheckpointedAsync(new CheckpointRef(directory, iteration, elapsed));
        var old = Directory.EnumerateDirectories(assignment.CheckpointRoot, "checkpoint_*")
            .Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && !string.Equals(Path.GetFullPath(d), Path.GetFullPath(directory), StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .SkipLast(Math.Max(assignment.CheckpointKeep, 1) - 1);
        foreach (var stale in old)
        {
            Directory.Delete(stale, recursive: true);
        }
    }
}
