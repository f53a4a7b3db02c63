using Tuner.Core.Trainables;

namespace Tuner.Core.Checkpoints;

/// <summary>
/// Checkpoints in a folder every silo sees: the experiment's run folder on a shared volume (the
/// compose file mounts one at the same path on the scheduler and every worker), one sub-folder per
/// checkpoint named by its iteration (<c>checkpoint_000012</c>), written under a temporary name and
/// renamed into place, so a half-written checkpoint is never found.
/// </summary>
public sealed class SharedFolderCheckpointStore : ICheckpointStore
{
    public async Task<string> SaveAsync(ITrainable trainable, string trialRoot, long iteration, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(trialRoot);
        var directory = Path.Combine(trialRoot, CheckpointFolder.Name(iteration));
        await CheckpointFolder.SaveAsync(trainable, directory, cancellationToken).ConfigureAwait(false);
        return directory;
    }

    public void Prune(string trialRoot, string committed, int keep)
    {
        // By name (checkpoint_000012 sorts by iteration), and only folders older than the committed one:
        // a trial process may already have written newer ones that it has not announced yet.
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(committed)));
        var old = Directory.EnumerateDirectories(trialRoot, "checkpoint_*")
            .Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && string.CompareOrdinal(Path.GetFileName(d), name) < 0)
            .Order(StringComparer.Ordinal)
            .SkipLast(Math.Max(keep, 1) - 1);
        foreach (var stale in old)
        {
            Directory.Delete(stale, recursive: true);
        }
    }

    public StoredCheckpoint? Latest(string trialRoot, long atMost)
    {
        if (!Directory.Exists(trialRoot))
        {
            return null;
        }

        StoredCheckpoint? best = null;
        foreach (var directory in Directory.EnumerateDirectories(trialRoot, "checkpoint_*"))
        {
            if (long.TryParse(Path.GetFileName(directory).AsSpan("checkpoint_".Length), out var iteration) && iteration <= atMost && iteration > (best?.Iteration ?? 0))
            {
                best = new StoredCheckpoint(directory, iteration);
            }
        }

        return best;
    }
}
